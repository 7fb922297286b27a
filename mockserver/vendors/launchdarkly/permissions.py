"""Custom roles: which LaunchDarkly action a write needs, on which resource, and whether a policy allows it.

A token registered with a ``policy`` (LaunchDarkly's policy statements: ``effect``, ``actions`` or
``notActions``, ``resources`` or ``notResources``, with ``*`` globs) is a custom-role token: each
write names the vendor's actions (``createExperiment``, ``updateExperiment``,
``updateExperimentArchived``, ``updateOn``, ``updateFallthrough``…) on resources such as
``proj/default:env/production:experiment/my-exp`` (a ``*`` stays within one ``:`` segment, so
``proj/*`` names projects and ``proj/*:env/*:flag/*`` flags), a deny statement wins, and anything no
statement allows is refused. Where LaunchDarkly names no action for a write, the action is the operationId.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Any

from mockserver.vendors.launchdarkly import context_kinds
from mockserver.vendors.launchdarkly import models as m

Need = tuple[str, str]  # (action, resource)
_TAGS = re.compile(r";[^:]*")


# -- policies -----------------------------------------------------------------------------------


def check_policy(policy: Any) -> str | None:
    """What is wrong with a policy document, or None."""
    if not isinstance(policy, list) or not policy:
        return "policy must be a non-empty list of statements"
    for index, statement in enumerate(policy):
        where = f"policy[{index}]"
        if not isinstance(statement, dict):
            return f"{where} must be an object"
        if statement.get("effect") not in ("allow", "deny"):
            return f"{where}.effect must be allow or deny"
        for plain, negated in (("actions", "notActions"), ("resources", "notResources")):
            given = [name for name in (plain, negated) if name in statement]
            if len(given) != 1:
                return f"{where} needs exactly one of {plain} and {negated}"
            values = statement[given[0]]
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
                return f"{where}.{given[0]} must be a non-empty list of strings"
    return None


def _matches(patterns: Iterable[str], value: str) -> bool:
    """Resource specifiers match segment by segment (``*`` never crosses a ``:``); actions are one segment."""
    parts = value.split(":")
    for pattern in patterns:
        wanted = _TAGS.sub("", pattern).split(":")
        if len(wanted) == len(parts) and all(fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True)):
            return True
    return False


def _covers(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "actions" in statement:
        acts = _matches(statement["actions"], action)
    else:
        acts = not _matches(statement["notActions"], action)
    if "resources" in statement:
        res = _matches(statement["resources"], resource)
    else:
        res = not _matches(statement["notResources"], resource)
    return acts and res


def allows(policy: list[dict[str, Any]], action: str, resource: str) -> bool:
    """LaunchDarkly's evaluation: a matching deny wins; otherwise some statement must allow."""
    allowed = False
    for statement in policy:
        if _covers(statement, action, resource):
            if statement["effect"] == "deny":
                return False
            allowed = True
    return allowed


# -- resources ----------------------------------------------------------------------------------


def experiment_res(p: str, e: str, key: str) -> str:
    return f"proj/{p}:env/{e}:experiment/{key}"


def flag_res(p: str, e: str, key: str) -> str:
    return f"proj/{p}:env/{e}:flag/{key}"


def _key(body: Any, name: str = "key") -> str:
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else "*"


def _instructions(body: Any) -> list[dict[str, Any]]:
    found = body.get("instructions") if isinstance(body, dict) else None
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def _pointers(body: Any) -> list[str]:
    """The JSON Pointers a JSON Patch (bare or wrapped in {patch}) or the top-level keys a merge patch touches."""
    if isinstance(body, dict) and isinstance(body.get("patch"), list):
        body = body["patch"]
    if isinstance(body, list):
        return [op["path"] for op in body if isinstance(op, dict) and isinstance(op.get("path"), str)]
    if isinstance(body, dict):
        merge = body.get("merge") if isinstance(body.get("merge"), dict) else body
        out = []
        for key, value in merge.items():
            if key == "environments" and isinstance(value, dict):
                for env, config in value.items():
                    fields = config if isinstance(config, dict) else {"": None}
                    out += [f"/environments/{env}/{field}" for field in fields]
            else:
                out.append(f"/{key}")
        return out
    return []


def _field(pointer: str) -> list[str]:
    return [part for part in pointer.split("/")[1:]]


def _update_action(field: str) -> str:
    return "update" + field[:1].upper() + field[1:]


