"""Semantic-patch instructions that change one environment's targeting of a flag.

Each takes the environment's configuration (a private copy) and the instruction, and edits the
copy; a broken instruction raises before the copy is stored. Parameter names and defaults are
LaunchDarkly's: ``variationId`` names a variation by its ``_id``, rollout weights are thousandths
of a percent, and ``contextKind`` defaults to ``user``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from mockserver.vendors.launchdarkly import flag_rules, flags
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid

USER = "user"


class Targeting:
    """One environment of a flag document being changed."""

    def __init__(self, state: dict[str, Any], project_key: str, doc: dict[str, Any], env_key: str) -> None:
        self.state = state
        self.project_key = project_key
        self.doc = doc
        self.config = doc["environments"][env_key]

    # -- parameters -------------------------------------------------------------------------------

    def variation(self, ins: dict[str, Any], name: str = "variationId", row: dict[str, Any] | None = None) -> int:
        flag_row = row or self.doc
        value = ins.get(name)
        if not isinstance(value, str):
            raise invalid(f"{name} is required: the _id of one of the flag's variations")
        index = m.variation_index(flag_row, value)
        if index is None:
            raise invalid(f"{name} '{value}' is not a variation of flag '{flag_row['key']}'")
        return index

    def rule(self, ins: dict[str, Any], name: str = "ruleId") -> dict[str, Any]:
        rule_id = ins.get(name)
        if not isinstance(rule_id, str):
            raise invalid(f"{name} is required: the _id of one of the flag's rules in this environment")
        rule = m.find_rule(self.config, rule_id)
        if rule is None:
            raise invalid(f"{name} '{rule_id}' is not a rule of this flag in this environment")
        return rule

    def serve(self, ins: dict[str, Any]) -> dict[str, Any]:
        """{"variation": i} or {"rollout": {...}} from variationId or rolloutWeights."""
        weights = ins.get("rolloutWeights")
        has_variation = ins.get("variationId") is not None
        if has_variation == (weights is not None):
            raise invalid("give either variationId or rolloutWeights (a map of variation _id to weight)")
        if has_variation:
            return {"variation": self.variation(ins)}
        if not isinstance(weights, dict) or not weights:
            raise invalid("rolloutWeights must map variation _ids to weights in thousandths of a percent")
        entries = []
        for variation_id, weight in weights.items():
            index = m.variation_index(self.doc, variation_id)
            if index is None:
                raise invalid(f"rolloutWeights: '{variation_id}' is not a variation of flag '{self.doc['key']}'")
            if type(weight) is not int or not 0 <= weight <= flag_rules.FULL_WEIGHT:
                raise invalid(f"rolloutWeights: weights are whole numbers from 0 to {flag_rules.FULL_WEIGHT}")
            entries.append({"variation": index, "weight": weight})
        total = sum(e["weight"] for e in entries)
        if total != flag_rules.FULL_WEIGHT:
            raise invalid(f"rolloutWeights must add up to {flag_rules.FULL_WEIGHT} (100%); they add up to {total}")
        rollout: dict[str, Any] = {"variations": sorted(entries, key=lambda e: e["variation"])}
        bucket_by = ins.get("rolloutBucketBy")
        if bucket_by is not None:
            rollout["bucketBy"] = param_text(bucket_by, "rolloutBucketBy")
        rollout["contextKind"] = param_text(ins.get("rolloutContextKind", USER), "rolloutContextKind")
        return {"rollout": rollout}

    def clauses(self, raw: Any, name: str = "clauses") -> list[dict[str, Any]]:
        if not isinstance(raw, list):
            raise invalid(f"{name} must be a list of clause objects")
        return [self.clause(item, f"{name}[{i}]") for i, item in enumerate(raw)]

    def clause(self, raw: Any, where: str = "clause") -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise invalid(f"{where} must be a clause object with attribute, op, values")
        clause = {
            "_id": flags.new_id(self.state),
            "attribute": raw.get("attribute"),
            "op": raw.get("op"),
            "values": copy.deepcopy(raw.get("values")),
            "contextKind": raw.get("contextKind", USER),
            "negate": raw.get("negate", False),
        }
        flag_rules.check_clause(clause, where)
        return clause

    def new_rule(self, raw: dict[str, Any], where: str = "rule") -> dict[str, Any]:
        rule: dict[str, Any] = {"_id": flags.new_id(self.state)}
        rule.update(self.serve(raw))
        rule["clauses"] = self.clauses(raw.get("clauses", []), f"{where}.clauses")
        rule["trackEvents"] = param_bool(raw.get("trackEvents", False), "trackEvents")
        for text in ("description", "ref"):
            if raw.get(text) is not None:
                rule[text] = param_text(raw[text], text, empty=True)
        return rule

    def _list(self, kind: str) -> list[dict[str, Any]]:
        return self.config.setdefault("targets" if kind == USER else "contextTargets", [])

    def _entry(self, kind: str, index: int) -> dict[str, Any]:
        entries = self._list(kind)
        for entry in entries:
            if entry["variation"] == index and entry.get("contextKind", USER) == kind:
                return entry
        entry = {"contextKind": kind, "variation": index, "values": []}
        entries.append(entry)
        entries.sort(key=lambda e: e["variation"])
        return entry

    def _prune(self) -> None:
        for name in ("targets", "contextTargets"):
            self.config[name] = [t for t in self.config.get(name, []) if t["values"]]

    # -- on and off -------------------------------------------------------------------------------

    def turn_flag_on(self, ins: dict[str, Any]) -> None:
        self.config["on"] = True

    def turn_flag_off(self, ins: dict[str, Any]) -> None:
        self.config["on"] = False

    # -- rules and clauses ------------------------------------------------------------------------

    def add_rule(self, ins: dict[str, Any]) -> None:
        rule = self.new_rule(ins)
        rules = self.config.setdefault("rules", [])
        before = ins.get("beforeRuleId")
        if before is None:
            rules.append(rule)
            return
        target = self.rule(ins, "beforeRuleId")
        rules.insert(rules.index(target), rule)

    def remove_rule(self, ins: dict[str, Any]) -> None:
        rule_id = param_text(ins.get("ruleId"), "ruleId")
        self.config["rules"] = [r for r in self.config.get("rules", []) if r.get("_id") != rule_id]

    def reorder_rules(self, ins: dict[str, Any]) -> None:
        ids = param_strings(ins.get("ruleIds"), "ruleIds")
        rules = self.config.get("rules", [])
        if sorted(ids) != sorted(r["_id"] for r in rules):
            raise invalid("ruleIds must list the _id of every rule of the flag in this environment, once each")
        by_id = {r["_id"]: r for r in rules}
        self.config["rules"] = [by_id[i] for i in ids]

    def replace_rules(self, ins: dict[str, Any]) -> None:
        raw = ins.get("rules")
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            raise invalid("rules must be a list of rule objects")
        self.config["rules"] = [self.new_rule(r, f"rules[{i}]") for i, r in enumerate(raw)]

    def add_clauses(self, ins: dict[str, Any]) -> None:
        rule = self.rule(ins)
        rule["clauses"].extend(self.clauses(ins.get("clauses")))

    def remove_clauses(self, ins: dict[str, Any]) -> None:
        rule = self.rule(ins)
        ids = param_strings(ins.get("clauseIds"), "clauseIds")
        known = {c["_id"] for c in rule["clauses"]}
        for clause_id in ids:
            if clause_id not in known:
                raise invalid(f"clauseIds: '{clause_id}' is not a clause of rule '{rule['_id']}'")
        rule["clauses"] = [c for c in rule["clauses"] if c["_id"] not in ids]

    def _clause(self, ins: dict[str, Any]) -> dict[str, Any]:
        rule = self.rule(ins)
        clause_id = param_text(ins.get("clauseId"), "clauseId")
        for clause in rule["clauses"]:
            if clause["_id"] == clause_id:
                return clause
        raise invalid(f"clauseId '{clause_id}' is not a clause of rule '{rule['_id']}'")

    def update_clause(self, ins: dict[str, Any]) -> None:
        clause = self._clause(ins)
        fresh = self.clause(ins.get("clause"))
        fresh["_id"] = clause["_id"]
        clause.clear()
        clause.update(fresh)

    def add_values_to_clause(self, ins: dict[str, Any]) -> None:
        clause = self._clause(ins)
        values = param_values(ins.get("values"))
        present = {_value_key(v) for v in clause["values"]}  # a set: one pass, not one per value
        for value in values:
            if (key := _value_key(value)) not in present:
                present.add(key)
                clause["values"].append(value)

    def remove_values_from_clause(self, ins: dict[str, Any]) -> None:
        clause = self._clause(ins)
        dropped = {_value_key(v) for v in param_values(ins.get("values"))}
        clause["values"] = [v for v in clause["values"] if _value_key(v) not in dropped]

    def update_rule_description(self, ins: dict[str, Any]) -> None:
        self.rule(ins)["description"] = param_text(ins.get("description"), "description", empty=True)

    def update_rule_track_events(self, ins: dict[str, Any]) -> None:
        self.rule(ins)["trackEvents"] = param_bool(ins.get("trackEvents"), "trackEvents")

    def update_rule_variation_or_rollout(self, ins: dict[str, Any]) -> None:
        rule = self.rule(ins)
        serve = self.serve(ins)
        rule.pop("variation", None)
        rule.pop("rollout", None)
        rule.update(serve)

    # -- default rule, off variation, events -------------------------------------------------------

    def update_fallthrough_variation_or_rollout(self, ins: dict[str, Any]) -> None:
        self.config["fallthrough"] = self.serve(ins)

    def update_off_variation(self, ins: dict[str, Any]) -> None:
        self.config["offVariation"] = self.variation(ins)

    def update_track_events(self, ins: dict[str, Any]) -> None:
        self.config["trackEvents"] = param_bool(ins.get("trackEvents"), "trackEvents")

    def update_track_events_fallthrough(self, ins: dict[str, Any]) -> None:
        self.config["trackEventsFallthrough"] = param_bool(ins.get("trackEvents"), "trackEvents")

    # -- individual targets -----------------------------------------------------------------------

    def add_targets(self, ins: dict[str, Any], kind: str | None = None) -> None:
        kind = kind or param_text(ins.get("contextKind", USER), "contextKind")
        values = param_strings(ins.get("values"), "values")
        entry = self._entry(kind, self.variation(ins))
        present = {_value_key(v) for v in entry["values"]}  # a set: one pass, not one per value
        entry["values"].extend(v for v in dict.fromkeys(values) if _value_key(v) not in present)

    def add_user_targets(self, ins: dict[str, Any]) -> None:
        self.add_targets(ins, USER)

    def remove_targets(self, ins: dict[str, Any], kind: str | None = None) -> None:
        kind = kind or param_text(ins.get("contextKind", USER), "contextKind")
        values = param_strings(ins.get("values"), "values")
        entry = self._entry(kind, self.variation(ins))
        dropped = {_value_key(v) for v in values}
        entry["values"] = [v for v in entry["values"] if _value_key(v) not in dropped]
        self._prune()

    def remove_user_targets(self, ins: dict[str, Any]) -> None:
        self.remove_targets(ins, USER)

    def clear_targets(self, ins: dict[str, Any]) -> None:
        index = self.variation(ins)
        for name in ("targets", "contextTargets"):
            self.config[name] = [t for t in self.config.get(name, []) if t["variation"] != index]

    def clear_user_targets(self, ins: dict[str, Any]) -> None:
        index = self.variation(ins)
        self.config["targets"] = [t for t in self.config.get("targets", []) if t["variation"] != index]

    def replace_targets(self, ins: dict[str, Any]) -> None:
        raw = param_objects(ins.get("targets"), "targets")
        self.config["targets"], self.config["contextTargets"] = [], []
        for item in raw:
            self.add_targets(item, param_text(item.get("contextKind", USER), "targets[].contextKind"))
        self._prune()

    def replace_user_targets(self, ins: dict[str, Any]) -> None:
        raw = param_objects(ins.get("targets"), "targets")
        self.config["targets"] = []
        served = {self.variation(item) for item in raw}
        missing = [v.get("name") or v["_id"] for i, v in enumerate(self.doc["variations"]) if i not in served]
        if missing:
            raise invalid(
                f"targets must include an entry for each variation of the flag; missing: {', '.join(missing)}"
            )
        for item in raw:
            self.add_targets(item, USER)
        self._prune()

    # -- prerequisites ----------------------------------------------------------------------------

    def _prerequisite(self, ins: dict[str, Any]) -> dict[str, Any]:
        key = param_text(ins.get("key"), "key")
        other = self.state["flags"].get(m.scoped(self.project_key, key))
        if other is None:
            raise invalid(f"key: unknown flag '{key}' in project '{self.project_key}'")
        return {"key": key, "variation": self.variation(ins, "variationId", other)}

    def add_prerequisite(self, ins: dict[str, Any]) -> None:
        prerequisite = self._prerequisite(ins)
        prerequisites = self.config.setdefault("prerequisites", [])
        if any(p["key"] == prerequisite["key"] for p in prerequisites):
            raise invalid(f"Flag '{prerequisite['key']}' is already a prerequisite; use updatePrerequisite")
        prerequisites.append(prerequisite)

    def remove_prerequisite(self, ins: dict[str, Any]) -> None:
        key = param_text(ins.get("key"), "key")
        self.config["prerequisites"] = [p for p in self.config.get("prerequisites", []) if p["key"] != key]

    def update_prerequisite(self, ins: dict[str, Any]) -> None:
        prerequisite = self._prerequisite(ins)
        for existing in self.config.get("prerequisites", []):
            if existing["key"] == prerequisite["key"]:
                existing["variation"] = prerequisite["variation"]
                return
        raise invalid(f"Flag '{prerequisite['key']}' is not a prerequisite of this flag here; use addPrerequisite")

    def replace_prerequisites(self, ins: dict[str, Any]) -> None:
        raw = param_objects(ins.get("prerequisites"), "prerequisites")
        self.config["prerequisites"] = [self._prerequisite(item) for item in raw]


# -- parameter readers --------------------------------------------------------------------------


def param_text(value: Any, name: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise invalid(f"{name} must be a{'' if empty else ' non-empty'} string")
    return value


def param_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(f"{name} must be true or false")
    return value


def param_strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"{name} must be a list of strings")
    return value


def param_values(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise invalid("values must be a list")
    return copy.deepcopy(value)


def param_objects(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise invalid(f"{name} must be a list of objects")
    return value


INSTRUCTIONS: dict[str, Callable[[Targeting, dict[str, Any]], None]] = {
    "turnFlagOn": Targeting.turn_flag_on,
    "turnFlagOff": Targeting.turn_flag_off,
    "addRule": Targeting.add_rule,
    "removeRule": Targeting.remove_rule,
    "reorderRules": Targeting.reorder_rules,
    "replaceRules": Targeting.replace_rules,
    "addClauses": Targeting.add_clauses,
    "removeClauses": Targeting.remove_clauses,
    "updateClause": Targeting.update_clause,
    "addValuesToClause": Targeting.add_values_to_clause,
    "removeValuesFromClause": Targeting.remove_values_from_clause,
    "updateRuleDescription": Targeting.update_rule_description,
    "updateRuleTrackEvents": Targeting.update_rule_track_events,
    "updateRuleVariationOrRollout": Targeting.update_rule_variation_or_rollout,
    "updateFallthroughVariationOrRollout": Targeting.update_fallthrough_variation_or_rollout,
    "updateOffVariation": Targeting.update_off_variation,
    "updateTrackEvents": Targeting.update_track_events,
    "updateTrackEventsFallthrough": Targeting.update_track_events_fallthrough,
    "addTargets": Targeting.add_targets,
    "addUserTargets": Targeting.add_user_targets,
    "removeTargets": Targeting.remove_targets,
    "removeUserTargets": Targeting.remove_user_targets,
    "clearTargets": Targeting.clear_targets,
    "clearUserTargets": Targeting.clear_user_targets,
    "replaceTargets": Targeting.replace_targets,
    "replaceUserTargets": Targeting.replace_user_targets,
    "addPrerequisite": Targeting.add_prerequisite,
    "removePrerequisite": Targeting.remove_prerequisite,
    "updatePrerequisite": Targeting.update_prerequisite,
    "replacePrerequisites": Targeting.replace_prerequisites,
}


def _value_key(value: Any) -> str:
    """A clause value as a set member (values may be any JSON): equal JSON, one key."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
