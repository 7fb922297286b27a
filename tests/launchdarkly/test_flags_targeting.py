"""Semantic-patch instructions on one environment's targeting: on/off, rules, clauses, rollouts,
individual targets, prerequisites and event tracking. Each runs over HTTP and the Flask client."""

from __future__ import annotations

from typing import Any

import pytest

from tests.launchdarkly.helpers import (
    ENV,
    SEMANTIC,
    applied,
    create_flag,
    get_flag,
    refused_patch,
    semantic,
    variation_id,
)

CLAUSE = {"contextKind": "user", "attribute": "country", "op": "in", "negate": False, "values": ["SE", "NO"]}


@pytest.fixture
def sandbox(ld_api) -> dict[str, Any]:
    """A fresh three-variation flag with one rule in production."""
    row = create_flag(
        ld_api,
        "sandbox",
        variations=[{"value": "red", "name": "Red"}, {"value": "green", "name": "Green"}, {"value": "blue"}],
    )
    return applied(
        ld_api, "sandbox", {"kind": "addRule", "variationId": row["variations"][1]["_id"], "clauses": [CLAUSE]}
    )


def _prod(flag: dict[str, Any]) -> dict[str, Any]:
    return flag["environments"][ENV]


def _vid(flag: dict[str, Any], index: int) -> str:
    return flag["variations"][index]["_id"]


def test_turn_flag_on_and_off_moves_versions_in_that_environment_only(ld_api, sandbox):
    on = applied(ld_api, "sandbox", {"kind": "turnFlagOn"})
    assert _prod(on)["on"] is True and on["environments"]["test"]["on"] is False
    assert on["_version"] == sandbox["_version"] + 1
    assert _prod(on)["version"] == _prod(sandbox)["version"] + 1
    assert on["environments"]["test"]["version"] == sandbox["environments"]["test"]["version"]
    assert get_flag(ld_api, "sandbox") == on
    off = applied(ld_api, "sandbox", {"kind": "turnFlagOff"})
    assert _prod(off)["on"] is False and off["_version"] == on["_version"] + 1
    again = applied(ld_api, "sandbox", {"kind": "turnFlagOff"})
    assert again["_version"] == off["_version"], "a patch that changes nothing leaves the versions alone"


def test_add_rule_with_variation_before_another_and_with_rollout(ld_api, sandbox):
    first = _prod(sandbox)["rules"][0]
    assert first["variation"] == 1 and first["clauses"][0]["values"] == ["SE", "NO"] and first["_id"]
    assert first["clauses"][0]["_id"] and first["trackEvents"] is False
    before = applied(
        ld_api,
        "sandbox",
        {
            "kind": "addRule",
            "variationId": _vid(sandbox, 2),
            "beforeRuleId": first["_id"],
            "description": "Staff",
            "clauses": [{"attribute": "email", "op": "endsWith", "values": ["@example.com"]}],
        },
    )
    rules = _prod(before)["rules"]
    assert [r["description"] for r in rules[:1]] == ["Staff"] and rules[1]["_id"] == first["_id"]
    assert rules[0]["clauses"][0]["contextKind"] == "user" and rules[0]["clauses"][0]["negate"] is False
    rollout = applied(
        ld_api,
        "sandbox",
        {
            "kind": "addRule",
            "clauses": [CLAUSE],
            "rolloutWeights": {_vid(sandbox, 0): 15000, _vid(sandbox, 2): 85000},
            "rolloutContextKind": "organization",
            "rolloutBucketBy": "plan",
        },
    )
    added = _prod(rollout)["rules"][-1]
    assert "variation" not in added
    assert added["rollout"] == {
        "variations": [{"variation": 0, "weight": 15000}, {"variation": 2, "weight": 85000}],
        "bucketBy": "plan",
        "contextKind": "organization",
    }