# Flag fields per environment, and on the flag itself, with the actions LaunchDarkly names for them.
FLAG_ENV_ACTIONS = {
    "on": "updateOn",
    "fallthrough": "updateFallthrough",
    "offVariation": "updateOffVariation",
    "rules": "updateRules",
    "targets": "updateTargets",
    "contextTargets": "updateTargets",
    "prerequisites": "updatePrerequisites",
    "trackEvents": "updateTrackEvents",
    "trackEventsFallthrough": "updateTrackEvents",
}
FLAG_ACTIONS = {
    "name": "updateName",
    "description": "updateDescription",
    "tags": "updateTags",
    "temporary": "updateTemporary",
    "archived": "updateGlobalArchived",
    "deprecated": "updateDeprecated",
    "customProperties": "updateFlagCustomProperties",
    "maintainerId": "updateMaintainer",
    "maintainerTeamKey": "updateMaintainer",
    "variations": "updateFlagVariations",
    "defaults": "updateFlagDefaultVariations",
    "clientSideAvailability": "updateClientSideFlagAvailability",
    "includeInSnippet": "updateIncludeInSnippet",
}
# Semantic-patch instructions on flags (environment-level unless listed in FLAG_INSTRUCTIONS_GLOBAL).
FLAG_INSTRUCTIONS = {
    "turnFlagOn": "updateOn",
    "turnFlagOff": "updateOn",
    "updateFallthroughVariationOrRollout": "updateFallthrough",
    "updateOffVariation": "updateOffVariation",
    "addRule": "updateRules",
    "removeRule": "updateRules",
    "reorderRules": "updateRules",
    "updateRuleVariationOrRollout": "updateRules",
    "updateRuleDescription": "updateFlagRuleDescription",
    "addClauses": "updateRules",
    "removeClauses": "updateRules",
    "addTargets": "updateTargets",
    "removeTargets": "updateTargets",
    "replaceTargets": "updateTargets",
    "replaceRules": "updateRules",
    "updateClause": "updateRules",
    "addValuesToClause": "updateRules",
    "removeValuesFromClause": "updateRules",
    "updateRuleTrackEvents": "updateTrackEvents",
    "updateTrackEvents": "updateTrackEvents",
    "updateTrackEventsFallthrough": "updateTrackEvents",
    "addUserTargets": "updateTargets",
    "removeUserTargets": "updateTargets",
    "replaceUserTargets": "updateTargets",
    "clearTargets": "updateTargets",
    "clearUserTargets": "updateTargets",
    "addPrerequisite": "updatePrerequisites",
    "removePrerequisite": "updatePrerequisites",
    "updatePrerequisite": "updatePrerequisites",
    "replacePrerequisites": "updatePrerequisites",
}
FLAG_INSTRUCTIONS_GLOBAL = {
    "updateName": "updateName",
    "updateDescription": "updateDescription",
    "addTags": "updateTags",
    "removeTags": "updateTags",
    "archiveFlag": "updateGlobalArchived",
    "restoreFlag": "updateGlobalArchived",
    "deprecateFlag": "updateDeprecated",
    "restoreDeprecatedFlag": "updateDeprecated",
    "makeFlagPermanent": "updateTemporary",
    "makeFlagTemporary": "updateTemporary",
    "updateMaintainerMember": "updateMaintainer",
    "updateMaintainerTeam": "updateMaintainer",
    "removeMaintainer": "updateMaintainer",
    "addVariation": "updateFlagVariations",
    "removeVariation": "updateFlagVariations",
    "updateVariation": "updateFlagVariations",
    "updateDefaultVariation": "updateFlagDefaultVariations",
    "addCustomProperties": "updateFlagCustomProperties",
    "removeCustomProperties": "updateFlagCustomProperties",
    "replaceCustomProperties": "updateFlagCustomProperties",
    "turnOnClientSideAvailability": "updateClientSideFlagAvailability",
    "turnOffClientSideAvailability": "updateClientSideFlagAvailability",
    "deleteFlag": "deleteFlag",
}
METRIC_ACTIONS = {
    "name": "updateName",
    "description": "updateDescription",
    "tags": "updateTags",
    "eventKey": "updateEventKey",
    "isNumeric": "updateNumeric",
    "successCriteria": "updateNumericSuccess",
    "unit": "updateNumericUnit",
    "randomizationUnits": "updateRandomizationUnits",
    "analysisUnits": "updateRandomizationUnits",
    "selector": "updateSelector",
    "urls": "updateUrls",
    "unitAggregationType": "updateUnitAggregationType",
    "maintainerId": "updateMaintainer",
    "eventDefault": "updateEventDefault",
}
METRIC_GROUP_ACTIONS = {
    "name": "updateMetricGroupName",
    "description": "updateMetricGroupDescription",
    "tags": "updateMetricGroupTags",
    "maintainerId": "updateMetricGroupMaintainer",
    "metrics": "updateMetricGroupMetrics",
}
ENVIRONMENT_ACTIONS = {
    "name": "updateName",
    "color": "updateColor",
    "defaultTtl": "updateTtl",
    "secureMode": "updateSecureMode",
    "defaultTrackEvents": "updateDefaultTrackEvents",
    "requireComments": "updateRequireComments",
    "confirmChanges": "updateConfirmChanges",
    "tags": "updateTags",
    "critical": "updateCritical",
    "approvalSettings": "updateApprovalSettings",
}
HOLDOUT_INSTRUCTIONS = {
    "endHoldout": "updateHoldoutStatus",
    "removeExperiment": "removeExperimentFromHoldout",
    "updateName": "updateHoldoutName",
    "updateDescription": "updateHoldoutDescription",
}
LAYER_INSTRUCTIONS = {
    "updateName": "updateLayer",
    "updateDescription": "updateLayer",
    "updateExperimentReservation": "updateLayerConfiguration",
    "removeExperiment": "updateLayerConfiguration",
}


