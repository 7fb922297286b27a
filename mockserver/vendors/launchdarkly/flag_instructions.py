"""Semantic patch for feature flags: every instruction applies to a copy, or none is stored.

Environment instructions (``flag_targeting``) need the body's ``environmentKey``; the ones here
change the flag everywhere: its variations, settings and lifecycle. ``run`` returns the changed
document and whether the patch deletes the flag; ``flags.commit`` checks and stores it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.core.problems import Problem
from mockserver.vendors.launchdarkly import flag_rules, flags
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid
from mockserver.vendors.launchdarkly.flag_targeting import INSTRUCTIONS as TARGETING
from mockserver.vendors.launchdarkly.flag_targeting import Targeting, param_strings, param_text

AVAILABILITY = ("usingMobileKey", "usingEnvironmentId")


class FlagChange:
    """A flag document being changed by flag-wide instructions."""

    def __init__(self, state: dict[str, Any], doc: dict[str, Any]) -> None:
        self.state = state
        self.doc = doc
        self.delete = False

    # -- variations -------------------------------------------------------------------------------

    def add_variation(self, ins: dict[str, Any]) -> None:
        if self.doc["kind"] == "boolean":
            raise invalid("A boolean flag has exactly two variations, true and false; it cannot take another")
        if "value" not in ins:
            raise invalid("value is required: the new variation's value")
        variation: dict[str, Any] = {"_id": flags.new_id(self.state), "value": ins["value"]}
        for text in ("name", "description"):
            if ins.get(text) is not None:
                variation[text] = param_text(ins[text], text, empty=True)
        self.doc["variations"].append(variation)

    def remove_variation(self, ins: dict[str, Any]) -> None:
        index = _index(self.doc, ins)
        if self.doc["kind"] == "boolean":
            raise invalid("A boolean flag has exactly two variations, true and false; neither can be removed")
        variation = self.doc["variations"][index]
        uses = _uses(self.doc, index)
        if uses:
            raise invalid(
                f"Variation '{variation.get('name') or variation['_id']}' is in use ({'; '.join(uses)}); "
                "serve another variation there first"
            )
        del self.doc["variations"][index]
        _shift(self.doc, index)

    def update_variation(self, ins: dict[str, Any]) -> None:
        variation = self.doc["variations"][_index(self.doc, ins)]
        if not any(name in ins for name in ("name", "value", "description")):
            raise invalid("give at least one of name, value and description to change")
        if "value" in ins:
            variation["value"] = ins["value"]
        for text in ("name", "description"):
            if text in ins:
                variation[text] = param_text(ins[text], text, empty=True)

    def update_default_variation(self, ins: dict[str, Any]) -> None:
        names = {"onVariationValue": "onVariation", "offVariationValue": "offVariation"}
        given = False
        defaults = self.doc.setdefault("defaults", {"onVariation": 0, "offVariation": len(self.doc["variations"]) - 1})
        for param, field in names.items():
            spelled = param if param in ins else param[0].upper() + param[1:]
            if spelled not in ins:
                continue
            given = True
            wanted = flag_rules.canonical(ins[spelled])
            index = next(
                (i for i, v in enumerate(self.doc["variations"]) if flag_rules.canonical(v["value"]) == wanted), None
            )
            if index is None:
                raise invalid(f"{param}: no variation of the flag has the value {wanted}")
            defaults[field] = index
        if not given:
            raise invalid("give onVariationValue, offVariationValue or both")

    # -- settings ---------------------------------------------------------------------------------

    def update_name(self, ins: dict[str, Any]) -> None:
        self.doc["name"] = param_text(ins.get("value"), "value")

    def update_description(self, ins: dict[str, Any]) -> None:
        self.doc["description"] = param_text(ins.get("value"), "value", empty=True)

    def add_tags(self, ins: dict[str, Any]) -> None:
        values = param_strings(ins.get("values"), "values")
        self.doc["tags"] = list(dict.fromkeys([*self.doc["tags"], *values]))

    def remove_tags(self, ins: dict[str, Any]) -> None:
        values = param_strings(ins.get("values"), "values")
        self.doc["tags"] = [t for t in self.doc["tags"] if t not in values]

    def make_flag_permanent(self, ins: dict[str, Any]) -> None:
        self.doc["temporary"] = False

    def make_flag_temporary(self, ins: dict[str, Any]) -> None:
        self.doc["temporary"] = True

    def _property(self, ins: dict[str, Any]) -> tuple[str, list[str]]:
        return param_text(ins.get("key"), "key"), param_strings(ins.get("values"), "values")

    def add_custom_properties(self, ins: dict[str, Any]) -> None:
        key, values = self._property(ins)
        properties = self.doc.setdefault("customProperties", {})
        existing = properties.get(key)
        if existing is None:
            properties[key] = {"name": param_text(ins.get("name"), "name"), "value": list(dict.fromkeys(values))}
            return
        if ins.get("name") is not None:
            existing["name"] = param_text(ins["name"], "name")
        existing["value"] = list(dict.fromkeys([*existing["value"], *values]))

    def remove_custom_properties(self, ins: dict[str, Any]) -> None:
        key, values = self._property(ins)
        properties = self.doc.setdefault("customProperties", {})
        if key not in properties:
            raise invalid(f"key: the flag has no custom property '{key}'")
        remaining = [v for v in properties[key]["value"] if v not in values]
        if remaining:
            properties[key]["value"] = remaining
        else:
            del properties[key]

    def replace_custom_properties(self, ins: dict[str, Any]) -> None:
        key, values = self._property(ins)
        self.doc.setdefault("customProperties", {})[key] = {
            "name": param_text(ins.get("name"), "name"),
            "value": list(dict.fromkeys(values)),
        }

    def _availability(self, ins: dict[str, Any], value: bool) -> None:
        which = ins.get("value")
        if which not in AVAILABILITY:
            raise invalid(f"value must be {' or '.join(AVAILABILITY)}")
        self.doc.setdefault("clientSideAvailability", {})[which] = value
        if which == "usingEnvironmentId":
            self.doc["includeInSnippet"] = value

    def turn_on_client_side_availability(self, ins: dict[str, Any]) -> None:
        self._availability(ins, True)

    def turn_off_client_side_availability(self, ins: dict[str, Any]) -> None:
        self._availability(ins, False)

    def update_maintainer_member(self, ins: dict[str, Any]) -> None:
        member = param_text(ins.get("value"), "value")
        if member not in flag_rules.member_ids(self.state):
            raise invalid(f"value: '{member}' is not a member of this account")
        self.doc["maintainerId"] = member
        self.doc.pop("maintainerTeamKey", None)

    def update_maintainer_team(self, ins: dict[str, Any]) -> None:
        self.doc["maintainerTeamKey"] = param_text(ins.get("value"), "value")
        self.doc.pop("maintainerId", None)

    def remove_maintainer(self, ins: dict[str, Any]) -> None:
        self.doc.pop("maintainerId", None)
        self.doc.pop("maintainerTeamKey", None)

    # -- lifecycle --------------------------------------------------------------------------------

    def archive_flag(self, ins: dict[str, Any]) -> None:
        self.doc["archived"] = True

    def restore_flag(self, ins: dict[str, Any]) -> None:
        self.doc["archived"] = False

    def deprecate_flag(self, ins: dict[str, Any]) -> None:
        self.doc["deprecated"] = True

    def restore_deprecated_flag(self, ins: dict[str, Any]) -> None:
        self.doc["deprecated"] = False

    def delete_flag(self, ins: dict[str, Any]) -> None:
        self.delete = True


def _index(doc: dict[str, Any], ins: dict[str, Any]) -> int:
    value = ins.get("variationId")
    if not isinstance(value, str):
        raise invalid("variationId is required: the _id of one of the flag's variations")
    index = m.variation_index(doc, value)
    if index is None:
        raise invalid(f"variationId '{value}' is not a variation of flag '{doc['key']}'")
    return index


def _uses(doc: dict[str, Any], index: int) -> list[str]:
    """Where a flag serves one of its variations, in words."""
    uses = []
    defaults = doc.get("defaults") or {}
    for name in ("onVariation", "offVariation"):
        if defaults.get(name) == index:
            uses.append(f"defaults.{name}")
    if doc["experiments"]["baselineIdx"] == index and doc["experiments"]["items"]:
        uses.append("legacy experiments baseline")
    for env_key, config in doc["environments"].items():
        if config.get("offVariation") == index:
            uses.append(f"off variation in '{env_key}'")
        serves = [("default rule", config.get("fallthrough") or {})]
        serves += [(f"rule '{r['_id']}'", r) for r in config.get("rules", [])]
        for what, serve in serves:
            rollout = (serve.get("rollout") or {}).get("variations", [])
            if serve.get("variation") == index or any(w["variation"] == index and w["weight"] for w in rollout):
                uses.append(f"{what} in '{env_key}'")
        for field in ("targets", "contextTargets"):
            if any(t["variation"] == index and t["values"] for t in config.get(field, [])):
                uses.append(f"individual targets in '{env_key}'")
                break
    return uses


def _shift(doc: dict[str, Any], removed: int) -> None:
    """Variation indexes after a removed variation move down by one."""

    def moved(value: Any) -> Any:
        return value - 1 if type(value) is int and value > removed else value

    defaults = doc.get("defaults")
    if defaults:
        for name in ("onVariation", "offVariation"):
            defaults[name] = moved(defaults[name])
    doc["experiments"]["baselineIdx"] = moved(doc["experiments"]["baselineIdx"])
    for config in doc["environments"].values():
        config["offVariation"] = moved(config.get("offVariation"))
        for serve in [config.get("fallthrough") or {}, *config.get("rules", [])]:
            if "variation" in serve:
                serve["variation"] = moved(serve["variation"])
            rollout = serve.get("rollout")
            if rollout:
                rollout["variations"] = [
                    dict(w, variation=moved(w["variation"])) for w in rollout["variations"] if w["variation"] != removed
                ]
        for field in ("targets", "contextTargets"):
            config[field] = [
                dict(t, variation=moved(t["variation"])) for t in config.get(field, []) if t["variation"] != removed
            ]


FLAG_WIDE: dict[str, Callable[[FlagChange, dict[str, Any]], None]] = {
    "addVariation": FlagChange.add_variation,
    "removeVariation": FlagChange.remove_variation,
    "updateVariation": FlagChange.update_variation,
    "updateDefaultVariation": FlagChange.update_default_variation,
    "updateName": FlagChange.update_name,
    "updateDescription": FlagChange.update_description,
    "addTags": FlagChange.add_tags,
    "removeTags": FlagChange.remove_tags,
    "makeFlagPermanent": FlagChange.make_flag_permanent,
    "makeFlagTemporary": FlagChange.make_flag_temporary,
    "addCustomProperties": FlagChange.add_custom_properties,
    "removeCustomProperties": FlagChange.remove_custom_properties,
    "replaceCustomProperties": FlagChange.replace_custom_properties,
    "turnOnClientSideAvailability": FlagChange.turn_on_client_side_availability,
    "turnOffClientSideAvailability": FlagChange.turn_off_client_side_availability,
    "updateMaintainerMember": FlagChange.update_maintainer_member,
    "updateMaintainerTeam": FlagChange.update_maintainer_team,
    "removeMaintainer": FlagChange.remove_maintainer,
    "archiveFlag": FlagChange.archive_flag,
    "restoreFlag": FlagChange.restore_flag,
    "deprecateFlag": FlagChange.deprecate_flag,
    "restoreDeprecatedFlag": FlagChange.restore_deprecated_flag,
    "deleteFlag": FlagChange.delete_flag,
}
KINDS = (*TARGETING, *FLAG_WIDE)


def run(
    state: dict[str, Any], project_key: str, doc: dict[str, Any], body: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Apply every instruction to ``doc`` in order; return it and whether the flag is to be deleted."""
    instructions = body["instructions"]
    if not instructions:
        raise invalid('instructions may not be empty; send at least one {"kind": ...}')
    env_key = body.get("environmentKey")
    needs_env = [ins["kind"] for ins in instructions if ins["kind"] in TARGETING]
    if needs_env and env_key is None:
        raise invalid(f"environmentKey is required for {needs_env[0]}: name the environment whose targeting changes")
    if env_key is not None and env_key not in doc["environments"]:
        raise invalid(f"environmentKey: unknown environment '{env_key}' in project '{project_key}'")
    change = FlagChange(state, doc)
    for index, ins in enumerate(instructions):
        kind = ins["kind"]
        try:
            if kind in TARGETING:
                TARGETING[kind](Targeting(state, project_key, doc, env_key), ins)
            elif kind in FLAG_WIDE:
                FLAG_WIDE[kind](change, ins)
            else:
                raise invalid(f"unknown kind; supported: {', '.join(KINDS)}")
        except Problem as problem:
            raise Problem(problem.kind, f"instructions[{index}] {kind}: {problem.detail}", code=problem.code) from None
    return doc, change.delete