@pytest.mark.parametrize(
    ("instruction", "fragment"),
    [
        ({"kind": "addRule", "clauses": [CLAUSE]}, "either variationId or rolloutWeights"),
        ({"kind": "addRule", "clauses": [CLAUSE], "variationId": "nope"}, "is not a variation"),
        (
            {"kind": "addRule", "clauses": [dict(CLAUSE, op="like")], "variationId": None, "rolloutWeights": {}},
            "rollout",
        ),
        ({"kind": "addRule", "clauses": [dict(CLAUSE, op="like")], "rolloutWeights": {"x": 1}}, "is not a variation"),
        ({"kind": "addRule", "clauses": "all", "rolloutWeights": None, "variationId": "v0"}, "clauses"),
        ({"kind": "addRule", "clauses": [CLAUSE], "variationId": "v0", "beforeRuleId": "nope"}, "beforeRuleId"),
        ({"kind": "addRule", "clauses": [dict(CLAUSE, op="like")], "variationId": "v0"}, "op must be one of"),
        ({"kind": "addRule", "clauses": [{"op": "in", "values": []}], "variationId": "v0"}, "attribute"),
        ({"kind": "addRule", "clauses": [CLAUSE], "rolloutWeights": {"v0": 60000, "v1": 30000}}, "add up to 100000"),
        ({"kind": "addRule", "clauses": [CLAUSE], "rolloutWeights": {"v0": 100001}}, "from 0 to 100000"),
        ({"kind": "addRule", "clauses": [CLAUSE], "variationId": "v0", "trackEvents": "yes"}, "trackEvents"),
    ],
)
def test_add_rule_refusals(ld_api, sandbox, instruction, fragment):
    ids = {f"v{i}": v["_id"] for i, v in enumerate(sandbox["variations"])}
    ins = dict(instruction)
    if ins.get("variationId") in ids:
        ins["variationId"] = ids[ins["variationId"]]
    if isinstance(ins.get("rolloutWeights"), dict):
        ins["rolloutWeights"] = {ids.get(k, k): w for k, w in ins["rolloutWeights"].items()}
    message = refused_patch(ld_api, "sandbox", ins)
    assert fragment in message
    assert message.startswith("instructions[0] addRule:")


def test_remove_reorder_and_replace_rules(ld_api, sandbox):
    second = applied(ld_api, "sandbox", {"kind": "addRule", "variationId": _vid(sandbox, 0), "clauses": []})
    ids = [r["_id"] for r in _prod(second)["rules"]]
    reordered = applied(ld_api, "sandbox", {"kind": "reorderRules", "ruleIds": list(reversed(ids))})
    assert [r["_id"] for r in _prod(reordered)["rules"]] == list(reversed(ids))
    assert "every rule" in refused_patch(ld_api, "sandbox", {"kind": "reorderRules", "ruleIds": ids[:1]})
    assert "every rule" in refused_patch(ld_api, "sandbox", {"kind": "reorderRules", "ruleIds": [ids[0], ids[0]]})
    removed = applied(ld_api, "sandbox", {"kind": "removeRule", "ruleId": ids[0]})
    assert [r["_id"] for r in _prod(removed)["rules"]] == [ids[1]]
    unchanged = applied(ld_api, "sandbox", {"kind": "removeRule", "ruleId": "no-such-rule"})
    assert unchanged["_version"] == removed["_version"], "removing an unknown rule does nothing"
    replaced = applied(
        ld_api,
        "sandbox",
        {
            "kind": "replaceRules",
            "rules": [
                {
                    "variationId": _vid(sandbox, 2),
                    "description": "My new rule",
                    "clauses": [CLAUSE],
                    "trackEvents": True,
                },
                {"rolloutWeights": {_vid(sandbox, 0): 50000, _vid(sandbox, 1): 50000}, "clauses": []},
            ],
        },
    )
    rules = _prod(replaced)["rules"]
    assert [r.get("description") for r in rules] == ["My new rule", None]
    assert (
        rules[0]["variation"] == 2 and rules[0]["trackEvents"] is True and rules[1]["rollout"]["contextKind"] == "user"
    )
    assert ids[1] not in [r["_id"] for r in rules]
    assert "rules must be a list" in refused_patch(ld_api, "sandbox", {"kind": "replaceRules", "rules": {"a": 1}})