def _flag_patch(state: dict[str, Any], path: dict[str, str], body: Any) -> list[Need]:
    p, key = path["projectKey"], path["featureFlagKey"]
    instructions = _instructions(body)
    if instructions:
        env = _key(body, "environmentKey")
        out = []
        for ins in instructions:
            kind = ins.get("kind")
            if kind in FLAG_INSTRUCTIONS_GLOBAL:
                out.append((FLAG_INSTRUCTIONS_GLOBAL[kind], flag_res(p, "*", key)))
            else:
                action = FLAG_INSTRUCTIONS.get(kind, kind if isinstance(kind, str) else "updateFlag")
                out.append((action, flag_res(p, env, key)))
        return out
    out = []
    for pointer in _pointers(body):
        parts = _field(pointer)
        if len(parts) >= 3 and parts[0] == "environments":
            action = FLAG_ENV_ACTIONS.get(parts[2], _update_action(parts[2]))
            out.append((action, flag_res(p, parts[1], key)))
        elif parts and parts[0]:
            out.append((FLAG_ACTIONS.get(parts[0], _update_action(parts[0])), flag_res(p, "*", key)))
    return out


def _by_pointer(table: dict[str, str], resource: str, body: Any) -> list[Need]:
    out = []
    for pointer in _pointers(body):
        parts = _field(pointer)
        if parts and parts[0]:
            out.append((table.get(parts[0], _update_action(parts[0])), resource))
    return out


def _experiment_patch(state: dict[str, Any], path: dict[str, str], body: Any) -> list[Need]:
    res = experiment_res(path["projectKey"], path["environmentKey"], path["experimentKey"])
    archival = ("archiveExperiment", "restoreExperiment")
    kinds = [ins.get("kind") for ins in _instructions(body)] or [None]
    return [("updateExperimentArchived" if kind in archival else "updateExperiment", res) for kind in kinds]


def _experiment_create(state: dict[str, Any], path: dict[str, str], body: Any) -> list[Need]:
    p, e = path["projectKey"], path["environmentKey"]
    out = [("createExperiment", experiment_res(p, e, _key(body)))]
    holdout_id = body.get("holdoutId") if isinstance(body, dict) else None
    if isinstance(holdout_id, str) and holdout_id:
        found = next((h for h in m.table(state, "holdouts").values() if h["_id"] == holdout_id), None)
        out.append(("addExperimentToHoldout", f"proj/{p}:env/{e}:holdout/{found['key'] if found else '*'}"))
    return out


def _settings(state: dict[str, Any], path: dict[str, str], body: Any) -> list[Need]:
    units = body.get("randomizationUnits") if isinstance(body, dict) else None
    keys = [u.get("randomizationUnit") for u in units if isinstance(u, dict)] if isinstance(units, list) else []
    res = [f"proj/{path['projectKey']}:context-kind/{k}" for k in keys if isinstance(k, str)]
    return [("updateAvailabilityForExperiments", r) for r in res or [f"proj/{path['projectKey']}:context-kind/*"]]


