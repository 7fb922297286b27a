"""The rules every feature flag satisfies, whichever way it was created or changed.

``check`` reads a whole flag document (and the one it replaces) and raises LaunchDarkly's 400
naming the field and the rule that broke; ``check_shape`` holds it against the contract too.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.core.contract import shared_contract
from mockserver.vendors.launchdarkly import flag_dependents, legacy_experiments, serializers
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid

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
MAX_DEPTH = 100  # JSON variation values and the like nest far less; deeper ones could not be stored or served


def check_depth(body: Any) -> None:
    """Refuse bodies nested deeper than MAX_DEPTH (counted without recursion)."""
    pending = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise invalid(f"The request body nests deeper than {MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


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


def is_index(value: Any, count: int) -> bool:
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
        if not isinstance(item, dict) or not is_index(item.get("variation"), count):
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
    if has_variation and not is_index(serve["variation"], count):
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
            if not isinstance(target, dict) or not is_index(target.get("variation"), count):
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
        if not is_index(prerequisite.get("variation"), len(other["variations"])):
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
        if config.get("offVariation") is not None and not is_index(config["offVariation"], count):
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
        and is_index(defaults.get("onVariation"), count)
        and is_index(defaults.get("offVariation"), count)
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
