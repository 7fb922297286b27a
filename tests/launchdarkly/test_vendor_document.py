"""Our answers checked against LaunchDarkly's own OpenAPI document, not only against specs/launchdarkly.yaml.

``data/launchdarkly-vendor-openapi.json`` holds the operations we serve, copied from LaunchDarkly's
published document (structure only). A scenario calls every served operation, on its happy path
and on its refusals, through the spec-checking Flask client; each recorded answer is then
validated with plain openapi-core against the vendor's document. A status the vendor does not
list for an operation must be one of the deliberate additions in ``ADDED`` (every request is
authenticated and counted, so 401/403/429 can happen anywhere; some rules answer 400 where the
vendor's list forgot it); getFeatureFlag has none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse

from mockserver.app import create_app
from mockserver.core.contract import Contract
from tests.conftest import make_settings
from tests.launchdarkly import helpers as h
from tests.speccheck import FlaskClient

DOC = Path(__file__).parent / "data" / "launchdarkly-vendor-openapi.json"
P = "/api/v2/projects/default"
ENV = f"{P}/environments/production"
# (operationId, status): answers the vendor's per-operation list leaves out, and why.
ADDED = {
    ("getMetrics", 400): "a malformed filter, sort or limit",
    ("getMetrics", 429): "rate limits apply to every authenticated request",
    ("deleteMetric", 400): "a metric a running experiment measures, or a group holds, cannot be deleted",
    ("patchMetric", 403): "a reader or custom-role token cannot change metrics",
    ("postHoldout", 401): "every request is authenticated",
    ("postHoldout", 403): "a reader token cannot create",
    ("postHoldout", 404): "unknown project or environment",
    ("postHoldout", 429): "rate limits",
    ("getAllHoldouts", 404): "unknown project or environment",
    ("getLayers", 401): "every request is authenticated",
    ("createLayer", 401): "every request is authenticated",
    ("updateLayer", 401): "every request is authenticated",
    ("getContextKindsByProjectKey", 429): "rate limits",
    ("putContextKind", 429): "rate limits",
    ("patchEnvironment", 403): "only admin tokens change environment settings",
    ("postFeatureFlag", 403): "a reader token cannot create",
    ("postFeatureFlag", 404): "unknown project",
    ("patchFeatureFlag", 422): "a JSON Patch whose test or pointer fails (patch_failed, the API's documented 422)",
}


@pytest.fixture(scope="module")
def vendor() -> OpenAPI:
    return OpenAPI(SchemaPath.from_dict(json.loads(DOC.read_text())), config=Config(spec_validator_cls=None))


class Recorder(FlaskClient):
    """The spec-checking Flask client, keeping every answer for a second check against the vendor."""

    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        super().__init__(app, headers)
        self.seen: list[tuple[str, str, str, int, str | None, bytes]] = []

    def _send(self, method, path, query, headers, data, content_type):
        status, response_headers, body, mimetype = super()._send(method, path, query, headers, data, content_type)
        self.seen.append((method, path, query, status, mimetype, body))
        return status, response_headers, body, mimetype


def _scenario(c: Recorder) -> None:
    reader = {"Authorization": "api-doc-reader"}
    c.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": "api-doc-reader", "role": "reader"})
    beta = h.BETA
    # project, environments, members, identity, context kinds
    c.get(f"{P}?expand=environments")
    c.get(f"{P}?expand=nonsense")
    c.get("/api/v2/projects/nope")
    c.get(ENV)
    c.get(f"{P}/environments/nope")
    c.patch(ENV, json_body=[{"op": "replace", "path": "/color", "value": "00ff00"}])
    c.patch(ENV, json_body=[{"op": "replace", "path": "/color", "value": "green"}])
    c.patch(
        ENV,
        json_body=[{"op": "test", "path": "/name", "value": "Nope"}, {"op": "replace", "path": "/name", "value": "x"}],
    )
    c.patch(ENV, json_body=[{"op": "replace", "path": "/name", "value": "x"}], headers=reader)
    c.get("/api/v2/caller-identity")
    c.get("/api/v2/caller-identity", headers={"Authorization": "sdk-nope"})
    c.get("/api/v2/members/me")
    c.get("/api/v2/members/nobody")
    c.get(f"{P}/context-kinds")
    c.get("/api/v2/projects/nope/context-kinds")
    c.put(f"{P}/context-kinds/team", json_body={"name": "Team"})
    c.put(f"{P}/context-kinds/team", json_body={"name": "Team", "version": 1})
    c.put(f"{P}/context-kinds/kind", json_body={"name": "Reserved"})
    # metrics
    c.get("/api/v2/metrics/default?expand=experimentCount&limit=3")
    c.get("/api/v2/metrics/default?filter=eventKind%20equals%20custom")
    c.get("/api/v2/metrics/default?filter=colour%20equals%20blue")
    c.get("/api/v2/metrics/nope")
    c.post(
        "/api/v2/metrics/default",
        json_body={"key": "doc-metric", "kind": "custom", "eventKey": "e", "isNumeric": False},
    )
    c.post("/api/v2/metrics/default", json_body={"key": "doc-click", "kind": "click", "urls": []})
    c.post("/api/v2/metrics/default", json_body={"key": "doc-x", "kind": "custom"}, headers=reader)
    c.get("/api/v2/metrics/default/doc-metric?expand=experiments,experimentCount,metricGroups,metricGroupCount")
    c.get("/api/v2/metrics/default/nope")
    c.patch("/api/v2/metrics/default/doc-metric", json_body=[{"op": "replace", "path": "/name", "value": "Doc"}])
    c.patch("/api/v2/metrics/default/doc-metric", json_body=[{"op": "replace", "path": "/kind", "value": "click"}])
    c.patch("/api/v2/metrics/default/doc-metric", json_body=[{"op": "test", "path": "/_version", "value": 99}])
    c.delete("/api/v2/metrics/default/checkout-completed")  # a running experiment measures it
    c.delete("/api/v2/metrics/default/doc-metric")
    c.delete("/api/v2/metrics/default/doc-metric")
    # metric groups (beta)
    c.get(f"{P}/metric-groups", headers=beta)
    c.get(f"{P}/metric-groups")
    c.get(f"{P}/metric-groups?filter=kind%20equals%20funnel", headers=beta)
    group = {
        "key": "doc-group",
        "name": "Doc group",
        "kind": "standard",
        "maintainerId": c.get("/api/v2/members/me").json()["_id"],
        "tags": [],
        "metrics": [{"key": "signup-clicked", "nameInGroup": "a"}, {"key": "page-load-ms", "nameInGroup": "b"}],
    }
    c.post(f"{P}/metric-groups", json_body=group, headers=beta)
    c.post(f"{P}/metric-groups", json_body={**group, "metrics": group["metrics"][:1]}, headers=beta)
    c.get(f"{P}/metric-groups/doc-group?expand=experiments,experimentCount", headers=beta)
    c.get(f"{P}/metric-groups/nope", headers=beta)
    c.patch(f"{P}/metric-groups/doc-group", json_body=[{"op": "replace", "path": "/name", "value": "D"}], headers=beta)
    c.patch(f"{P}/metric-groups/doc-group", json_body=[{"op": "replace", "path": "/kind", "value": "x"}], headers=beta)
    c.delete(f"{P}/metric-groups/engagement", headers=beta)  # a running experiment measures it
    c.delete(f"{P}/metric-groups/doc-group", headers=beta)
    # holdouts
    holdout = c.post(
        f"{ENV}/holdouts",
        json_body={
            "key": "doc-holdout",
            "name": "Doc",
            "holdoutamount": "5",
            "metrics": [{"key": "checkout-completed"}],
        },
    ).json()
    c.post(f"{ENV}/holdouts", json_body={"key": "doc-holdout-2", "name": "Doc"})
    c.get(f"{ENV}/holdouts?limit=1")
    c.get(f"{ENV}/holdouts/doc-holdout?expand=treatments,rel-treatments,previousIterations")
    c.get(f"{ENV}/holdouts/nope")
    c.get(f"{ENV}/holdouts/id/{holdout['_id']}")
    c.get(f"{ENV}/holdouts/id/nope")
    c.patch(f"{ENV}/holdouts/doc-holdout", json_body={"instructions": [{"kind": "updateName", "value": "Renamed"}]})
    c.patch(f"{ENV}/holdouts/doc-holdout", json_body={"instructions": [{"kind": "endHoldout"}]}, content_type=None)
    c.patch(f"{ENV}/holdouts/doc-holdout", json_body={"instructions": [{"kind": "endHoldout"}]})
    # layers
    c.get(f"{P}/layers")
    c.get(f"{P}/layers?filter=reservations.experimentKey%20contains%20onboarding-flow-test")
    c.get(f"{P}/layers?filter=nonsense")
    c.post(f"{P}/layers", json_body={"key": "doc-layer", "name": "Doc", "description": ""})
    c.post(f"{P}/layers", json_body={"key": "doc-layer", "name": "Doc", "description": ""})
    instruction = {
        "kind": "updateExperimentReservation",
        "experimentKey": "recommendations-test",
        "reservationPercent": 10,
    }
    c.patch(f"{P}/layers/doc-layer", json_body={"environmentKey": "production", "instructions": [instruction]})
    c.patch(f"{P}/layers/doc-layer", json_body={"instructions": [instruction]})
    c.patch(f"{P}/layers/nope", json_body={"instructions": [instruction]})
    # experiments, results, settings, flags
    c.get(f"{h.BASE}?expand=treatments,draftIteration")
    c.get(f"{P}/experiments")
    created = c.post(h.BASE, json_body=h.experiment_post(c, "doc-exp"))
    c.post(h.BASE, json_body=h.experiment_post(c, "doc-exp"))
    c.post(h.BASE, data="key=x", content_type="application/x-www-form-urlencoded")
    c.get(f"{h.BASE}/doc-exp?expand=treatments,mutableFieldsByStatus")
    c.get(f"{h.BASE}/nope")
    c.patch(f"{h.BASE}/doc-exp", json_body={"instructions": [{"kind": "updateName", "value": "Doc"}]})
    c.patch(f"{h.BASE}/doc-exp", json_body={"instructions": [{"kind": "stopIteration"}]})
    c.post(f"{h.BASE}/doc-exp/iterations", json_body=h.iteration_input(c))
    assert created.status_code == 201
    results = f"{h.BASE}/checkout-button-test/metrics/checkout-completed/results"
    c.get(results)
    c.get(results + "?expand=traffic")
    c.get(f"{h.BASE}/search-ranking-test/metric-groups/engagement/results")
    c.get(f"{P}/experimentation-settings")
    c.put(
        f"{P}/experimentation-settings",
        json_body={"randomizationUnits": [{"randomizationUnit": "user", "default": True}]},
    )
    c.put(f"{P}/experimentation-settings", json_body={"randomizationUnits": [{"randomizationUnit": "ghost"}]})
    c.get("/api/v2/flags/default/pricing-page-layout")
    c.get("/api/v2/flags/default/pricing-page-layout", headers={"LD-API-Version": "yesterday"})
    c.get("/api/v2/flags/default/pricing-page-layout?env=")
    c.get("/api/v2/flags/default/nope")
    c.get("/api/v2/flags/default/pricing-page-layout", headers={"Authorization": "mob-key"})
    c.patch("/api/v2/flags/default/pricing-page-layout", json_body=[{"op": "replace", "path": "/name", "value": "L"}])
    # the feature-flag API
    c.get(f"{h.FLAGS}?limit=3&env=production&filter=state:live&sort=-creationDate")
    c.get(f"{h.FLAGS}?summary=0&expand=evaluation&tag=experiment")
    c.get(f"{h.FLAGS}?expand=everything")
    c.get("/api/v2/flags/nope")
    c.post(h.FLAGS, json_body={"key": "doc-flag", "name": "Doc flag", "tags": ["doc"]})
    c.post(h.FLAGS, json_body={"key": "doc-flag", "name": "Doc flag"})
    c.post(h.FLAGS, json_body={"key": "bad key!", "name": "Bad"})
    c.post(h.FLAGS, json_body={"key": "doc-x", "name": "X"}, headers=reader)
    c.post("/api/v2/flags/nope", json_body={"key": "doc-y", "name": "Y"})
    c.post(f"{h.FLAGS}?clone=doc-flag", json_body={"key": "doc-clone", "name": "Clone"})
    c.get(h.flag_url("doc-flag") + "?expand=evaluation,nonsense")
    h.semantic(c, "doc-flag", {"kind": "turnFlagOn"})
    h.semantic(c, "doc-flag", {"kind": "nonsense"})
    c.patch(h.flag_url("doc-flag"), json_body={"merge": {"description": "Merged"}, "comment": "doc"})
    c.patch(h.flag_url("doc-flag") + "?dryRun=true", json_body=[{"op": "replace", "path": "/name", "value": "D"}])
    c.patch(h.flag_url("doc-flag"), json_body=[{"op": "test", "path": "/_version", "value": 99}])
    c.get("/api/v2/flag-status/default/doc-flag?env=production")
    c.get("/api/v2/flag-status/default/nope")
    c.get("/api/v2/flag-statuses/default/production")
    c.get("/api/v2/flag-statuses/default/nope")
    c.get("/api/v2/flag-statuses/default/production/checkout-button-color")
    c.get("/api/v2/flag-statuses/default/production/nope")
    c.delete(h.flag_url("checkout-button-color"))  # a running experiment uses it
    c.delete(h.flag_url("doc-clone"))
    c.delete(h.flag_url("doc-clone"))
    legacy = "/api/v2/flags/default/free-shipping-threshold/experiments/production/revenue-per-user"
    c.get(legacy)
    c.delete(legacy + "/results")
    # rate limited: 429 with the header family
    c.post("/__admin/launchdarkly/rate-limit", json_body={"limit": 1, "scope": "global"})
    c.get(f"{P}/context-kinds")
    c.get(f"{P}/context-kinds")
    c.get("/api/v2/metrics/default")
    c.delete("/__admin/launchdarkly/rate-limit")


def test_every_answer_matches_the_vendor_document(vendor):
    client = Recorder(create_app(make_settings()), h.LD_KEY)
    _scenario(client)
    ours = Contract("launchdarkly")
    checked: dict[str, set[int]] = {}
    problems = []
    for method, path, query, status, mimetype, body in client.seen:
        if not path.startswith("/api/v2"):
            continue
        request = MockRequest("http://localhost", method.lower(), path, args=dict(_args(query)))
        response = MockResponse(body, status_code=status, content_type=mimetype or "")
        try:
            vendor.validate_response(request, response)
        except ResponseNotFound:
            op_id = _operation(vendor, method, path)
            if op_id == "getFeatureFlag" or (op_id, status) not in ADDED:
                problems.append(f"{method} {path} answered {status}, which LaunchDarkly does not list for {op_id}")
        except OpenAPIError as exc:
            cause = exc.__cause__
            detail = getattr(cause, "schema_errors", None)
            message = "; ".join(str(e.message) for e in detail) if detail else repr(cause or exc)
            problems.append(f"{method} {path}?{query} -> {status}: {message}\n{body[:300]!r}")
        checked.setdefault(_operation(vendor, method, path), set()).add(status)
    assert not problems, "\n".join(problems)
    served = set(ours.raw_operations)
    assert served <= set(checked), f"operations the scenario never called: {sorted(served - set(checked))}"


def _args(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


def _operation(vendor: OpenAPI, method: str, path: str) -> str:
    from openapi_core.templating.paths.finders import APICallPathFinder

    found = APICallPathFinder(vendor.spec).find(method.lower(), f"http://localhost{path}")
    return found.operation["operationId"]
