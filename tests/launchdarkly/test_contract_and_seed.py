"""The LaunchDarkly contract: valid, fully served, and the fast path agrees with openapi-core;
plus the seeded world is deterministic and references only things that exist."""

from __future__ import annotations

import json
import re

import pytest
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest
from openapi_spec_validator import validate
from werkzeug.datastructures import Headers, MultiDict

from mockserver.app import create_app
from mockserver.core.contract import Contract, load_spec
from mockserver.core.problems import Problem
from mockserver.vendors.launchdarkly.routes import HANDLERS
from tests.conftest import make_settings
from tests.launchdarkly.helpers import BASE, LD_KEY, SEMANTIC

OPERATIONS = {
    "getExperiments",
    "createExperiment",
    "getExperimentsAnyEnv",
    "getExperiment",
    "patchExperiment",
    "createIteration",
    "getExperimentResults",
    "getExperimentResultsForMetricGroup",
    "getExperimentationSettings",
    "putExperimentationSettings",
    "getLegacyExperimentResults",
    "resetExperiment",
    "getFeatureFlag",
    "patchFeatureFlag",
    "getFeatureFlags",
    "postFeatureFlag",
    "deleteFeatureFlag",
    "getFeatureFlagStatusAcrossEnvironments",
    "getFeatureFlagStatuses",
    "getFeatureFlagStatus",
}
WORKFLOW_OPERATIONS = {
    "getMetrics",
    "postMetric",
    "getMetric",
    "patchMetric",
    "deleteMetric",
    "getMetricGroups",
    "createMetricGroup",
    "getMetricGroup",
    "patchMetricGroup",
    "deleteMetricGroup",
    "getAllHoldouts",
    "postHoldout",
    "getHoldout",
    "getHoldoutById",
    "patchHoldout",
    "getLayers",
    "createLayer",
    "updateLayer",
    "getContextKindsByProjectKey",
    "putContextKind",
    "getProject",
    "getEnvironment",
    "patchEnvironment",
    "getCallerIdentity",
    "getMember",
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract("launchdarkly")


def test_spec_is_valid_and_every_operation_is_served(contract):
    validate(load_spec("launchdarkly"))
    assert set(contract.raw_operations) == OPERATIONS | WORKFLOW_OPERATIONS == set(HANDLERS)
    for op_id, (_method, _path, op, _item) in contract.raw_operations.items():
        codes = set(op["responses"])
        assert {"401", "429", "500"} <= codes, op_id  # every request is authenticated and counted
        if op_id != "getCallerIdentity":
            assert "404" in codes, op_id
        assert not {"413", "415"} & codes, op_id  # LaunchDarkly answers an unreadable body 400
    assert "201" in contract.raw_operations["createExperiment"][2]["responses"]
    assert "200" in contract.raw_operations["createIteration"][2]["responses"]
    assert "204" in contract.raw_operations["resetExperiment"][2]["responses"]


def _path_args(template: str, path: str) -> dict[str, str]:
    match = re.match("^" + re.sub(r"{([^}]+)}", r"(?P<\1>[^/]+)", template) + "$", path)
    assert match, (template, path)
    return match.groupdict()


def _body(value) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


FLAG = "/api/v2/flags/default/f"
CORPUS = [
    ("getExperiments", "GET", BASE, {}, None, b""),
    ("getExperiments", "GET", BASE, {"limit": "5", "offset": "10", "filter": "status:running"}, None, b""),
    ("getExperiments", "GET", BASE, {"limit": "0"}, None, b""),
    ("getExperiments", "GET", BASE, {"limit": "x"}, None, b""),
    ("getExperiments", "GET", BASE, {"offset": "-1"}, None, b""),
    ("getExperiments", "GET", BASE, {"filter": ""}, None, b""),
    (
        "createExperiment",
        "POST",
        BASE,
        {},
        "application/json",
        {
            "name": "n",
            "key": "k",
            "iteration": {
                "hypothesis": "h",
                "metrics": [{"key": "m"}],
                "flags": {"f": {"ruleId": "fallthrough", "flagConfigVersion": 1}},
                "treatments": [
                    {
                        "name": "t",
                        "baseline": True,
                        "allocationPercent": "50",
                        "parameters": [{"flagKey": "f", "variationId": "v"}],
                    }
                ],
            },
        },
    ),
    ("createExperiment", "POST", BASE, {}, "application/json", {"name": "n", "key": "k"}),
    ("createExperiment", "POST", BASE, {}, "application/json", {"name": 1, "key": "k", "iteration": {}}),
    ("createExperiment", "POST", BASE, {}, "application/json", b"{oops"),
    ("createExperiment", "POST", BASE, {}, "text/plain", b"hello"),
    ("patchExperiment", "PATCH", f"{BASE}/e", {}, "application/json", {"instructions": [{"kind": "startIteration"}]}),
    ("patchExperiment", "PATCH", f"{BASE}/e", {}, SEMANTIC, {"instructions": [{"kind": "stopIteration"}]}),
    ("patchExperiment", "PATCH", f"{BASE}/e", {}, "application/json", {"instructions": [{"value": 1}]}),
    ("patchExperiment", "PATCH", f"{BASE}/e", {}, "application/json", [{"op": "add", "path": "/x"}]),
    ("patchExperiment", "PATCH", f"{BASE}/e", {}, "application/json", {}),
    (
        "getExperimentResults",
        "GET",
        f"{BASE}/e/metrics/m/results",
        {"iterationId": "i", "expand": "traffic"},
        None,
        b"",
    ),
    ("getLegacyExperimentResults", "GET", f"{FLAG}/experiments/production/m", {"from": "1", "to": "2"}, None, b""),
    ("getLegacyExperimentResults", "GET", f"{FLAG}/experiments/production/m", {"from": "soon"}, None, b""),
    (
        "putExperimentationSettings",
        "PUT",
        "/api/v2/projects/default/experimentation-settings",
        {},
        "application/json",
        {"randomizationUnits": [{"randomizationUnit": "user", "default": True}]},
    ),
    (
        "putExperimentationSettings",
        "PUT",
        "/api/v2/projects/default/experimentation-settings",
        {},
        "application/json",
        {"randomizationUnits": [{"default": True}]},
    ),
    ("patchFeatureFlag", "PATCH", FLAG, {}, "application/json", [{"op": "remove", "path": "/experiments/items/0"}]),
    ("patchFeatureFlag", "PATCH", FLAG, {}, "application/json", {"patch": [{"op": "add", "path": "/a", "value": 1}]}),
    ("patchFeatureFlag", "PATCH", FLAG, {}, "application/json", [{"path": "/a"}]),
    ("patchFeatureFlag", "PATCH", FLAG, {}, "application/json", {"op": "add"}),
    ("patchFeatureFlag", "PATCH", FLAG, {}, "application/json", {"merge": {"description": "d"}, "comment": "c"}),
    ("patchFeatureFlag", "PATCH", FLAG, {"dryRun": "true"}, SEMANTIC, {"instructions": [{"kind": "turnFlagOn"}]}),
    ("patchFeatureFlag", "PATCH", FLAG, {}, SEMANTIC, {"environmentKey": "production", "instructions": []}),
    ("patchFeatureFlag", "PATCH", FLAG, {"dryRun": "maybe"}, SEMANTIC, {"instructions": [{"kind": "turnFlagOn"}]}),
    ("getFeatureFlag", "GET", FLAG, {"env": "production", "expand": "evaluation"}, None, b""),
    ("deleteFeatureFlag", "DELETE", FLAG, {}, None, b""),
    (
        "getFeatureFlags",
        "GET",
        "/api/v2/flags/default",
        {"limit": "5", "summary": "false", "filter": "state:live"},
        None,
        b"",
    ),
    ("getFeatureFlags", "GET", "/api/v2/flags/default", {"limit": "many"}, None, b""),
    ("getFeatureFlags", "GET", "/api/v2/flags/default", {"archived": "perhaps"}, None, b""),
    ("postFeatureFlag", "POST", "/api/v2/flags/default", {}, "application/json", {"key": "k", "name": "n"}),
    (
        "postFeatureFlag",
        "POST",
        "/api/v2/flags/default",
        {"clone": "f"},
        "application/json",
        {"key": "k", "name": "n", "variations": [{"value": 1}, {"value": 2}], "temporary": False},
    ),
    ("postFeatureFlag", "POST", "/api/v2/flags/default", {}, "application/json", {"name": "no key"}),
    ("postFeatureFlag", "POST", "/api/v2/flags/default", {}, "application/json", {"key": 1, "name": "n"}),
    ("getFeatureFlagStatusAcrossEnvironments", "GET", "/api/v2/flag-status/default/f", {"env": "test"}, None, b""),
    ("getFeatureFlagStatuses", "GET", "/api/v2/flag-statuses/default/production", {}, None, b""),
    ("getFeatureFlagStatus", "GET", "/api/v2/flag-statuses/default/production/f", {}, None, b""),
]


@pytest.mark.parametrize(("op_id", "method", "path", "query", "ctype", "body"), CORPUS)
def test_fast_path_agrees_with_openapi_core(contract, op_id, method, path, query, ctype, body):
    raw = _body(body)
    template = contract.raw_operations[op_id][1]
    try:
        contract.validate_request(op_id, _path_args(template, path), MultiDict(query), Headers(LD_KEY), ctype, raw)
        fast = True
    except Problem:
        fast = False
    request = MockRequest(
        "http://localhost", method.lower(), path, args=query, headers=LD_KEY, data=raw, content_type=ctype
    )
    try:
        contract.openapi.validate_request(request)
        plain = True
    except OpenAPIError:
        plain = False
    assert fast == plain


def _state(seed: int):
    return create_app(make_settings(seed=seed)).extensions["mockserver"].store.data["launchdarkly"]


def test_seed_is_deterministic():
    first, second = _state(7), _state(7)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert json.dumps(_state(8), sort_keys=True) != json.dumps(first, sort_keys=True)


def test_seeded_world_is_consistent():
    state = _state(42)
    assert set(state["projects"]) == {"default", "mobile-app"}
    assert set(state["projects"]["default"]["environments"]) == {"production", "test"}
    statuses = set()
    for exp in state["experiments"].values():
        project = exp["projectKey"]
        for it in exp["iterations"]:
            statuses.add(it["status"])
            for flag_key in it["flags"]:
                row = state["flags"][f"{project}/{flag_key}"]
                variation_ids = {v["_id"] for v in row["variations"]}
                for treatment in it["treatments"]:
                    assert treatment["parameters"][0]["variationId"] in variation_ids
            for metric in it["metrics"]:
                table = "metric_groups" if metric["isGroup"] else "metrics"
                assert f"{project}/{metric['key']}" in state[table]
        if exp.get("archivedDate"):
            statuses.add("archived")
    assert statuses == {"not_started", "running", "stopped", "archived"}
    for group in state["metric_groups"].values():
        assert len(group["metrics"]) >= 2
    assert any(row["experiments"]["items"] for row in state["flags"].values())


def test_reset_restores_the_seed(app):
    from tests.speccheck import FlaskClient

    client = FlaskClient(app, LD_KEY)
    before = client.get(BASE).json()
    client.patch(f"{BASE}/onboarding-flow-test", json_body={"instructions": [{"kind": "updateName", "value": "X"}]})
    assert client.get(BASE).json() != before
    client.post("/__admin/reset")
    assert client.get(BASE).json() == before


def test_a_state_document_from_before_the_workflow_tables_still_loads(app):
    """Exports made before holdouts, layers, context kinds and member profiles were kept load and serve."""
    from tests.launchdarkly.helpers import refused
    from tests.speccheck import FlaskClient

    client = FlaskClient(app, LD_KEY)
    document = client.get("/__admin/state").json()
    part = document["data"]["launchdarkly"]
    for table in ("context_kinds", "layers", "holdouts", "member_profiles"):
        part.pop(table)
    for project in part["projects"].values():
        for env in project["environments"].values():
            for name in ("apiKey", "mobileKey", "color", "critical", "tags"):
                env.pop(name)
    for row in part["metrics"].values():
        row.pop("analysisUnits", None)
    for experiment in part["experiments"].values():
        experiment.pop("holdoutId", None)
        for iteration in experiment["iterations"]:
            iteration.pop("layerSnapshot", None)
    loaded = client.put("/__admin/state", json_body=document)
    assert loaded.status_code == 200, loaded.text
    assert client.get(f"{BASE}/search-ranking-test").status_code == 200
    env = client.get("/api/v2/projects/default/environments/production").json()
    assert env["apiKey"].startswith("sdk-") and env["tags"] == []
    kinds = client.get("/api/v2/projects/default/context-kinds").json()["items"]
    assert [k["key"] for k in kinds] == ["device", "organization", "user"]  # its randomization units
    assert client.get("/api/v2/projects/default/layers").json()["items"] == []
    assert client.get("/api/v2/members/me").json()["email"].endswith("@example.com")
    assert client.get("/api/v2/metrics/default/page-load-ms").json()["analysisUnits"] == ["user"]
    assert client.post(BASE, json_body=_post(client)).status_code == 201
    assert "randomization units" in refused(client.post(BASE, json_body=_post(client, "request")), 400)


def _post(client, unit: str = "user") -> dict:
    from tests.launchdarkly.helpers import experiment_post

    return experiment_post(client, f"after-load-{unit}", unit=unit)