def test_clause_instructions(ld_api, sandbox):
    rule = _prod(sandbox)["rules"][0]
    rule_id, clause_id = rule["_id"], rule["clauses"][0]["_id"]
    added = applied(
        ld_api,
        "sandbox",
        {"kind": "addClauses", "ruleId": rule_id, "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}]},
    )
    clauses = _prod(added)["rules"][0]["clauses"]
    assert [c["attribute"] for c in clauses] == ["country", "plan"] and clauses[1]["_id"] != clause_id
    more = applied(
        ld_api,
        "sandbox",
        {"kind": "addValuesToClause", "ruleId": rule_id, "clauseId": clause_id, "values": ["DK", "SE"]},
    )
    assert _prod(more)["rules"][0]["clauses"][0]["values"] == ["SE", "NO", "DK"]
    fewer = applied(
        ld_api,
        "sandbox",
        {"kind": "removeValuesFromClause", "ruleId": rule_id, "clauseId": clause_id, "values": ["SE"]},
    )
    assert _prod(fewer)["rules"][0]["clauses"][0]["values"] == ["NO", "DK"]
    new_clause = {"contextKind": "user", "attribute": "country", "op": "in", "negate": True, "values": ["MX", "CA"]}
    updated = applied(
        ld_api, "sandbox", {"kind": "updateClause", "ruleId": rule_id, "clauseId": clause_id, "clause": new_clause}
    )
    assert _prod(updated)["rules"][0]["clauses"][0] == {"_id": clause_id, **new_clause}
    second = _prod(updated)["rules"][0]["clauses"][1]["_id"]
    removed = applied(ld_api, "sandbox", {"kind": "removeClauses", "ruleId": rule_id, "clauseIds": [second]})
    assert [c["_id"] for c in _prod(removed)["rules"][0]["clauses"]] == [clause_id]
    assert "not a clause" in refused_patch(
        ld_api, "sandbox", {"kind": "removeClauses", "ruleId": rule_id, "clauseIds": ["x"]}
    )
    assert "not a clause" in refused_patch(
        ld_api, "sandbox", {"kind": "updateClause", "ruleId": rule_id, "clauseId": "x", "clause": new_clause}
    )
    assert "not a rule" in refused_patch(ld_api, "sandbox", {"kind": "addClauses", "ruleId": "x", "clauses": []})
    assert "values must be a list" in refused_patch(
        ld_api, "sandbox", {"kind": "addValuesToClause", "ruleId": rule_id, "clauseId": clause_id, "values": "DK"}
    )


def test_rule_description_track_events_and_serve(ld_api, sandbox):
    rule_id = _prod(sandbox)["rules"][0]["_id"]
    described = applied(
        ld_api, "sandbox", {"kind": "updateRuleDescription", "ruleId": rule_id, "description": "Nordics"}
    )
    assert _prod(described)["rules"][0]["description"] == "Nordics"
    tracked = applied(ld_api, "sandbox", {"kind": "updateRuleTrackEvents", "ruleId": rule_id, "trackEvents": True})
    assert _prod(tracked)["rules"][0]["trackEvents"] is True
    rolled = applied(
        ld_api,
        "sandbox",
        {"kind": "updateRuleVariationOrRollout", "ruleId": rule_id, "rolloutWeights": {_vid(sandbox, 0): 100000}},
    )
    assert "variation" not in _prod(rolled)["rules"][0]
    assert _prod(rolled)["rules"][0]["rollout"]["variations"] == [{"variation": 0, "weight": 100000}]
    served = applied(
        ld_api, "sandbox", {"kind": "updateRuleVariationOrRollout", "ruleId": rule_id, "variationId": _vid(sandbox, 2)}
    )
    assert _prod(served)["rules"][0]["variation"] == 2 and "rollout" not in _prod(served)["rules"][0]
    assert "true or false" in refused_patch(
        ld_api, "sandbox", {"kind": "updateRuleTrackEvents", "ruleId": rule_id, "trackEvents": 1}
    )
    assert "ruleId is required" in refused_patch(
        ld_api, "sandbox", {"kind": "updateRuleDescription", "description": "x"}
    )


def test_fallthrough_off_variation_and_event_tracking(ld_api, sandbox):
    fall = applied(ld_api, "sandbox", {"kind": "updateFallthroughVariationOrRollout", "variationId": _vid(sandbox, 1)})
    assert _prod(fall)["fallthrough"] == {"variation": 1}
    rollout = applied(
        ld_api,
        "sandbox",
        {
            "kind": "updateFallthroughVariationOrRollout",
            "rolloutContextKind": "user",
            "rolloutWeights": {_vid(sandbox, 1): 15000, _vid(sandbox, 2): 85000},
        },
    )
    assert _prod(rollout)["fallthrough"] == {
        "rollout": {
            "variations": [{"variation": 1, "weight": 15000}, {"variation": 2, "weight": 85000}],
            "contextKind": "user",
        }
    }
    both = {"kind": "updateFallthroughVariationOrRollout", "variationId": _vid(sandbox, 1), "rolloutWeights": {}}
    assert "either variationId or rolloutWeights" in refused_patch(ld_api, "sandbox", both)
    off = applied(ld_api, "sandbox", {"kind": "updateOffVariation", "variationId": _vid(sandbox, 0)})
    assert _prod(off)["offVariation"] == 0
    assert "not a variation" in refused_patch(ld_api, "sandbox", {"kind": "updateOffVariation", "variationId": "nope"})
    tracked = applied(
        ld_api,
        "sandbox",
        {"kind": "updateTrackEvents", "trackEvents": True},
        {"kind": "updateTrackEventsFallthrough", "trackEvents": True},
    )
    assert _prod(tracked)["trackEvents"] is True and _prod(tracked)["trackEventsFallthrough"] is True
    assert tracked["environments"]["test"]["trackEvents"] is False
    assert "true or false" in refused_patch(ld_api, "sandbox", {"kind": "updateTrackEvents", "trackEvents": "on"})


def test_individual_targets(ld_api, sandbox):
    v0, v1 = _vid(sandbox, 0), _vid(sandbox, 1)
    users = applied(ld_api, "sandbox", {"kind": "addUserTargets", "values": ["u1", "u2"], "variationId": v0})
    assert _prod(users)["targets"] == [{"contextKind": "user", "variation": 0, "values": ["u1", "u2"]}]
    orgs = applied(
        ld_api, "sandbox", {"kind": "addTargets", "values": ["acme"], "contextKind": "organization", "variationId": v1}
    )
    assert _prod(orgs)["contextTargets"] == [{"contextKind": "organization", "variation": 1, "values": ["acme"]}]
    default_kind = applied(ld_api, "sandbox", {"kind": "addTargets", "values": ["u3"], "variationId": v0})
    assert _prod(default_kind)["targets"][0]["values"] == ["u1", "u2", "u3"]
    clash = {"kind": "addUserTargets", "values": ["u1"], "variationId": v1}
    assert "more than one variation" in refused_patch(ld_api, "sandbox", clash)
    fewer = applied(ld_api, "sandbox", {"kind": "removeUserTargets", "values": ["u2", "ghost"], "variationId": v0})
    assert _prod(fewer)["targets"][0]["values"] == ["u1", "u3"]
    gone = applied(
        ld_api,
        "sandbox",
        {"kind": "removeTargets", "values": ["acme"], "contextKind": "organization", "variationId": v1},
    )
    assert _prod(gone)["contextTargets"] == []
    cleared = applied(ld_api, "sandbox", {"kind": "clearUserTargets", "variationId": v0})
    assert _prod(cleared)["targets"] == []
    replaced = applied(
        ld_api,
        "sandbox",
        {
            "kind": "replaceTargets",
            "targets": [
                {"contextKind": "user", "variationId": v0, "values": ["u9"]},
                {"contextKind": "device", "variationId": v1, "values": ["d1"]},
            ],
        },
    )
    assert _prod(replaced)["targets"] == [{"contextKind": "user", "variation": 0, "values": ["u9"]}]
    assert _prod(replaced)["contextTargets"] == [{"contextKind": "device", "variation": 1, "values": ["d1"]}]
    all_cleared = applied(ld_api, "sandbox", {"kind": "clearTargets", "variationId": v1})
    assert _prod(all_cleared)["contextTargets"] == [] and _prod(all_cleared)["targets"][0]["values"] == ["u9"]
    every = [{"variationId": v["_id"], "values": [f"k{i}"]} for i, v in enumerate(sandbox["variations"])]
    users_only = applied(ld_api, "sandbox", {"kind": "replaceUserTargets", "targets": every})
    assert [t["values"] for t in _prod(users_only)["targets"]] == [["k0"], ["k1"], ["k2"]]
    partial = {"kind": "replaceUserTargets", "targets": every[:2]}
    assert "each variation" in refused_patch(ld_api, "sandbox", partial)
    assert "list of strings" in refused_patch(
        ld_api, "sandbox", {"kind": "addTargets", "values": "u1", "variationId": v0}
    )


def test_prerequisites(ld_api, sandbox):
    other = get_flag(ld_api, "pricing-page-layout")
    compact = variation_id(other, "compact")
    added = applied(
        ld_api, "sandbox", {"kind": "addPrerequisite", "key": "pricing-page-layout", "variationId": compact}
    )
    assert _prod(added)["prerequisites"] == [{"key": "pricing-page-layout", "variation": 1}]
    assert "already a prerequisite" in refused_patch(
        ld_api, "sandbox", {"kind": "addPrerequisite", "key": "pricing-page-layout", "variationId": compact}
    )
    classic = variation_id(other, "classic")
    updated = applied(
        ld_api, "sandbox", {"kind": "updatePrerequisite", "key": "pricing-page-layout", "variationId": classic}
    )
    assert _prod(updated)["prerequisites"] == [{"key": "pricing-page-layout", "variation": 0}]
    dark = get_flag(ld_api, "dark-mode-default")
    replaced = applied(
        ld_api,
        "sandbox",
        {
            "kind": "replacePrerequisites",
            "prerequisites": [{"key": "dark-mode-default", "variationId": dark["variations"][1]["_id"]}],
        },
    )
    assert _prod(replaced)["prerequisites"] == [{"key": "dark-mode-default", "variation": 1}]
    removed = applied(ld_api, "sandbox", {"kind": "removePrerequisite", "key": "dark-mode-default"})
    assert _prod(removed)["prerequisites"] == []
    noop = applied(ld_api, "sandbox", {"kind": "removePrerequisite", "key": "dark-mode-default"})
    assert noop["_version"] == removed["_version"]
    own = sandbox["variations"][0]["_id"]
    assert "not a prerequisite" in refused_patch(
        ld_api, "sandbox", {"kind": "updatePrerequisite", "key": "pricing-page-layout", "variationId": classic}
    )
    assert "unknown flag" in refused_patch(
        ld_api, "sandbox", {"kind": "addPrerequisite", "key": "ghost", "variationId": own}
    )
    assert "own prerequisite" in refused_patch(
        ld_api, "sandbox", {"kind": "addPrerequisite", "key": "sandbox", "variationId": own}
    )
    assert "not a variation of flag 'pricing-page-layout'" in refused_patch(
        ld_api, "sandbox", {"kind": "addPrerequisite", "key": "pricing-page-layout", "variationId": own}
    )
    assert "archived" in refused_patch(
        ld_api,
        "sandbox",
        {
            "kind": "addPrerequisite",
            "key": "holiday-banner",
            "variationId": get_flag(ld_api, "holiday-banner")["variations"][0]["_id"],
        },
    )


def test_prerequisite_cycles_are_refused(ld_api, sandbox):
    applied(
        ld_api,
        "sandbox",
        {
            "kind": "addPrerequisite",
            "key": "pricing-page-layout",
            "variationId": get_flag(ld_api, "pricing-page-layout")["variations"][0]["_id"],
        },
    )
    message = refused_patch(
        ld_api,
        "pricing-page-layout",
        {"kind": "addPrerequisite", "key": "sandbox", "variationId": sandbox["variations"][0]["_id"]},
    )
    assert "cycle" in message
    # the same pair in another environment is no cycle
    other_env = semantic(
        ld_api,
        "pricing-page-layout",
        {"kind": "addPrerequisite", "key": "sandbox", "variationId": sandbox["variations"][0]["_id"]},
        env="test",
    )
    assert other_env.status_code == 200, other_env.text


def test_environment_key_is_required_and_must_exist(ld_api, sandbox):
    message = refused_patch(ld_api, "sandbox", {"kind": "updateName", "value": "x"}, {"kind": "turnFlagOn"}, env=None)
    assert "environmentKey is required for turnFlagOn" in message
    assert "unknown environment 'staging'" in refused_patch(ld_api, "sandbox", {"kind": "turnFlagOn"}, env="staging")
    flag_wide = applied(ld_api, "sandbox", {"kind": "updateName", "value": "No environment needed"}, env=None)
    assert flag_wide["name"] == "No environment needed"


def test_a_failing_instruction_changes_nothing(ld_api, sandbox):
    rule_id = _prod(sandbox)["rules"][0]["_id"]
    message = refused_patch(
        ld_api,
        "sandbox",
        {"kind": "turnFlagOn"},
        {"kind": "updateName", "value": "Renamed"},
        {"kind": "removeClauses", "ruleId": rule_id, "clauseIds": ["no-such-clause"]},
    )
    assert message.startswith("instructions[2] removeClauses:")


def test_dry_run_answers_the_preview_and_stores_nothing(ld_api, sandbox):
    response = semantic(
        ld_api, "sandbox", {"kind": "turnFlagOn"}, {"kind": "addTags", "values": ["x"]}, query="?dryRun=true"
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert _prod(preview)["on"] is True and preview["tags"] == ["x"] and preview["_version"] == sandbox["_version"] + 1
    assert get_flag(ld_api, "sandbox") == sandbox
    bad = semantic(ld_api, "sandbox", {"kind": "updateOffVariation", "variationId": "x"}, query="?dryRun=true")
    assert bad.status_code == 400
    ignored = semantic(ld_api, "sandbox", {"kind": "turnFlagOn"}, query="?ignoreConflicts=true")
    assert ignored.status_code == 200 and _prod(ignored.json())["on"] is True


def test_semantic_media_type_parameter_spellings(ld_api, sandbox):
    import json

    body = json.dumps({"environmentKey": ENV, "instructions": [{"kind": "turnFlagOn"}]})
    response = ld_api.patch(
        "/api/v2/flags/default/sandbox",
        data=body,
        content_type="application/json;domain-model=launchdarkly.semanticpatch",
    )
    assert response.status_code == 200, response.text
    assert _prod(response.json())["on"] is True
    plain = ld_api.patch("/api/v2/flags/default/sandbox", data=body, content_type="application/json")
    assert plain.status_code == 400
    assert "domain-model=launchdarkly.semanticpatch" in plain.json()["message"]


def test_instruction_list_shape_errors(ld_api, sandbox):
    assert "may not be empty" in refused_patch(ld_api, "sandbox")
    bad_kind = semantic(ld_api, "sandbox", {"kind": "flyToTheMoon"})
    assert bad_kind.status_code == 400 and bad_kind.json()["code"] == "invalid_request"
    no_kind = semantic(ld_api, "sandbox", {"value": 1})
    assert no_kind.status_code == 400
    array = ld_api.patch(
        "/api/v2/flags/default/sandbox",
        data='[{"op": "replace", "path": "/name", "value": "x"}]',
        content_type=SEMANTIC,
    )
    assert array.status_code == 400
