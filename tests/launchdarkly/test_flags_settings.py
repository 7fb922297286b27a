"""Flag-wide semantic-patch instructions: variations, defaults, settings, maintainers, client-side
availability and the lifecycle (archive, deprecate, restore, delete). Over HTTP and the Flask client."""

from __future__ import annotations

from typing import Any

import pytest

from tests.launchdarkly.helpers import ENV, applied, create_flag, get_flag, refused_patch, semantic

PALETTE = [{"value": "red", "name": "Red"}, {"value": "green", "name": "Green"}, {"value": "blue", "name": "Blue"}]


@pytest.fixture
def palette(ld_api) -> dict[str, Any]:
    return create_flag(ld_api, "palette", variations=PALETTE, tags=["ui"])


def _ids(flag: dict[str, Any]) -> list[str]:
    return [v["_id"] for v in flag["variations"]]


def test_add_update_and_remove_variations(ld_api, palette):
    added = applied(
        ld_api, "palette", {"kind": "addVariation", "value": "violet", "name": "Violet", "description": "New"}, env=None
    )
    assert [v["value"] for v in added["variations"]] == ["red", "green", "blue", "violet"]
    assert added["variations"][3]["_id"] not in _ids(palette) and added["variations"][3]["description"] == "New"
    updated = applied(
        ld_api,
        "palette",
        {"kind": "updateVariation", "variationId": _ids(palette)[1], "value": "lime", "name": "Lime"},
        env=None,
    )
    assert updated["variations"][1] == {"_id": _ids(palette)[1], "value": "lime", "name": "Lime"}
    # serve blue by default and violet to one user, then remove green: the indexes after it move down
    moved = applied(
        ld_api,
        "palette",
        {"kind": "updateFallthroughVariationOrRollout", "variationId": _ids(palette)[2]},
        {"kind": "addUserTargets", "values": ["u1"], "variationId": added["variations"][3]["_id"]},
    )
    removed = applied(ld_api, "palette", {"kind": "removeVariation", "variationId": _ids(palette)[1]}, env=None)
    assert [v["value"] for v in removed["variations"]] == ["red", "blue", "violet"]
    production = removed["environments"][ENV]
    assert production["fallthrough"] == {"variation": 1} and production["targets"][0]["variation"] == 2
    assert production["offVariation"] == 1 and removed["defaults"] == {"onVariation": 0, "offVariation": 1}
    assert moved["environments"][ENV]["offVariation"] == 2
    assert get_flag(ld_api, "palette") == removed


def test_variation_refusals(ld_api, palette):
    red, _green, blue = _ids(palette)
    assert "in use" in refused_patch(ld_api, "palette", {"kind": "removeVariation", "variationId": red}, env=None)
    assert "defaults.offVariation" in refused_patch(
        ld_api, "palette", {"kind": "removeVariation", "variationId": blue}, env=None
    )
    assert "unique" in refused_patch(ld_api, "palette", {"kind": "addVariation", "value": "red"}, env=None)
    assert "same type" in refused_patch(ld_api, "palette", {"kind": "addVariation", "value": 7}, env=None)
    assert "value is required" in refused_patch(ld_api, "palette", {"kind": "addVariation", "name": "x"}, env=None)
    assert "at least one" in refused_patch(ld_api, "palette", {"kind": "updateVariation", "variationId": red}, env=None)
    assert "not a variation" in refused_patch(
        ld_api, "palette", {"kind": "updateVariation", "variationId": "x", "name": "y"}, env=None
    )
    boolean = "dark-mode-default"
    flag = get_flag(ld_api, boolean)
    assert "boolean" in refused_patch(ld_api, boolean, {"kind": "addVariation", "value": "maybe"}, env=None)
    assert "boolean" in refused_patch(
        ld_api, boolean, {"kind": "removeVariation", "variationId": _ids(flag)[0]}, env=None
    )
    assert "true and false" in refused_patch(
        ld_api, boolean, {"kind": "updateVariation", "variationId": _ids(flag)[0], "value": "no"}, env=None
    )