def _context_kind(state: dict[str, Any], path: dict[str, str], body: Any) -> list[Need]:
    p, key = path["projectKey"], path["key"]
    exists = m.scoped(p, key) in context_kinds.table(state)
    return [("updateContextKind" if exists else "createContextKind", f"proj/{p}:context-kind/{key}")]


def _semantic(table: dict[str, str], resource: str, body: Any) -> list[Need]:
    kinds = [ins.get("kind") for ins in _instructions(body)]
    return [(table.get(k, k) if isinstance(k, str) else "update", resource) for k in kinds]


def _layer_res(path: dict[str, str]) -> str:
    return f"proj/{path['projectKey']}:layer/{path['layerKey']}"


def _holdout_res(path: dict[str, str]) -> str:
    return f"proj/{path['projectKey']}:env/{path['environmentKey']}:holdout/{path['holdoutKey']}"


def _exp_path(path: dict[str, str]) -> str:
    return experiment_res(path["projectKey"], path["environmentKey"], path["experimentKey"])


Rule = Callable[[dict[str, Any], dict[str, str], Any], list[Need]]
WRITES: dict[str, Rule] = {
    "createExperiment": _experiment_create,
    "patchExperiment": _experiment_patch,
    "createIteration": lambda s, p, b: [("updateExperiment", _exp_path(p))],
    "putExperimentationSettings": _settings,
    "patchFeatureFlag": _flag_patch,
    "postFeatureFlag": lambda s, p, b: [("createFlag", flag_res(p["projectKey"], "*", _key(b)))],
    "deleteFeatureFlag": lambda s, p, b: [("deleteFlag", flag_res(p["projectKey"], "*", p["featureFlagKey"]))],
    "postMetric": lambda s, p, b: [("createMetric", f"proj/{p['projectKey']}:metric/{_key(b)}")],
    "patchMetric": lambda s, p, b: _by_pointer(METRIC_ACTIONS, f"proj/{p['projectKey']}:metric/{p['metricKey']}", b),
    "deleteMetric": lambda s, p, b: [("deleteMetric", f"proj/{p['projectKey']}:metric/{p['metricKey']}")],
    "createMetricGroup": lambda s, p, b: [("createMetricGroup", f"proj/{p['projectKey']}:metric-group/{_key(b)}")],
    "patchMetricGroup": lambda s, p, b: _by_pointer(
        METRIC_GROUP_ACTIONS, f"proj/{p['projectKey']}:metric-group/{p['metricGroupKey']}", b
    ),
    "deleteMetricGroup": lambda s, p, b: [
        ("deleteMetricGroup", f"proj/{p['projectKey']}:metric-group/{p['metricGroupKey']}")
    ],
    "postHoldout": lambda s, p, b: [
        ("createHoldout", f"proj/{p['projectKey']}:env/{p['environmentKey']}:holdout/{_key(b)}")
    ],
    "patchHoldout": lambda s, p, b: _semantic(HOLDOUT_INSTRUCTIONS, _holdout_res(p), b),
    "createLayer": lambda s, p, b: [("createLayer", f"proj/{p['projectKey']}:layer/{_key(b)}")],
    "updateLayer": lambda s, p, b: _semantic(LAYER_INSTRUCTIONS, _layer_res(p), b),
    "putContextKind": _context_kind,
    "patchEnvironment": lambda s, p, b: _by_pointer(
        ENVIRONMENT_ACTIONS, f"proj/{p['projectKey']}:env/{p['environmentKey']}", b
    ),
}


def needs(state: dict[str, Any], operation_id: str, path: dict[str, str], body: Any) -> list[Need]:
    """The (action, resource) pairs a write needs; an unnamed write needs its operationId as the action."""
    rule = WRITES.get(operation_id)
    if rule is None:
        return [(operation_id, "proj/" + path.get("projectKey", "*"))]
    return rule(state, path, body) or [(operation_id, "proj/" + path.get("projectKey", "*"))]


def first_refused(policy: list[dict[str, Any]], wanted: Iterable[Need]) -> Need | None:
    return next((need for need in wanted if not allows(policy, *need)), None)
