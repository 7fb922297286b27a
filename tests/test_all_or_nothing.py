"""An error means nothing changed: every write operation, failed at its last step, leaves no trace.

For each write operation of every surface, a valid request is prepared (with whatever set-up it
needs, committed normally); then the request is sent with a failure forced after its handler ran
(at the response check, the step before persistence). It must answer 500, report the error, and
leave the whole state — vendor data, keys, clock and fault rules — exactly as it was. A second
test fails the save itself. The corpus must name every write operation the server serves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.core.problems import Problem
from mockserver.web.pipeline import Pipeline
from tests.conftest import PH_KEY, make_settings
from tests.speccheck import FlaskClient

P = "/api/projects/1"
LD = {"Authorization": "api-all-or-nothing"}
LD_EXP = "/api/v2/projects/default/environments/production/experiments"
SEMANTIC = "application/json; domain-model=launchdarkly.semanticpatch"
MEAN = {"kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "EventsNode", "event": "$pageview"}}
GROUPS = {"groups": [{"properties": [], "rollout_percentage": 100}]}
THREE_WAY = {
    "variants": [
        {"key": "control", "rollout_percentage": 34},
        {"key": "test", "rollout_percentage": 33},
        {"key": "test-2", "rollout_percentage": 33},
    ]
}
Request = tuple[str, str, Any, dict[str, str]]  # method, path, JSON body (None: none), headers


def _experiment(client: FlaskClient, key: str = "aon", **fields: Any) -> dict[str, Any]:
    created = client.post(f"{P}/experiments/", json_body={"name": "All or nothing", "feature_flag_key": key, **fields})
    assert created.status_code == 201, created.text
    return created.json()


def _launched(client: FlaskClient, key: str = "aon-run") -> dict[str, Any]:
    exp = _experiment(client, key)
    assert client.post(f"{P}/experiments/{exp['id']}/launch/").status_code == 200
    return exp


def _ended(client: FlaskClient) -> dict[str, Any]:
    exp = _launched(client, "aon-end")
    assert client.post(f"{P}/experiments/{exp['id']}/end/").status_code == 200
    return exp


def _holdout(client: FlaskClient) -> dict[str, Any]:
    body = {"name": "Aon holdout", "filters": [{"properties": [], "rollout_percentage": 10}]}
    created = client.post(f"{P}/experiment_holdouts/", json_body=body)
    assert created.status_code == 201, created.text
    return created.json()


def _saved_metric(client: FlaskClient) -> dict[str, Any]:
    created = client.post(f"{P}/experiment_saved_metrics/", json_body={"name": "Aon metric", "query": MEAN})
    assert created.status_code == 201, created.text
    return created.json()


def _change_request(client: FlaskClient) -> str:
    policy = {"action_key": "experiment.launch", "quorum": 1, "project_id": 1}
    assert client.post("/__admin/posthog/approval-policies", json_body=policy).status_code == 201
    exp = _experiment(client, "aon-gated")
    gated = client.post(f"{P}/experiments/{exp['id']}/launch/")
    assert gated.status_code == 409, gated.text
    return gated.json()["change_request_id"]


def _ld_flag(client: FlaskClient, key: str) -> dict[str, Any]:
    got = client.get(f"/api/v2/flags/default/{key}", headers=LD)
    assert got.status_code == 200, got.text
    return got.json()


def _ld_iteration(client: FlaskClient, flag_key: str = "pricing-page-layout") -> dict[str, Any]:
    flag = _ld_flag(client, flag_key)
    treatments = [
        {
            "name": "Control" if i == 0 else "Variant",
            "baseline": i == 0,
            "allocationPercent": "50",
            "parameters": [{"flagKey": flag_key, "variationId": flag["variations"][i]["_id"]}],
        }
        for i in range(2)
    ]
    return {
        "hypothesis": "It converts",
        "metrics": [{"key": "checkout-completed"}],
        "treatments": treatments,
        "flags": {
            flag_key: {"ruleId": "fallthrough", "flagConfigVersion": flag["environments"]["production"]["version"]}
        },
        "randomizationUnit": "user",
    }


def _ld_experiment(client: FlaskClient, key: str = "aon-exp") -> str:
    body = {"name": "Aon", "key": key, "iteration": _ld_iteration(client)}
    created = client.post(LD_EXP, json_body=body, headers=LD)
    assert created.status_code == 201, created.text
    return key


def _ld_on(client: FlaskClient, flag_key: str = "pricing-page-layout") -> None:
    on = [{"op": "replace", "path": "/environments/production/on", "value": True}]
    assert client.patch(f"/api/v2/flags/default/{flag_key}", json_body=on, headers=LD).status_code == 200


LD_BETA = {**LD, "LD-API-Version": "beta"}
LD_SEMANTIC = {**LD, "Content-Type": SEMANTIC}
LD_P = "/api/v2/projects/default"
LD_ENV = f"{LD_P}/environments/production"
LD_HOLDOUT = {"name": "Aon", "holdoutamount": "5", "metrics": [{"key": "checkout-completed"}]}


def _ld_created(client: FlaskClient, path: str, body: Any, headers: dict[str, str] = LD) -> str:
    """Create a LaunchDarkly record for the request under test; its key."""
    created = client.post(path, json_body=body, headers=headers)
    assert created.status_code == 201, created.text
    return body["key"]


def _ld_metric(client: FlaskClient) -> str:
    return _ld_created(
        client, "/api/v2/metrics/default", {"key": "aon-m", "kind": "custom", "eventKey": "e", "isNumeric": False}
    )


def _ld_group(client: FlaskClient) -> str:
    return _ld_created(client, f"{LD_P}/metric-groups", _ld_group_body(client, "aon-g"), LD_BETA)


def _ld_group_body(client: FlaskClient, key: str) -> dict[str, Any]:
    me = client.get("/api/v2/members/me", headers=LD).json()["_id"]
    metrics = [{"key": "signup-clicked", "nameInGroup": "a"}, {"key": "page-load-ms", "nameInGroup": "b"}]
    return {"key": key, "name": "Aon group", "kind": "standard", "maintainerId": me, "tags": [], "metrics": metrics}


def _ld_holdout(client: FlaskClient) -> str:
    return _ld_created(client, f"{LD_ENV}/holdouts", {**LD_HOLDOUT, "key": "aon-h"})


def _ld_new_flag(client: FlaskClient) -> str:
    return _ld_created(client, "/api/v2/flags/default", {"key": "aon-flag", "name": "Aon flag"})


CORPUS: dict[str, Callable[[FlaskClient], Request]] = {
    # -- PostHog
    "experiment_holdouts_create": lambda c: (
        "POST",
        f"{P}/experiment_holdouts/",
        {"name": "New", "filters": [{"properties": [], "rollout_percentage": 5}]},
        {},
    ),
    "experiment_holdouts_update": lambda c: (
        "PUT",
        f"{P}/experiment_holdouts/{_holdout(c)['id']}/",
        {"name": "Renamed", "filters": [{"properties": [], "rollout_percentage": 20}]},
        {},
    ),
    "experiment_holdouts_partial_update": lambda c: (
        "PATCH",
        f"{P}/experiment_holdouts/{_holdout(c)['id']}/",
        {"name": "Renamed"},
        {},
    ),
    "experiment_holdouts_destroy": lambda c: ("DELETE", f"{P}/experiment_holdouts/{_holdout(c)['id']}/", None, {}),
    "experiment_saved_metrics_create": lambda c: (
        "POST",
        f"{P}/experiment_saved_metrics/",
        {"name": "New", "query": MEAN},
        {},
    ),
    "experiment_saved_metrics_update": lambda c: (
        "PUT",
        f"{P}/experiment_saved_metrics/{_saved_metric(c)['id']}/",
        {"name": "Renamed", "query": MEAN},
        {},
    ),
    "experiment_saved_metrics_partial_update": lambda c: (
        "PATCH",
        f"{P}/experiment_saved_metrics/{_saved_metric(c)['id']}/",
        {"description": "Changed"},
        {},
    ),
    "experiment_saved_metrics_destroy": lambda c: (
        "DELETE",
        f"{P}/experiment_saved_metrics/{_saved_metric(c)['id']}/",
        None,
        {},
    ),
    "experiments_create": lambda c: ("POST", f"{P}/experiments/", {"name": "New", "feature_flag_key": "aon-new"}, {}),
    "experiments_update": lambda c: (
        "PUT",
        f"{P}/experiments/{_experiment(c)['id']}/",
        {"name": "Renamed", "feature_flag_key": "aon"},
        {},
    ),
    "experiments_partial_update": lambda c: ("PATCH", f"{P}/experiments/{_experiment(c)['id']}/", {"name": "R"}, {}),
    "experiments_launch_create": lambda c: ("POST", f"{P}/experiments/{_experiment(c)['id']}/launch/", None, {}),
    "experiments_pause_create": lambda c: ("POST", f"{P}/experiments/{_launched(c)['id']}/pause/", None, {}),
    "experiments_resume_create": lambda c: (
        "POST",
        f"{P}/experiments/{_paused(c)['id']}/resume/",
        None,
        {},
    ),
    "experiments_end_create": lambda c: ("POST", f"{P}/experiments/{_launched(c)['id']}/end/", None, {}),
    "experiments_ship_variant_create": lambda c: (
        "POST",
        f"{P}/experiments/{_launched(c)['id']}/ship_variant/",
        {"variant_key": "test"},
        {},
    ),
    "experiments_reset_create": lambda c: ("POST", f"{P}/experiments/{_launched(c)['id']}/reset/", None, {}),
    "experiments_archive_create": lambda c: ("POST", f"{P}/experiments/{_ended(c)['id']}/archive/", None, {}),
    "experiments_unarchive_create": lambda c: ("POST", f"{P}/experiments/{_archived(c)['id']}/unarchive/", None, {}),
    "experiments_duplicate_create": lambda c: (
        "POST",
        f"{P}/experiments/{_experiment(c)['id']}/duplicate/",
        {"feature_flag_key": "aon-copy"},
        {},
    ),
    "experiments_copy_to_project_create": lambda c: (
        "POST",
        f"{P}/experiments/{_experiment(c)['id']}/copy_to_project/",
        {"target_team_id": 2},
        {},
    ),
    "experiments_create_exposure_cohort_for_experiment_create": lambda c: (
        "POST",
        f"{P}/experiments/{_launched(c)['id']}/create_exposure_cohort_for_experiment/",
        None,
        {},
    ),
    "experiments_recalculate_timeseries_create": lambda c: (
        "POST",
        f"{P}/experiments/{_launched(c)['id']}/recalculate_timeseries/",
        {"metric": {"uuid": "aon"}, "fingerprint": "aon"},
        {},
    ),
    # a soft-deleted flag with the key is removed for good: the rollback must bring the row back
    "feature_flags_create": lambda c: (
        "POST",
        f"{P}/feature_flags/",
        {"key": _soft_deleted_flag(c), "filters": GROUPS},
        {},
    ),
    # a new key and new variants, which reach the experiment on the flag
    "feature_flags_partial_update": lambda c: (
        "PATCH",
        f"{P}/feature_flags/{_experiment(c)['feature_flag']['id']}/",
        {"key": "aon-renamed", "filters": {**GROUPS, "multivariate": THREE_WAY}},
        {},
    ),
    "actions_create": lambda c: (
        "POST",
        f"{P}/actions/",
        {"name": "Aon action", "steps": [{"event": "$pageview"}]},
        {},
    ),
    "event_definitions_create": lambda c: ("POST", f"{P}/event_definitions/", {"name": "aon_defined"}, {}),
    # -- LaunchDarkly
    "patchFeatureFlag": lambda c: (
        "PATCH",
        "/api/v2/flags/default/pricing-page-layout",
        [{"op": "replace", "path": "/description", "value": "changed"}],
        LD,
    ),
    "resetExperiment": lambda c: (
        "DELETE",
        f"/api/v2/flags/default/{_legacy(c)}/results",
        None,
        LD,
    ),
    "createExperiment": lambda c: (
        "POST",
        LD_EXP,
        {"name": "New", "key": "aon-new", "iteration": _ld_iteration(c)},
        LD,
    ),
    "patchExperiment": lambda c: (
        "PATCH",
        f"{LD_EXP}/{_ld_experiment(c)}",
        {"instructions": [{"kind": "updateName", "value": "Renamed"}]},
        {**LD, "Content-Type": SEMANTIC},
    ),
    "createIteration": lambda c: ("POST", f"{LD_EXP}/{_ld_experiment(c)}/iterations", _ld_iteration(c), LD),
    "postFeatureFlag": lambda c: ("POST", "/api/v2/flags/default", {"key": "aon-new-flag", "name": "New"}, LD),
    "deleteFeatureFlag": lambda c: ("DELETE", f"/api/v2/flags/default/{_ld_new_flag(c)}", None, LD),
    "postMetric": lambda c: (
        "POST",
        "/api/v2/metrics/default",
        {"key": "aon-metric", "kind": "custom", "eventKey": "e", "isNumeric": False},
        LD,
    ),
    "patchMetric": lambda c: (
        "PATCH",
        f"/api/v2/metrics/default/{_ld_metric(c)}",
        [{"op": "replace", "path": "/name", "value": "Renamed"}],
        LD,
    ),
    "deleteMetric": lambda c: ("DELETE", f"/api/v2/metrics/default/{_ld_metric(c)}", None, LD),
    "createMetricGroup": lambda c: ("POST", f"{LD_P}/metric-groups", _ld_group_body(c, "aon-new-g"), LD_BETA),
    "patchMetricGroup": lambda c: (
        "PATCH",
        f"{LD_P}/metric-groups/{_ld_group(c)}",
        [{"op": "replace", "path": "/name", "value": "Renamed"}],
        LD_BETA,
    ),
    "deleteMetricGroup": lambda c: ("DELETE", f"{LD_P}/metric-groups/{_ld_group(c)}", None, LD_BETA),
    "postHoldout": lambda c: ("POST", f"{LD_ENV}/holdouts", {**LD_HOLDOUT, "key": "aon-new-h"}, LD),
    "patchHoldout": lambda c: (
        "PATCH",
        f"{LD_ENV}/holdouts/{_ld_holdout(c)}",
        {"instructions": [{"kind": "updateName", "value": "Renamed"}, {"kind": "endHoldout"}]},
        LD_SEMANTIC,
    ),
    "createLayer": lambda c: ("POST", f"{LD_P}/layers", {"key": "aon-l", "name": "Aon", "description": ""}, LD),
    "updateLayer": lambda c: (
        "PATCH",
        f"{LD_P}/layers/checkout-flow",
        {
            "environmentKey": "production",
            "instructions": [
                {"kind": "updateName", "name": "Renamed"},
                {"kind": "removeExperiment", "experimentKey": "onboarding-flow-test"},
            ],
        },
        LD_SEMANTIC,
    ),
    "putContextKind": lambda c: ("PUT", f"{LD_P}/context-kinds/team", {"name": "Team"}, LD),
    "patchEnvironment": lambda c: (
        "PATCH",
        LD_ENV,
        [{"op": "replace", "path": "/color", "value": "00ff00"}, {"op": "replace", "path": "/name", "value": "Prod"}],
        LD,
    ),
    "putExperimentationSettings": lambda c: (
        "PUT",
        "/api/v2/projects/default/experimentation-settings",
        {"randomizationUnits": [{"randomizationUnit": "organization", "default": True}]},
        LD,
    ),
    # -- control API
    "addApiKey": lambda c: ("POST", "/__admin/api-keys", {"vendor": "posthog", "key": "phx_aon"}, {}),
    "clearApiKeys": lambda c: _after(_key(c), ("DELETE", "/__admin/api-keys", None, {})),
    "advanceClock": lambda c: ("POST", "/__admin/clock/advance", {"seconds": 3600}, {}),
    "freezeClock": lambda c: ("POST", "/__admin/clock/freeze", {"at": "2030-01-01T00:00:00Z"}, {}),
    "unfreezeClock": lambda c: ("POST", "/__admin/clock/unfreeze", None, {}),
    "addFault": lambda c: ("POST", "/__admin/faults", {"path": "/api/*", "status": 503}, {}),
    "patchSettings": lambda c: ("PATCH", "/__admin/settings", {"latency_ms": 5, "no_auth": True}, {}),
    "clearFaults": lambda c: _after(_fault(c), ("DELETE", "/__admin/faults", None, {})),
    "deleteFault": lambda c: ("DELETE", f"/__admin/faults/{_fault(c)}", None, {}),
    "loadFixture": lambda c: ("POST", "/__admin/fixtures/empty/load", None, {}),
    "addLaunchdarklyRateLimit": lambda c: ("POST", "/__admin/launchdarkly/rate-limit", {"limit": 5}, {}),
    "clearLaunchdarklyRateLimits": lambda c: _after(
        _rate_limit(c), ("DELETE", "/__admin/launchdarkly/rate-limit", None, {})
    ),
    "addPosthogApprovalPolicy": lambda c: (
        "POST",
        "/__admin/posthog/approval-policies",
        {"action_key": "experiment.pause", "quorum": 1, "project_id": 1},
        {},
    ),
    "deletePosthogApprovalPolicy": lambda c: ("DELETE", f"/__admin/posthog/approval-policies/{_policy(c)}", None, {}),
    "approvePosthogChangeRequest": lambda c: (
        "POST",
        f"/__admin/posthog/change-requests/{_change_request(c)}/approve",
        {"user_id": 2},
        {},
    ),
    "cancelPosthogChangeRequest": lambda c: (
        "POST",
        f"/__admin/posthog/change-requests/{_change_request(c)}/cancel",
        {"reason": "not needed"},
        {},
    ),
    "rejectPosthogChangeRequest": lambda c: (
        "POST",
        f"/__admin/posthog/change-requests/{_change_request(c)}/reject",
        {"user_id": 2, "reason": "not now"},
        {},
    ),
    "ingestPosthogEvents": lambda c: (
        "POST",
        "/__admin/posthog/ingested-events",
        {"events": ["aon_arrived", "$pageview"]},  # one new definition, one seen again
        {},
    ),
    "reset": lambda c: _after(_experiment(c), ("POST", "/__admin/reset", {"seed": 7}, {})),
    "putState": lambda c: (
        "PUT",
        "/__admin/state",
        {"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}},
        {},
    ),
}
# Further request forms of one operation, each failed the same way: (operation, request).
FORMS: dict[str, tuple[str, Callable[[FlaskClient], Request]]] = {
    "patchFeatureFlag:semantic": (
        "patchFeatureFlag",
        lambda c: (
            "PATCH",
            "/api/v2/flags/default/dark-mode-default",
            {
                "environmentKey": "production",
                "instructions": [{"kind": "turnFlagOn"}, {"kind": "addTags", "values": ["aon"]}],
            },
            LD_SEMANTIC,
        ),
    ),
    "patchFeatureFlag:merge": (
        "patchFeatureFlag",
        lambda c: ("PATCH", "/api/v2/flags/default/dark-mode-default", {"merge": {"description": "merged"}}, LD),
    ),
    "postFeatureFlag:clone": (
        "postFeatureFlag",
        lambda c: ("POST", "/api/v2/flags/default?clone=pricing-page-layout", {"key": "aon-clone", "name": "C"}, LD),
    ),
}
CASES = {name: (name, build) for name, build in CORPUS.items()} | FORMS
# Writes that change nothing by design (a 405, or what lives outside the state).
NO_CHANGE = {
    "experiments_destroy": "PostHog refuses experiment DELETE with 405",
    "feature_flags_destroy": "PostHog refuses feature flag DELETE with 405",
    "clearRequests": "the journal is a record of requests, not state",
    "clearCoverage": "coverage is a record of requests, not state",
}


def _after(_setup: Any, request: Request) -> Request:
    """A request to send once its set-up (the first argument, already evaluated) is done."""
    return request


def _paused(client: FlaskClient) -> dict[str, Any]:
    exp = _launched(client, "aon-pause")
    assert client.post(f"{P}/experiments/{exp['id']}/pause/").status_code == 200
    return exp


def _archived(client: FlaskClient) -> dict[str, Any]:
    exp = _ended(client)
    assert client.post(f"{P}/experiments/{exp['id']}/archive/").status_code == 200
    return exp


def _legacy(client: FlaskClient) -> str:
    """``<flag>/experiments/<env>/<metric>`` of a seeded legacy experiment."""
    flags = client.get("/__admin/state").json()["data"]["launchdarkly"]["flags"]
    for row in flags.values():
        for item in (row.get("experiments") or {}).get("items", []):
            for env in item.get("environments") or ["production"]:
                return f"{row['key']}/experiments/{env}/{item['metricKey']}"
    raise AssertionError("no seeded legacy experiment")


def _soft_deleted_flag(client: FlaskClient) -> str:
    created = client.post(f"{P}/feature_flags/", json_body={"key": "aon-gone", "filters": GROUPS})
    assert created.status_code == 201, created.text
    gone = client.patch(f"{P}/feature_flags/{created.json()['id']}/", json_body={"deleted": True})
    assert gone.status_code == 200, gone.text
    return "aon-gone"


def _key(client: FlaskClient) -> None:
    assert client.post("/__admin/api-keys", json_body={"vendor": "posthog", "key": "phx_old"}).status_code == 201


def _fault(client: FlaskClient) -> int:
    created = client.post("/__admin/faults", json_body={"path": "/nothing/*", "status": 500})
    assert created.status_code == 201
    return created.json()["id"]


def _rate_limit(client: FlaskClient) -> None:
    assert client.post("/__admin/launchdarkly/rate-limit", json_body={"limit": 100}).status_code == 201


def _policy(client: FlaskClient) -> int:
    body = {"action_key": "experiment.update", "quorum": 1, "project_id": 1}
    created = client.post("/__admin/posthog/approval-policies", json_body=body)
    assert created.status_code == 201
    return created.json()["id"]


def _write_operations() -> set[str]:
    router = create_app(make_settings()).extensions["mockserver.router"]
    return {r.operation_id for r in router.operations() if r.method not in ("GET", "HEAD")}


def test_the_corpus_names_every_write_operation():
    assert _write_operations() == set(CORPUS) | set(NO_CHANGE)


def _kwargs(body: Any, headers: dict[str, str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"headers": headers, "check_spec": False}
    if "Content-Type" in headers:
        kwargs.update(data=json.dumps(body).encode(), content_type=headers["Content-Type"])
    elif body is not None:
        kwargs["json_body"] = body
    return kwargs


def _everything(client: FlaskClient) -> dict[str, Any]:
    state = client.get("/__admin/state").json()
    # LaunchDarkly's rate-limit windows count every authenticated request, refused or not, as the
    # service's budgets do: they are not the write's work.
    state["data"]["launchdarkly"].pop("rate_windows", None)
    return {
        "state": state,
        "faults": client.get("/__admin/faults").json(),
        "clock": client.get("/__admin/clock").json(),
        "settings": client.get("/__admin/settings").json(),
    }


@pytest.fixture
def fail_after(monkeypatch):
    """Make the response check of one operation fail: the handler has run, its writes are in the store."""
    target: dict[str, str | None] = {"op": None}
    real = Pipeline._check_response

    def failing(self, ctx, reply):
        if ctx.operation_id == target["op"]:
            raise Problem("contract_violation", "forced failure after the handler")
        return real(self, ctx, reply)

    monkeypatch.setattr(Pipeline, "_check_response", failing)
    return target


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_write_that_fails_at_its_last_step_leaves_no_trace(case, fail_after):
    operation_id, build = CASES[case]
    client = FlaskClient(create_app(make_settings()), PH_KEY)
    method, path, body, headers = build(client)
    before = _everything(client)
    fail_after["op"] = operation_id
    kwargs = _kwargs(body, headers)
    response = client.request(method, path, **kwargs)
    fail_after["op"] = None
    assert response.status_code == 500, (operation_id, response.status_code, response.text)
    assert _everything(client) == before
    # the same request without the forced failure succeeds, so the failure really came after the work
    retry = client.request(method, path, **kwargs)
    assert retry.status_code < 400, (operation_id, retry.text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_write_whose_save_fails_answers_503_and_leaves_no_trace(case, tmp_path, monkeypatch):
    operation_id, build = CASES[case]
    client = FlaskClient(create_app(make_settings(state_file=str(tmp_path / "s.db"))), PH_KEY)
    method, path, body, headers = build(client)
    before = _everything(client)
    runtime = client.app.extensions["mockserver"]

    def full_disk(rt, changed):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runtime.state_file, "save", full_disk)
    monkeypatch.setattr(runtime.state_file, "save_all", lambda rt: full_disk(rt, None))
    response = client.request(method, path, **_kwargs(body, headers))
    if response.status_code < 400:  # nothing of the state changed (faults, settings): nothing to save
        assert operation_id in ("addFault", "clearFaults", "deleteFault", "patchSettings")
        return
    assert response.status_code == 503, (operation_id, response.text)
    monkeypatch.undo()
    assert _everything(client) == before


def test_an_internal_error_is_a_500_reported_to_the_test_and_changes_nothing(monkeypatch):
    from mockserver.vendors.posthog import routes

    real = routes.HANDLERS["experiments_partial_update"]

    def half_done(call):
        real(call)  # the write happens…
        raise KeyError("a bug after the write")  # …then the mock itself fails

    monkeypatch.setitem(routes.HANDLERS, "experiments_partial_update", half_done)
    app = create_app(make_settings())
    client = FlaskClient(app, PH_KEY)
    exp = _experiment(client)
    before = _everything(client)
    response = client.patch(f"{P}/experiments/{exp['id']}/", json_body={"name": "Half"}, check_spec=False)
    assert response.status_code == 500
    assert response.json() == {
        "type": "server_error",
        "code": "error",
        "detail": "A server error occurred.",
        "attr": None,
    }
    assert _everything(client) == before
    errors = list(app.extensions["mockserver"].server_errors)
    assert len(errors) == 1 and isinstance(errors[0], KeyError)


def test_a_state_document_is_checked_whole_before_anything_is_replaced():
    client = FlaskClient(create_app(make_settings()), PH_KEY)
    _experiment(client)
    before = _everything(client)
    for clock in (
        {"frozen_at": "9999-01-01T00:00:00Z"},
        {"frozen_at": "1969-12-31T00:00:00Z"},
        {"offset_seconds": -1e11},
    ):
        doc = {"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}, "clock": clock}
        response = client.put("/__admin/state", json_body=doc)
        assert response.status_code == 400 and response.json()["field"].startswith("clock.")
        assert _everything(client) == before


def test_every_export_imports_back_and_the_journal_is_strict_json():
    from mockserver.core import jsonbody

    client = FlaskClient(create_app(make_settings()), PH_KEY)
    odd = {"name": "Emoji \U0001f600 and \u00e9", "feature_flag_key": "odd", "description": "\u2028 line separator"}
    assert client.post(f"{P}/experiments/", json_body=odd).status_code == 201
    client.post(f"{P}/experiments/", data='{"name": "caf\u00e9"}'.encode("latin-1"), content_type="application/json")
    client.post(f"{P}/experiments/", data=b'{"name": "\\ud800"}', content_type="application/json")
    exported = client.get("/__admin/state")
    jsonbody.parse(exported.content)
    journal = client.get("/__admin/requests")
    entries = jsonbody.parse(journal.content)["requests"]  # strict JSON out, whatever came in
    assert [e["status"] for e in entries] == [201, 400, 400]
    fresh = FlaskClient(create_app(make_settings()), PH_KEY)
    assert fresh.put("/__admin/state", data=exported.content, content_type="application/json").status_code == 200
    assert fresh.get("/__admin/state").json() == exported.json()