def test_two_variations_at_least(ld_api):
    pair = create_flag(
        ld_api, "pair", variations=[{"value": "a"}, {"value": "b"}], defaults={"onVariation": 0, "offVariation": 0}
    )
    applied(ld_api, "pair", {"kind": "updateFallthroughVariationOrRollout", "variationId": _ids(pair)[0]})
    applied(ld_api, "pair", {"kind": "updateFallthroughVariationOrRollout", "variationId": _ids(pair)[0]}, env="test")
    assert "at least two variations" in refused_patch(
        ld_api, "pair", {"kind": "removeVariation", "variationId": _ids(pair)[1]}, env=None
    )


def test_update_default_variation(ld_api, palette):
    changed = applied(
        ld_api,
        "palette",
        {"kind": "updateDefaultVariation", "onVariationValue": "green", "offVariationValue": "red"},
        env=None,
    )
    assert changed["defaults"] == {"onVariation": 1, "offVariation": 0}
    capitalised = applied(ld_api, "palette", {"kind": "updateDefaultVariation", "OnVariationValue": "blue"}, env=None)
    assert capitalised["defaults"] == {"onVariation": 2, "offVariation": 0}
    assert "no variation" in refused_patch(
        ld_api, "palette", {"kind": "updateDefaultVariation", "onVariationValue": "pink"}, env=None
    )
    assert "give onVariationValue" in refused_patch(ld_api, "palette", {"kind": "updateDefaultVariation"}, env=None)


def test_name_description_tags_and_type(ld_api, palette):
    changed = applied(
        ld_api,
        "palette",
        {"kind": "updateName", "value": "Palette v2"},
        {"kind": "updateDescription", "value": "Which colour"},
        {"kind": "addTags", "values": ["beta", "ui", "colour"]},
        {"kind": "removeTags", "values": ["beta", "missing"]},
        {"kind": "makeFlagPermanent"},
        env=None,
    )
    assert changed["name"] == "Palette v2" and changed["description"] == "Which colour"
    assert changed["tags"] == ["ui", "colour"] and changed["temporary"] is False
    assert changed["_version"] == palette["_version"] + 1
    assert changed["environments"][ENV]["version"] == palette["environments"][ENV]["version"]
    temporary = applied(ld_api, "palette", {"kind": "makeFlagTemporary"}, env=None)
    assert temporary["temporary"] is True
    assert "non-empty" in refused_patch(ld_api, "palette", {"kind": "updateName", "value": " "}, env=None)
    assert "list of strings" in refused_patch(ld_api, "palette", {"kind": "addTags", "values": "beta"}, env=None)


def test_custom_properties(ld_api, palette):
    added = applied(
        ld_api,
        "palette",
        {"kind": "addCustomProperties", "key": "jira", "name": "Jira issues", "values": ["IS-1", "IS-2"]},
        env=None,
    )
    assert added["customProperties"] == {"jira": {"name": "Jira issues", "value": ["IS-1", "IS-2"]}}
    more = applied(
        ld_api, "palette", {"kind": "addCustomProperties", "key": "jira", "values": ["IS-3", "IS-1"]}, env=None
    )
    assert more["customProperties"]["jira"]["value"] == ["IS-1", "IS-2", "IS-3"]
    fewer = applied(ld_api, "palette", {"kind": "removeCustomProperties", "key": "jira", "values": ["IS-1"]}, env=None)
    assert fewer["customProperties"]["jira"]["value"] == ["IS-2", "IS-3"]
    replaced = applied(
        ld_api,
        "palette",
        {"kind": "replaceCustomProperties", "key": "jira", "name": "Issues", "values": ["IS-9"]},
        env=None,
    )
    assert replaced["customProperties"] == {"jira": {"name": "Issues", "value": ["IS-9"]}}
    emptied = applied(
        ld_api, "palette", {"kind": "removeCustomProperties", "key": "jira", "values": ["IS-9"]}, env=None
    )
    assert emptied["customProperties"] == {}
    assert "no custom property" in refused_patch(
        ld_api, "palette", {"kind": "removeCustomProperties", "key": "x", "values": []}, env=None
    )
    assert "name" in refused_patch(
        ld_api, "palette", {"kind": "addCustomProperties", "key": "new", "values": ["a"]}, env=None
    )


