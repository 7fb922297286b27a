"""Feature flags: the rules every flag satisfies, creation, deletion, and storing a changed flag.

Every way of changing a flag (JSON Patch, JSON merge patch, semantic patch) produces a candidate
document; ``commit`` checks it against the same rules, the experiments and flags that depend on
it, and the contract, then stores it (or, for a dry run, only answers with it).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from mockserver.core.contract import shared_contract
from mockserver.core.store import next_uuid
from mockserver.vendors.launchdarkly import flag_dependents, legacy_experiments, serializers
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import already_exists, invalid

INTERNAL = ("projectKey",)
# Fields a change may touch: the flag's own, and each environment's targeting.
PATCHABLE = (
    "name",
    "description",
    "tags",
    "temporary",
    "archived",
    "deprecated",
    "experiments",
    "customProperties",
    "variations",
    "defaults",
    "clientSideAvailability",
    "includeInSnippet",
    "maintainerId",
    "maintainerTeamKey",
    "goalIds",
)
PATCHABLE_ENV = (
    "on",
    "fallthrough",
    "offVariation",
    "rules",
    "targets",
    "contextTargets",
    "prerequisites",
    "trackEvents",
    "trackEventsFallthrough",
)
CLAUSE_OPS = (
    "in",
    "endsWith",
    "startsWith",
    "matches",
    "contains",
    "lessThan",
    "lessThanOrEqual",
    "greaterThan",
    "greaterThanOrEqual",
    "before",
    "after",
    "segmentMatch",
    "semVerEqual",
    "semVerLessThan",
    "semVerGreaterThan",
)
FULL_WEIGHT = 100_000  # rollout weights are thousandths of a percent
MIGRATION_STAGES = {
    2: ["off", "complete"],
    4: ["off", "shadow", "live", "complete"],
    6: ["off", "dualwrite", "shadow", "live", "rampdown", "complete"],
}


def document(row: dict[str, Any]) -> dict[str, Any]:
    """The flag as changes see it: a private copy without the store's own bookkeeping."""
    return {k: copy.deepcopy(v) for k, v in row.items() if k not in INTERNAL}


def member_ids(state: dict[str, Any]) -> list[str]:
    """Account members' ids, whether the state lists bare ids or member records."""
    members = state.get("members") or []
    values = members.values() if isinstance(members, dict) else members
    return [v if isinstance(v, str) else v.get("_id") for v in values]


