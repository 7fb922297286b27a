"""Flags and the experiments that run on them: the integration's workflow end to end, what a live
experiment holds on its flag, and flag changes the experiment sees."""

from __future__ import annotations

from typing import Any

from tests.launchdarkly.helpers import ENV, applied, create_flag, flag_url, get_flag, refused_patch
from tests.launchdarkly.helpers import create as create_experiment
from tests.launchdarkly.helpers import get as get_experiment
from tests.launchdarkly.helpers import patch as patch_experiment

CLAUSE = {"attribute": "plan", "op": "in", "values": ["pro"], "contextKind": "user"}


def _experiment_on(client, flag_key: str, exp_key: str = "flag-exp", rule: str = "fallthrough") -> dict[str, Any]:
    return create_experiment(client, exp_key, flag_key=flag_key, rule=rule)


def test_create_flag_turn_it_on_then_create_and_start_the_experiment(ld_api):
    flag = create_flag(
        ld_api, "checkout-cta", variations=[{"value": "buy", "name": "Buy"}, {"value": "order", "name": "Order"}]
    )
    assert flag["environments"][ENV]["on"] is False
    _experiment_on(ld_api, "checkout-cta")
    off = patch_experiment(ld_api, "flag-exp", {"kind": "startIteration"})
    assert off.status_code == 400 and "is off in 'production'" in off.json()["message"]
    on = applied(ld_api, "checkout-cta", {"kind": "turnFlagOn"})
    assert on["environments"][ENV]["on"] is True
    started = patch_experiment(ld_api, "flag-exp", {"kind": "startIteration"})
    assert started.status_code == 200, started.text
    assert started.json()["currentIteration"]["status"] == "running"
    status = ld_api.get(f"/api/v2/flag-statuses/default/{ENV}/checkout-cta").json()
    assert status["name"] == "active" and "lastRequested" in status


def test_a_running_experiment_owns_what_its_rule_serves(ld_api):
    flag = get_flag(ld_api, "search-ranking-v2")  # search-ranking-test runs on its fallthrough in production
    variation = flag["variations"][1]["_id"]
    message = refused_patch(
        ld_api,
        "search-ranking-v2",
        {"kind": "updateFallthroughVariationOrRollout", "variationId": variation},
        status=409,
    )
    assert "running experiment 'search-ranking-test'" in message
    json_patch = ld_api.patch(
        flag_url("search-ranking-v2"),
        json_body=[{"op": "replace", "path": "/environments/production/fallthrough", "value": {"variation": 1}}],
    )
    assert json_patch.status_code == 409 and json_patch.json()["code"] == "optimistic_locking_error"
    # the same rule in another environment, and the flag's other settings, stay free
    other_env = applied(
        ld_api,
        "search-ranking-v2",
        {"kind": "updateFallthroughVariationOrRollout", "variationId": variation},
        env="test",
    )
    assert other_env["environments"]["test"]["fallthrough"] == {"variation": 1}
    off = applied(ld_api, "search-ranking-v2", {"kind": "turnFlagOff"}, {"kind": "addTags", "values": ["x"]})
    assert off["environments"][ENV]["on"] is False


def test_rules_and_variations_a_live_experiment_uses_cannot_be_removed(ld_api):
    flag = create_flag(ld_api, "hero", variations=[{"value": "a"}, {"value": "b"}, {"value": "c"}, {"value": "d"}])
    with_rule = applied(
        ld_api,
        "hero",
        {"kind": "turnFlagOn"},
        {"kind": "addRule", "variationId": flag["variations"][3]["_id"], "clauses": [CLAUSE]},
    )
    rule_id = with_rule["environments"][ENV]["rules"][0]["_id"]
    _experiment_on(ld_api, "hero", rule=rule_id)  # a draft: treatments a and b on the rule
    used = refused_patch(
        ld_api, "hero", {"kind": "removeVariation", "variationId": flag["variations"][1]["_id"]}, env=None
    )
    assert "cannot be removed: experiment 'flag-exp' in 'production' uses it" in used
    rule = refused_patch(ld_api, "hero", {"kind": "removeRule", "ruleId": rule_id})
    assert f"Targeting rule '{rule_id}' cannot be removed" in rule
    assert "cannot be removed" in refused_patch(ld_api, "hero", {"kind": "replaceRules", "rules": []})
    free = applied(ld_api, "hero", {"kind": "removeVariation", "variationId": flag["variations"][2]["_id"]}, env=None)
    assert [v["value"] for v in free["variations"]] == ["a", "b", "d"]
    assert free["environments"][ENV]["rules"][0]["variation"] == 2, "the rule follows its variation"
    draft_serve = applied(
        ld_api,
        "hero",
        {"kind": "updateRuleVariationOrRollout", "ruleId": rule_id, "variationId": flag["variations"][0]["_id"]},
    )
    assert draft_serve["environments"][ENV]["rules"][0]["variation"] == 0, "a draft does not hold what the rule serves"
    started = patch_experiment(ld_api, "flag-exp", {"kind": "startIteration"})
    assert started.status_code == 200, started.text
    running = refused_patch(
        ld_api,
        "hero",
        {"kind": "updateRuleVariationOrRollout", "ruleId": rule_id, "variationId": flag["variations"][1]["_id"]},
        status=409,
    )
    assert f"rule '{rule_id}' of flag 'hero'" in running
    archived = refused_patch(ld_api, "hero", {"kind": "archiveFlag"}, env=None)
    assert "stop the experiment before archiving" in archived


