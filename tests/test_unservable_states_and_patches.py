"""States a later request could not serve are refused whole, and patches that broke the server are 400s.

Each case was a 500 (or a stalled server) found by fuzzing: a state document accepted with 200
whose records a write, a results read or an approval then failed on, or a JSON Patch or semantic
patch a handler did not expect.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from mockserver.app import create_app
from tests.conftest import PH_KEY, make_settings
from tests.launchdarkly.helpers import LD_KEY
from tests.speccheck import FlaskClient

LD_EXP = "default/production/search-ranking-test"
SEMANTIC_TYPE = "application/json; domain-model=launchdarkly.semanticpatch"


def semantic_patch(api: FlaskClient, path: str, body: dict[str, Any]) -> Any:
    return api.patch(path, data=json.dumps(body).encode(), content_type=SEMANTIC_TYPE, headers=LD_KEY)


def client(fixture: str = "running-experiments") -> FlaskClient:
    return FlaskClient(create_app(make_settings(fixture=fixture)), PH_KEY)


def _running_iteration(d: dict[str, Any]) -> dict[str, Any]:
    exp = d["data"]["launchdarkly"]["experiments"][LD_EXP]
    return next(it for it in exp["iterations"] if it["_id"] == exp["currentIterationId"])


def _treatments_name_another_flag(d: dict[str, Any]) -> None:
    for treatment in _running_iteration(d)["treatments"]:
        for parameter in treatment["parameters"]:
            parameter["flagKey"] = "free-shipping-threshold"


MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "current iteration names none",
        lambda d: d["data"]["launchdarkly"]["experiments"][LD_EXP].__setitem__("currentIterationId", "nope"),
        "names no iteration",
    ),
    ("treatment flag not in iteration", _treatments_name_another_flag, "not one of the iteration's flags"),
    (
        "legacy baseline out of range",
        lambda d: d["data"]["launchdarkly"]["flags"]["default/free-shipping-threshold"]["experiments"].__setitem__(
            "baselineIdx", 7
        ),
        "baselineIdx",
    ),
    (
        "LaunchDarkly uuid sequence not a number",
        lambda d: d["data"]["launchdarkly"]["sequences"].__setitem__("__uuid__", "x"),
        "is not of type",
    ),
    (
        "timeseries request without created_at",
        lambda d: next(iter(d["data"]["posthog"]["timeseries_requests"].values())).pop("created_at"),
        "required",
    ),
    (
        "timeseries request at the end of time",
        lambda d: next(iter(d["data"]["posthog"]["timeseries_requests"].values())).__setitem__(
            "created_at", "9999-12-31T23:59:59Z"
        ),
        "cannot be served",
    ),
    (
        "timeseries request not a record",
        lambda d: d["data"]["posthog"]["timeseries_requests"].__setitem__("bogus", "x"),
        "is not of type",
    ),
]


@pytest.mark.parametrize(("mutate", "detail"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_a_state_a_later_request_could_not_serve_is_refused_whole(mutate, detail):
    api = client()
    before = api.get("/__admin/state").json()
    doc = json.loads(json.dumps(before))
    mutate(doc)
    refused = api.put("/__admin/state", json_body=doc)
    assert refused.status_code == 400 and detail in refused.json()["detail"], refused.json()
    assert api.get("/__admin/state").json() == before


def test_an_experiment_with_no_iteration_refuses_iteration_fields_with_a_400():
    """A null currentIterationId is a legitimate state (recorded experiments have it)."""
    api = client()
    doc = api.get("/__admin/state").json()
    doc["data"]["launchdarkly"]["experiments"]["default/production/onboarding-flow-test"]["currentIterationId"] = None
    assert api.put("/__admin/state", json_body=doc).status_code == 200
    path = "/api/v2/projects/default/environments/production/experiments/onboarding-flow-test"
    for field, value in (("hypothesis", "x"), ("canReshuffleTraffic", True), ("attributes", ["a"])):
        change = {
            "instructions": [
                {"kind": "updateExperimentFields", "value": {field: {"operation": "update", "value": value}}}
            ]
        }
        refused = semantic_patch(api, path, change)
        assert refused.status_code == 400 and "has none" in refused.json()["message"], refused.text


@pytest.mark.parametrize(
    ("path", "patch"),
    [
        ("/api/v2/projects/default/metric-groups/engagement", [{"op": "remove", "path": "/metrics"}]),
        (
            "/api/v2/metrics/default/checkout-completed",
            [{"op": "replace", "path": "/randomizationUnits", "value": None}],
        ),
        ("/api/v2/metrics/default/checkout-completed", [{"op": "replace", "path": "/analysisUnits", "value": 3}]),
    ],
)
def test_json_patches_that_leave_a_required_list_broken_are_400(path, patch):
    api = client("")
    headers = {**LD_KEY, "LD-API-Version": "beta"}
    before = api.get("/__admin/state").json()["data"]["launchdarkly"]
    refused = api.patch(path, json_body=patch, headers=headers)
    assert refused.status_code == 400, refused.text[:300]
    after = api.get("/__admin/state").json()["data"]["launchdarkly"]
    assert {**after, "rate_windows": None} == {**before, "rate_windows": None}  # windows count every call


def test_a_metric_group_patch_removing_its_description_empties_it():
    api = client("")
    path = "/api/v2/projects/default/metric-groups/engagement"
    patched = api.patch(
        path, json_body=[{"op": "remove", "path": "/description"}], headers={**LD_KEY, "LD-API-Version": "beta"}
    )
    assert patched.status_code == 200 and patched.json()["description"] == ""


def test_tens_of_thousands_of_targets_take_one_pass():
    """addTargets tested each value against the growing list: 60,000 values took 142 s."""
    api = client("")
    flag = api.get("/api/v2/flags/default/free-shipping-threshold", headers=LD_KEY).json()
    variation = flag["variations"][0]["_id"]
    values = [f"user-{i}" for i in range(60_000)]
    add = {
        "environmentKey": "production",
        "instructions": [{"kind": "addTargets", "variationId": variation, "values": values}],
    }
    started = time.process_time()
    assert semantic_patch(api, "/api/v2/flags/default/free-shipping-threshold", add).status_code == 200
    remove = {**add, "instructions": [{**add["instructions"][0], "kind": "removeTargets", "values": values[::2]}]}
    assert semantic_patch(api, "/api/v2/flags/default/free-shipping-threshold", remove).status_code == 200
    assert time.process_time() - started < 30  # quadratic: minutes; linear: about a second
    targets = api.get("/api/v2/flags/default/free-shipping-threshold", headers=LD_KEY).json()
    kept = [t for t in targets["environments"]["production"]["targets"] if t["variation"] == 0]
    assert len(kept[0]["values"]) == 30_000


def test_an_approved_change_request_replays_only_the_vendor_operation_it_names():
    """An intent from a state document pointing at the control API froze the clock on approve."""
    api = client("approval-required")
    gated = api.post("/api/projects/1/experiments/1/launch/")
    assert gated.status_code == 409, gated.text
    doc = api.get("/__admin/state").json()
    (cr_id, cr), *_ = doc["data"]["posthog"]["change_requests"].items()
    cr["intent"] = {
        **cr["intent"],
        "path": "/__admin/clock/freeze",
        "method": "POST",
        "body": {"at": "2031-01-01T00:00:00Z"},
    }
    assert api.put("/__admin/state", json_body=doc).status_code == 200
    clock = api.get("/__admin/clock").json()
    approvers = cr["policy_snapshot"]["users"]
    decided = api.post(f"/__admin/posthog/change-requests/{cr_id}/approve", json_body={"user_id": approvers[0]})
    assert decided.status_code == 200 and decided.json()["state"] == "failed", decided.text
    assert "not a request of the vendor operation" in decided.json()["apply_error"]
    assert api.get("/__admin/clock").json() == clock