def canonical(value: Any) -> str:
    """Variation values compare as JSON: 1 and true differ, key order does not matter."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def value_family(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "JSON"


def new_id(state: dict[str, Any]) -> str:
    return next_uuid(state)


# -- the rules ----------------------------------------------------------------------------------


def _is_index(value: Any, count: int) -> bool:
    return type(value) is int and 0 <= value < count


def _check_variations(doc: dict[str, Any]) -> None:
    variations = doc.get("variations")
    if not isinstance(variations, list) or not all(isinstance(v, dict) for v in variations):
        raise invalid("variations must be a list of variation objects")
    if len(variations) < 2:
        raise invalid("A flag needs at least two variations")
    seen_values: dict[str, int] = {}
    seen_ids: set[str] = set()
    for index, variation in enumerate(variations):
        if "value" not in variation:
            raise invalid(f"variations[{index}] needs a value")
        for text in ("name", "description"):
            if text in variation and not isinstance(variation[text], str):
                raise invalid(f"variations[{index}].{text} must be a string")
        if not isinstance(variation.get("_id"), str) or variation["_id"] in seen_ids:
            raise invalid(f"variations[{index}]._id must be a string no other variation uses")
        seen_ids.add(variation["_id"])
        key = canonical(variation["value"])
        if key in seen_values:
            raise invalid(
                f"Variation values must be unique: variations[{index}] repeats variations[{seen_values[key]}]"
            )
        seen_values[key] = index
    families = {value_family(v["value"]) for v in variations}
    if doc.get("kind") == "boolean":
        if sorted(seen_values) != ["false", "true"]:
            raise invalid("A boolean flag has exactly two variations, true and false")
    elif len(families) > 1:
        raise invalid(f"All variations of a flag must have the same type; found {', '.join(sorted(families))}")


def _check_rollout(rollout: Any, count: int, where: str) -> None:
    if not isinstance(rollout, dict) or not isinstance(rollout.get("variations"), list) or not rollout["variations"]:
        raise invalid(f"{where}.rollout needs variations: [{{variation, weight}}]")
    total = 0
    seen: set[int] = set()
    for item in rollout["variations"]:
        if not isinstance(item, dict) or not _is_index(item.get("variation"), count):
            raise invalid(f"{where}.rollout.variations: each entry needs variation, an index below {count}")
        weight = item.get("weight")
        if type(weight) is not int or not 0 <= weight <= FULL_WEIGHT:
            raise invalid(f"{where}.rollout weights are whole numbers from 0 to {FULL_WEIGHT}")
        if item["variation"] in seen:
            raise invalid(f"{where}.rollout lists variation {item['variation']} twice")
        seen.add(item["variation"])
        total += weight
    if total != FULL_WEIGHT:
        raise invalid(f"{where}.rollout weights must add up to {FULL_WEIGHT} (100%); they add up to {total}")
    for text in ("bucketBy", "contextKind"):
        if text in rollout and not isinstance(rollout[text], str):
            raise invalid(f"{where}.rollout.{text} must be a string")


def check_serve(serve: Any, count: int, where: str) -> None:
    """A fallthrough or rule serves one variation or a percentage rollout, not both."""
    if not isinstance(serve, dict):
        raise invalid(f"{where} must be an object with variation or rollout")
    has_variation, has_rollout = serve.get("variation") is not None, serve.get("rollout") is not None
    if has_variation == has_rollout:
        raise invalid(f"{where} must serve either a variation or a rollout")
    if has_variation and not _is_index(serve["variation"], count):
        raise invalid(f"{where}.variation must be a variation index below {count}")
    if has_rollout:
        _check_rollout(serve["rollout"], count, where)


def check_clause(clause: Any, where: str) -> None:
    if not isinstance(clause, dict):
        raise invalid(f"{where} must be a clause object")
    if not isinstance(clause.get("attribute"), str) or not clause["attribute"]:
        raise invalid(f"{where}.attribute must be a non-empty string")
    if clause.get("op") not in CLAUSE_OPS:
        raise invalid(f"{where}.op must be one of {', '.join(CLAUSE_OPS)}")
    if not isinstance(clause.get("values"), list):
        raise invalid(f"{where}.values must be a list")
    if not isinstance(clause.get("negate"), bool):
        raise invalid(f"{where}.negate must be true or false")
    if "contextKind" in clause and not isinstance(clause["contextKind"], str):
        raise invalid(f"{where}.contextKind must be a string")


def _check_rules(rules: Any, count: int, where: str) -> None:
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise invalid(f"{where}.rules must be a list of rule objects")
    ids: set[str] = set()
    for index, rule in enumerate(rules):
        at = f"{where}.rules[{index}]"
        if not isinstance(rule.get("_id"), str) or rule["_id"] in ids:
            raise invalid(f"{at}._id must be a string no other rule uses")
        ids.add(rule["_id"])
        check_serve(rule, count, at)
        if not isinstance(rule.get("clauses"), list):
            raise invalid(f"{at}.clauses must be a list")
        clause_ids: set[str] = set()
        for position, clause in enumerate(rule["clauses"]):
            check_clause(clause, f"{at}.clauses[{position}]")
            if not isinstance(clause.get("_id"), str) or clause["_id"] in clause_ids:
                raise invalid(f"{at}.clauses[{position}]._id must be a string no other clause of the rule uses")
            clause_ids.add(clause["_id"])
        if not isinstance(rule.get("trackEvents"), bool):
            raise invalid(f"{at}.trackEvents must be true or false")
        for text in ("description", "ref"):
            if text in rule and not isinstance(rule[text], str):
                raise invalid(f"{at}.{text} must be a string")
        if "disabled" in rule and not isinstance(rule["disabled"], bool):
            raise invalid(f"{at}.disabled must be true or false")


def _check_targets(config: dict[str, Any], count: int, where: str) -> None:
    served: dict[tuple[str, str], int] = {}
    for field in ("targets", "contextTargets"):
        targets = config.get(field, [])
        if not isinstance(targets, list):
            raise invalid(f"{where}.{field} must be a list")
        for index, target in enumerate(targets):
            at = f"{where}.{field}[{index}]"
            if not isinstance(target, dict) or not _is_index(target.get("variation"), count):
                raise invalid(f"{at} needs variation, an index below {count}")
            values = target.get("values")
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise invalid(f"{at}.values must be a list of context keys")
            kind = target.get("contextKind", "user")
            if not isinstance(kind, str) or not kind:
                raise invalid(f"{at}.contextKind must be a context kind key")
            if field == "targets" and kind != "user":
                raise invalid(f"{at}: targets holds user targets; put '{kind}' targets in contextTargets")
            for key in values:
                other = served.setdefault((kind, key), target["variation"])
                if other != target["variation"]:
                    raise invalid(
                        f"Context key '{key}' ({kind}) is targeted in more than one variation; "
                        "a context can be an individual target of one variation only"
                    )


def _check_prerequisites(
    state: dict[str, Any], project_key: str, flag_key: str, env_key: str, config: dict[str, Any], old: list
) -> None:
    where = f"environments.{env_key}.prerequisites"
    prerequisites = config.get("prerequisites", [])
    if not isinstance(prerequisites, list):
        raise invalid(f"{where} must be a list")
    known = {p.get("key") for p in old if isinstance(p, dict)}
    seen: set[str] = set()
    for index, prerequisite in enumerate(prerequisites):
        at = f"{where}[{index}]"
        if not isinstance(prerequisite, dict) or not isinstance(prerequisite.get("key"), str):
            raise invalid(f"{at} needs key, the key of another flag")
        key = prerequisite["key"]
        if key == flag_key:
            raise invalid(f"{at}: a flag cannot be its own prerequisite")
        if key in seen:
            raise invalid(f"{at}: flag '{key}' is already a prerequisite")
        seen.add(key)
        other = state["flags"].get(m.scoped(project_key, key))
        if other is None:
            raise invalid(f"{at}: unknown flag '{key}' in project '{project_key}'")
        if not _is_index(prerequisite.get("variation"), len(other["variations"])):
            raise invalid(
                f"{at}.variation must be a variation index of flag '{key}' (below {len(other['variations'])})"
            )
        if key not in known:
            if other["archived"]:
                raise invalid(f"{at}: flag '{key}' is archived and cannot be a prerequisite")
            if flag_dependents.reaches(state, project_key, env_key, key, flag_key):
                raise invalid(f"{at}: making '{key}' a prerequisite of '{flag_key}' would create a prerequisite cycle")


def _check_environments(state: dict[str, Any], project_key: str, before: dict[str, Any], doc: dict[str, Any]) -> None:
    environments = doc.get("environments")
    if not isinstance(environments, dict) or set(environments) != set(before["environments"]):
        raise invalid("environments cannot be added or removed through a flag change")
    count = len(doc["variations"])
    for env_key, config in environments.items():
        where = f"environments.{env_key}"
        if not isinstance(config, dict):
            raise invalid(f"{where} must be an object")
        if not isinstance(config.get("on"), bool):
            raise invalid(f"{where}.on must be true or false")
        for name in ("trackEvents", "trackEventsFallthrough"):
            if not isinstance(config.get(name), bool):
                raise invalid(f"{where}.{name} must be true or false")
        check_serve(config.get("fallthrough"), count, f"{where}.fallthrough")
        if config.get("offVariation") is not None and not _is_index(config["offVariation"], count):
            raise invalid(f"{where}.offVariation must be a variation index below {count}")
        _check_rules(config.get("rules"), count, where)
        _check_targets(config, count, where)
        old = before["environments"][env_key].get("prerequisites", [])
        _check_prerequisites(state, project_key, doc["key"], env_key, config, old)


def check(state: dict[str, Any], project_key: str, before: dict[str, Any], doc: dict[str, Any]) -> None:
    """Every rule a flag satisfies; the message names the field and the rule that broke."""
    if not isinstance(doc.get("name"), str) or not doc["name"].strip():
        raise invalid("name must be a non-empty string")
    if not isinstance(doc.get("tags"), list) or not all(isinstance(t, str) and t for t in doc["tags"]):
        raise invalid("tags must be a list of non-empty strings")
    for name in ("temporary", "archived", "deprecated"):
        if not isinstance(doc.get(name), bool):
            raise invalid(f"{name} must be true or false")
    if "includeInSnippet" in doc and not isinstance(doc["includeInSnippet"], bool):
        raise invalid("includeInSnippet must be true or false")
    if not isinstance(doc.get("description", ""), str):
        raise invalid("description must be a string")
    _check_variations(doc)
    count = len(doc["variations"])
    defaults = doc.get("defaults")
    if defaults is not None and not (
        isinstance(defaults, dict)
        and _is_index(defaults.get("onVariation"), count)
        and _is_index(defaults.get("offVariation"), count)
    ):
        raise invalid(f"defaults needs onVariation and offVariation, variation indexes below {count}")
    availability = doc.get("clientSideAvailability", {})
    if not isinstance(availability, dict) or not all(
        isinstance(availability.get(k, False), bool) for k in ("usingMobileKey", "usingEnvironmentId")
    ):
        raise invalid("clientSideAvailability needs usingMobileKey and usingEnvironmentId, each true or false")
    properties = doc.get("customProperties", {})
    if not isinstance(properties, dict) or not all(
        isinstance(p, dict)
        and isinstance(p.get("name"), str)
        and isinstance(p.get("value"), list)
        and all(isinstance(v, str) for v in p["value"])
        for p in properties.values()
    ):
        raise invalid("customProperties maps each key to {name, value: [strings]}")
    maintainer = doc.get("maintainerId")
    if maintainer is not None and maintainer != before.get("maintainerId") and maintainer not in member_ids(state):
        raise invalid(f"maintainerId '{maintainer}' is not a member of this account")
    if doc.get("maintainerTeamKey") is not None and not isinstance(doc["maintainerTeamKey"], str):
        raise invalid("maintainerTeamKey must be a team key (a string)")
    if not isinstance(doc.get("goalIds", []), list):
        raise invalid("goalIds must be a list")
    _check_environments(state, project_key, before, doc)
    legacy_experiments.check(state, project_key, doc)


def check_shape(state: dict[str, Any], candidate: dict[str, Any]) -> None:
    """The rules above cover what the mock reads; the contract covers the rest of the flag.

    A change that would leave a flag the API could no longer describe is refused before anything
    is stored.
    """
    problems = shared_contract("launchdarkly").response_problems(
        "getFeatureFlag", 200, "application/json", serializers.flag(state, candidate)
    )
    if problems:
        raise invalid(f"The changed flag is not a valid flag: {problems[0]}")


# -- storing a change ---------------------------------------------------------------------------


def _settle(state: dict[str, Any], before: dict[str, Any], doc: dict[str, Any], now_ms: int) -> None:
    """What the service derives itself: ids for new variations, rules and clauses, and lifecycle dates."""
    for fixed in ("key", "kind", "creationDate", "_version", "_purpose", "migrationSettings"):
        if fixed in before:
            doc[fixed] = before[fixed]
        else:
            doc.pop(fixed, None)
    variations = doc.get("variations")
    for variation in variations if isinstance(variations, list) else []:
        if isinstance(variation, dict) and "_id" not in variation:
            variation["_id"] = new_id(state)
    environments = doc.get("environments")
    for config in environments.values() if isinstance(environments, dict) else []:
        if not isinstance(config, dict):
            continue
        rules = config.get("rules")
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict):
                rule.setdefault("_id", new_id(state))
                rule.setdefault("trackEvents", False)
                clauses = rule.get("clauses")
                for clause in clauses if isinstance(clauses, list) else []:
                    if isinstance(clause, dict):
                        clause.setdefault("_id", new_id(state))
                        clause.setdefault("negate", False)
        if doc.get("archived") is not before.get("archived"):
            config["archived"] = doc.get("archived") is True
    for name, stamp in (("archived", "archivedDate"), ("deprecated", "deprecatedDate")):
        if doc.get(name) is True and not before.get(name):
            doc[stamp] = now_ms
        elif doc.get(name) is False:
            doc.pop(stamp, None)
        elif stamp in before:
            doc[stamp] = before[stamp]


def commit(
    state: dict[str, Any], row: dict[str, Any], doc: dict[str, Any], now_ms: int, *, dry_run: bool = False
) -> dict[str, Any]:
    """Check a changed flag document and store it; a dry run answers with what would be stored."""
    project_key = row["projectKey"]
    before = document(row)
    _settle(state, before, doc, now_ms)
    if before["archived"] and doc.get("archived") is not False and doc != before:
        raise invalid(
            f"Flag '{row['key']}' is archived; restore it first (restoreFlag, or replace /archived with false)"
        )
    check(state, project_key, before, doc)
    moved = flag_dependents.guard_change(state, project_key, before, doc)
    legacy_experiments.record_periods(before, doc, now_ms)
    if doc != before:
        doc["_version"] = before["_version"] + 1
        for env_key, config in doc["environments"].items():
            if config != before["environments"][env_key]:
                config["version"] = before["environments"][env_key]["version"] + 1
                config["lastModified"] = now_ms
    candidate = dict(doc, projectKey=project_key)
    check_shape(state, candidate)
    if dry_run:
        return candidate
    row.clear()
    row.update(candidate)
    flag_dependents.move_prerequisites(state, project_key, row["key"], moved)
    return row


# -- creation and deletion ----------------------------------------------------------------------


def _variations(body: dict[str, Any], state: dict[str, Any]) -> list[dict[str, Any]]:
    settings = body.get("migrationSettings")
    if body.get("purpose") == "migration":
        if body.get("variations"):
            raise invalid("A migration flag's variations are its stages: omit variations and set migrationSettings")
        if not isinstance(settings, dict) or settings.get("stageCount") not in MIGRATION_STAGES:
            raise invalid("A migration flag needs migrationSettings.stageCount: 2, 4 or 6")
        if (settings["stageCount"] == 6) != bool(settings.get("contextKind")):
            raise invalid("migrationSettings.contextKind is required for six stages and must be omitted otherwise")
        stages = MIGRATION_STAGES[settings["stageCount"]]
        return [{"_id": new_id(state), "value": s, "name": s.capitalize()} for s in stages]
    if settings is not None:
        raise invalid('migrationSettings applies only to a flag created with purpose "migration"')
    given = body.get("variations") or [{"value": True}, {"value": False}]
    out = []
    for variation in given:
        item = {"_id": new_id(state), "value": copy.deepcopy(variation["value"])}
        for text in ("name", "description"):
            if variation.get(text) is not None:
                item[text] = variation[text]
        out.append(item)
    return out


def _kind(variations: list[dict[str, Any]]) -> str:
    values = [v["value"] for v in variations]
    return (
        "boolean"
        if len(values) == 2 and True in values and False in values and all(isinstance(v, bool) for v in values)
        else "multivariate"
    )


def _environment(state: dict[str, Any], project_key: str, flag_key: str, env_key: str, on: bool, defaults) -> dict:
    env = state["projects"][project_key]["environments"][env_key]
    token = next_uuid(state).replace("-", "")
    return {
        "on": on,
        "archived": False,
        "salt": token[:20],
        "sel": token,
        "lastModified": 0,
        "version": 1,
        "targets": [],
        "contextTargets": [],
        "rules": [],
        "fallthrough": {"variation": defaults["onVariation"]},
        "offVariation": defaults["offVariation"],
        "prerequisites": [],
        "_site": m.link(f"/{project_key}/{env_key}/features/{flag_key}"),
        "_environmentName": env.get("name", env_key),
        "trackEvents": False,
        "trackEventsFallthrough": False,
    }


def _cloned_targeting(state: dict[str, Any], source: dict[str, Any], config: dict[str, Any], env_key: str) -> None:
    """Copy a source flag's targeting into a new flag's environment, with fresh rule and clause ids."""
    theirs = copy.deepcopy(source["environments"].get(env_key) or {})
    for name in ("on", "targets", "contextTargets", "fallthrough", "offVariation", "prerequisites"):
        if name in theirs:
            config[name] = theirs[name]
    for name in ("trackEvents", "trackEventsFallthrough"):
        config[name] = bool(theirs.get(name, False))
    config["rules"] = theirs.get("rules", [])
    for rule in config["rules"]:
        rule["_id"] = new_id(state)
        for clause in rule.get("clauses", []):
            clause["_id"] = new_id(state)


def create(
    state: dict[str, Any], project_key: str, body: dict[str, Any], member_id: str | None, now_ms: int, clone: str | None
) -> dict[str, Any]:
    """A new flag from FeatureFlagBody, configured in every environment of the project."""
    project = m.project(state, project_key)
    key = body["key"]
    if not m.KEY.match(key):
        raise invalid(
            f"Invalid flag key '{key}': use letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    if not body["name"].strip():
        raise invalid("name may not be empty")
    if m.scoped(project_key, key) in state["flags"]:
        raise already_exists("A feature with that key already exists")
    source = m.flag(state, project_key, clone) if clone is not None else None
    if source is not None:
        variations = [dict(copy.deepcopy(v), _id=new_id(state)) for v in source["variations"]]
        kind = source["kind"]
    else:
        variations = _variations(body, state)
        kind = "multivariate" if body.get("purpose") == "migration" else _kind(variations)
    count = len(variations)
    defaults = body.get("defaults") or (source or {}).get("defaults")
    if defaults is None:
        values = [v["value"] for v in variations]
        on, off = (values.index(True), values.index(False)) if kind == "boolean" else (0, count - 1)
        defaults = {"onVariation": on, "offVariation": 0 if body.get("purpose") == "migration" else off}
    availability = body.get("clientSideAvailability")
    if availability is None:
        snippet = body.get("includeInSnippet", False)
        availability = (source or {}).get("clientSideAvailability") or {
            "usingEnvironmentId": snippet,
            "usingMobileKey": True,
        }
    row: dict[str, Any] = {
        "name": body["name"],
        "kind": kind,
        "description": body.get("description", (source or {}).get("description", "")),
        "key": key,
        "_version": 1,
        "creationDate": now_ms,
        "includeInSnippet": bool(availability.get("usingEnvironmentId")),
        "clientSideAvailability": dict(availability),
        "variations": variations,
        "temporary": body.get("temporary", (source or {}).get("temporary", True)),
        "tags": list(dict.fromkeys(body.get("tags", (source or {}).get("tags", [])))),
        "goalIds": [],
        "experiments": {"baselineIdx": 0, "items": []},
        "customProperties": copy.deepcopy(body.get("customProperties", {})),
        "archived": False,
        "deprecated": False,
        "defaults": dict(defaults),
        "environments": {},
    }
    maintainer = body.get("maintainerId")
    if maintainer is not None and maintainer not in member_ids(state):
        raise invalid(f"maintainerId '{maintainer}' is not a member of this account")
    if body.get("maintainerTeamKey"):
        row["maintainerTeamKey"] = body["maintainerTeamKey"]
    elif maintainer or member_id:
        row["maintainerId"] = maintainer or member_id
    if body.get("purpose"):
        row["_purpose"] = body["purpose"]
    if body.get("purpose") == "migration":
        row["migrationSettings"] = dict(body["migrationSettings"])
    if not _is_index(defaults.get("onVariation"), count) or not _is_index(defaults.get("offVariation"), count):
        raise invalid(f"defaults.onVariation and defaults.offVariation must be variation indexes below {count}")
    prerequisites = []
    for index, item in enumerate(body.get("initialPrerequisites") or []):
        other = state["flags"].get(m.scoped(project_key, item["key"]))
        if other is None:
            raise invalid(f"initialPrerequisites[{index}]: unknown flag '{item['key']}' in project '{project_key}'")
        variation = m.variation_index(other, item["variationId"])
        if variation is None:
            raise invalid(
                f"initialPrerequisites[{index}]: '{item['variationId']}' is not a variation of '{other['key']}'"
            )
        prerequisites.append({"key": item["key"], "variation": variation})
    for env_key in project["environments"]:
        config = _environment(state, project_key, key, env_key, bool(body.get("isFlagOn", False)), defaults)
        config["lastModified"] = now_ms
        if source is not None:
            _cloned_targeting(state, source, config, env_key)
        if prerequisites:
            config["prerequisites"] = copy.deepcopy(prerequisites)
        row["environments"][env_key] = config
    empty = {**row, "environments": {k: dict(c, prerequisites=[]) for k, c in row["environments"].items()}}
    check(state, project_key, empty, row)
    candidate = dict(row, projectKey=project_key)
    check_shape(state, candidate)
    state["flags"][m.scoped(project_key, key)] = candidate
    return candidate


def delete(state: dict[str, Any], row: dict[str, Any]) -> None:
    """Delete a flag in every environment, unless another flag or a live experiment still needs it."""
    flag_dependents.guard_delete(state, row)
    del state["flags"][m.scoped(row["projectKey"], row["key"])]
    legacy_experiments.forget(state, row["projectKey"], row["key"])