def test_maintainers(ld_api, palette):
    members = {f["maintainerId"] for f in ld_api.get("/api/v2/flags/default?limit=50").json()["items"]}
    assert palette["maintainerId"] in members
    team = applied(ld_api, "palette", {"kind": "updateMaintainerTeam", "value": "growth-team"}, env=None)
    assert team["maintainerTeamKey"] == "growth-team" and "maintainerId" not in team
    member = applied(ld_api, "palette", {"kind": "updateMaintainerMember", "value": palette["maintainerId"]}, env=None)
    assert member["maintainerId"] == palette["maintainerId"] and "maintainerTeamKey" not in member
    removed = applied(ld_api, "palette", {"kind": "removeMaintainer"}, env=None)
    assert "maintainerId" not in removed and "maintainerTeamKey" not in removed
    assert "not a member" in refused_patch(
        ld_api, "palette", {"kind": "updateMaintainerMember", "value": "nobody"}, env=None
    )


def test_client_side_availability(ld_api, palette):
    assert palette["clientSideAvailability"] == {"usingEnvironmentId": False, "usingMobileKey": True}
    on = applied(ld_api, "palette", {"kind": "turnOnClientSideAvailability", "value": "usingEnvironmentId"}, env=None)
    assert on["clientSideAvailability"]["usingEnvironmentId"] is True and on["includeInSnippet"] is True
    off = applied(ld_api, "palette", {"kind": "turnOffClientSideAvailability", "value": "usingMobileKey"}, env=None)
    assert off["clientSideAvailability"] == {"usingEnvironmentId": True, "usingMobileKey": False}
    assert "usingMobileKey or usingEnvironmentId" in refused_patch(
        ld_api, "palette", {"kind": "turnOnClientSideAvailability", "value": "everywhere"}, env=None
    )


def test_archive_and_restore(ld_api, palette):
    archived = applied(ld_api, "palette", {"kind": "archiveFlag"}, env=None)
    assert archived["archived"] is True and isinstance(archived["archivedDate"], int)
    assert all(c["archived"] for c in archived["environments"].values())
    message = refused_patch(ld_api, "palette", {"kind": "turnFlagOn"})
    assert "archived; restore it first" in message
    restored_and_on = applied(ld_api, "palette", {"kind": "restoreFlag"}, {"kind": "turnFlagOn"})
    assert restored_and_on["archived"] is False and "archivedDate" not in restored_and_on
    assert restored_and_on["environments"][ENV]["on"] is True
    assert not restored_and_on["environments"][ENV]["archived"]


def test_a_prerequisite_cannot_be_archived(ld_api):
    message = refused_patch(ld_api, "dark-mode-default", {"kind": "archiveFlag"}, env=None)
    assert message.endswith(
        "You cannot archive a flag that is a prerequisite of other flags: 'dark-mode-default' is a prerequisite of "
        "'new-onboarding-flow' in 'test'"
    )


def test_deprecate_and_restore(ld_api, palette):
    deprecated = applied(ld_api, "palette", {"kind": "deprecateFlag"}, env=None)
    assert deprecated["deprecated"] is True and isinstance(deprecated["deprecatedDate"], int)
    still = applied(ld_api, "palette", {"kind": "turnFlagOn"})
    assert still["deprecated"] is True and still["deprecatedDate"] == deprecated["deprecatedDate"]
    restored = applied(ld_api, "palette", {"kind": "restoreDeprecatedFlag"}, env=None)
    assert restored["deprecated"] is False and "deprecatedDate" not in restored


def test_delete_flag_instruction(ld_api, palette):
    dry = semantic(ld_api, "palette", {"kind": "deleteFlag"}, env=None, query="?dryRun=true")
    assert dry.status_code == 200 and dry.json()["key"] == "palette"
    assert get_flag(ld_api, "palette") == palette
    response = semantic(
        ld_api, "palette", {"kind": "updateName", "value": "Last name"}, {"kind": "deleteFlag"}, env=None
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Last name"
    assert ld_api.get("/api/v2/flags/default/palette").status_code == 404
    refused_delete = refused_patch(ld_api, "dark-mode-default", {"kind": "deleteFlag"}, env=None, status=409)
    assert "prerequisite of flag 'new-onboarding-flow'" in refused_delete