def test_stopping_frees_the_rule_and_the_flag(ld_api):
    exp = get_experiment(ld_api, "search-ranking-test", expand="treatments")
    winner = exp["currentIteration"]["treatments"][1]["_id"]
    stopped = patch_experiment(ld_api, "search-ranking-test", {"kind": "stopIteration", "winningTreatmentId": winner})
    assert stopped.status_code == 200, stopped.text
    shipped = get_flag(ld_api, "search-ranking-v2")
    assert shipped["environments"][ENV]["fallthrough"] == {"variation": 1}, "stopping ships the winner"
    back = applied(
        ld_api,
        "search-ranking-v2",
        {"kind": "updateFallthroughVariationOrRollout", "variationId": shipped["variations"][0]["_id"]},
    )
    assert back["environments"][ENV]["fallthrough"] == {"variation": 0}
    assert ld_api.delete(flag_url("search-ranking-v2")).status_code == 204


def test_experiments_see_flag_changes(ld_api):
    flag = get_flag(ld_api, "pricing-page-layout")
    rule_id = flag["environments"][ENV]["rules"][0]["_id"]
    _experiment_on(ld_api, "pricing-page-layout", "rule-exp", rule=rule_id)
    applied(
        ld_api,
        "pricing-page-layout",
        {"kind": "updateRuleDescription", "ruleId": rule_id, "description": "Paying customers"},
        {"kind": "addClauses", "ruleId": rule_id, "clauses": [CLAUSE]},
    )
    reported = get_experiment(ld_api, "rule-exp")["currentIteration"]["flags"]["pricing-page-layout"]
    assert reported["targetingRuleDescription"] == "Paying customers"
    assert [c["attribute"] for c in reported["targetingRuleClauses"]] == ["segmentMatch", "plan"]
    applied(ld_api, "pricing-page-layout", {"kind": "archiveFlag"}, env=None)
    archived = patch_experiment(ld_api, "rule-exp", {"kind": "startIteration"})
    assert archived.status_code == 400 and "is archived" in archived.json()["message"]
    applied(ld_api, "pricing-page-layout", {"kind": "restoreFlag"}, env=None)
    assert patch_experiment(ld_api, "rule-exp", {"kind": "startIteration"}).status_code == 200


def test_the_status_list_agrees_with_each_flag_status_while_an_experiment_runs(ld_api):
    """Statuses read the running experiments found in one pass per write: a start shows at once."""
    create_flag(
        ld_api, "checkout-cta", variations=[{"value": "buy", "name": "Buy"}, {"value": "order", "name": "Order"}]
    )
    applied(ld_api, "checkout-cta", {"kind": "turnFlagOn"})
    _experiment_on(ld_api, "checkout-cta")
    before = (
        ld_api.get(f"/api/v2/flag-statuses/default/{ENV}/checkout-cta").json()["name"],
        ld_api.get("/api/v2/flag-status/default/checkout-cta").json()["environments"][ENV]["name"],
    )
    assert before == ("new", "new")  # read (and remembered) before the experiment runs
    assert patch_experiment(ld_api, "flag-exp", {"kind": "startIteration"}).status_code == 200
    after = (
        ld_api.get(f"/api/v2/flag-statuses/default/{ENV}/checkout-cta").json()["name"],
        ld_api.get("/api/v2/flag-status/default/checkout-cta").json()["environments"][ENV]["name"],
    )
    assert after == ("active", "active")
    listed = ld_api.get(f"/api/v2/flag-statuses/default/{ENV}").json()["items"]
    by_key = {item["_links"]["self"]["href"].rsplit("/", 1)[-1]: item for item in listed}
    assert by_key["checkout-cta"]["name"] == "active"
    for key, item in by_key.items():
        one = ld_api.get(f"/api/v2/flag-statuses/default/{ENV}/{key}").json()
        assert {k: one.get(k) for k in ("name", "lastRequested", "default")} == {
            k: item.get(k) for k in ("name", "lastRequested", "default")
        }
