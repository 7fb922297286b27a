"""specs/admin.yaml covers every /__admin route, and the server holds itself to it."""

from __future__ import annotations

import json

import pytest
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest
from werkzeug.datastructures import Headers, MultiDict

from mockserver.app import create_app
from mockserver.core.contract import Contract, shared_contract
from mockserver.core.problems import Problem
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def admin_contract() -> Contract:
    """specs/admin.yaml with every vendor's fragment merged, as the server serves it."""
    return shared_contract("admin", ("launchdarkly.admin", "posthog.admin"))


def test_every_admin_route_is_documented_and_every_operation_is_served(admin_contract):
    router = create_app(make_settings()).extensions["mockserver.router"]
    served = {(r.path, r.method) for r in router.operations() if r.surface.name == "admin"}
    documented = {(path, method) for method, path, _op, _item in admin_contract.raw_operations.values()}
    assert served == documented


def test_bad_admin_requests_are_400_in_the_admin_envelope(make_client):
    client = make_client()
    wrong_type = client.post("/__admin/api-keys", json_body={"vendor": "posthog", "key": 5})
    assert wrong_type.status_code == 400
    assert wrong_type.json() == {"error": "bad_request", "detail": '5 is not of type "string"', "field": "key"}
    missing = client.post("/__admin/posthog/approval-policies", json_body={"quorum": 1})
    assert missing.status_code == 400 and missing.json()["field"] == "action_key"
    media = client.post("/__admin/faults", data=b"x", content_type="text/plain")
    assert media.status_code == 415 and media.json()["error"] == "unsupported_media_type"
    not_found = client.get("/__admin/nothing-here")
    assert not_found.status_code == 404 and not_found.json()["error"] == "not_found"


def test_a_response_that_breaks_the_admin_contract_is_a_500(make_client, monkeypatch):
    from mockserver.admin import clock
    from mockserver.core.vendor import Reply

    client = make_client()
    monkeypatch.setattr(clock, "_clock", lambda call: Reply(200, {"now": "later", "frozen": "maybe"}))
    response = client.get("/__admin/clock", check_spec=False)
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "mock_contract_violation" and "getClock" in body["detail"]


def test_warn_mode_passes_the_response_with_a_header(make_client, monkeypatch):
    from mockserver.admin import clock
    from mockserver.core.vendor import Reply

    client = make_client(response_validation="warn")
    monkeypatch.setattr(clock, "_clock", lambda call: Reply(200, {"now": "later", "frozen": "maybe"}))
    response = client.get("/__admin/clock", check_spec=False)
    assert response.status_code == 200 and "frozen" in response.headers["X-Mock-Contract-Violations"]


# Each case: operationId, path, query, body (None = no body). The fast path and plain openapi-core
# must agree on accepting or rejecting each one.
CORPUS = [
    ("reset", "/__admin/reset", {}, None),
    ("reset", "/__admin/reset", {}, {"seed": 3}),
    ("reset", "/__admin/reset", {}, {"seed": "3"}),
    ("reset", "/__admin/reset", {}, {"seed": 3, "other": 1}),
    ("putState", "/__admin/state", {}, {"format": "mockserver/state@1"}),
    ("putState", "/__admin/state", {}, {"data": {}}),
    ("putState", "/__admin/state", {}, {"format": "x", "seed": 1.5}),
    ("putState", "/__admin/state", {}, None),
    ("listRequests", "/__admin/requests", {"status": "200", "limit": "3"}, None),
    ("listRequests", "/__admin/requests", {"status": "abc"}, None),
    ("listRequests", "/__admin/requests", {"limit": "-1"}, None),
    ("addFault", "/__admin/faults", {}, {"path": "/x", "status": 500}),
    ("addFault", "/__admin/faults", {}, {"path": "/x", "latency_ms": [1, 2]}),
    ("addFault", "/__admin/faults", {}, {"path": "/x", "latency_ms": [1, 2, 3]}),
    ("addFault", "/__admin/faults", {}, {"path": "/x", "status": 99}),
    ("addFault", "/__admin/faults", {}, {"path": "/x", "probability": 1.5}),
    ("addFault", "/__admin/faults", {}, {"path": "/x", "nope": 1}),
    ("addFault", "/__admin/faults", {}, None),
    ("deleteFault", "/__admin/faults/3", {}, None),
    ("deleteFault", "/__admin/faults/three", {}, None),
    ("freezeClock", "/__admin/clock/freeze", {}, {"at": None}),
    ("freezeClock", "/__admin/clock/freeze", {}, {"at": 5}),
    ("advanceClock", "/__admin/clock/advance", {}, {"seconds": 1.5}),
    ("advanceClock", "/__admin/clock/advance", {}, {"hours": 1}),
    ("addApiKey", "/__admin/api-keys", {}, {"vendor": "posthog", "key": "k"}),
    ("addApiKey", "/__admin/api-keys", {}, {"vendor": "posthog"}),
    ("addPosthogApprovalPolicy", "/__admin/posthog/approval-policies", {}, {"action_key": "experiment.launch"}),
    ("addPosthogApprovalPolicy", "/__admin/posthog/approval-policies", {}, {"action_key": "x", "users": ["a"]}),
    ("deletePosthogApprovalPolicy", "/__admin/posthog/approval-policies/x", {}, None),
    ("listPosthogChangeRequests", "/__admin/posthog/change-requests", {"state": "pending"}, None),
    ("listPosthogChangeRequests", "/__admin/posthog/change-requests", {"state": "done"}, None),
    ("approvePosthogChangeRequest", "/__admin/posthog/change-requests/abc/approve", {}, {"user_id": 2}),
    ("approvePosthogChangeRequest", "/__admin/posthog/change-requests/abc/approve", {}, {"user_id": "2"}),
    ("addLaunchdarklyRateLimit", "/__admin/launchdarkly/rate-limit", {}, {"limit": 5}),
    ("addLaunchdarklyRateLimit", "/__admin/launchdarkly/rate-limit", {}, {"limit": 0}),
    ("addLaunchdarklyRateLimit", "/__admin/launchdarkly/rate-limit", {}, {"limit": 5, "window_seconds": 0}),
]


def _args(contract: Contract, op_id: str, path: str) -> dict[str, str]:
    template = contract.raw_operations[op_id][1].split("/")
    return {t[1:-1]: p for t, p in zip(template, path.split("/"), strict=True) if t.startswith("{")}


@pytest.mark.parametrize(("op_id", "path", "query", "body"), CORPUS)
def test_fast_path_agrees_with_openapi_core_on_admin_requests(admin_contract, op_id, path, query, body):
    method = admin_contract.raw_operations[op_id][0]
    data = None if body is None else json.dumps(body).encode()
    content_type = "application/json" if body is not None else None
    try:
        admin_contract.validate_request(
            op_id, _args(admin_contract, op_id, path), MultiDict(query), Headers(), content_type, data or b""
        )
        fast = True
    except Problem:
        fast = False
    request = MockRequest("http://localhost", method.lower(), path, args=query, data=data, content_type=content_type)
    try:
        admin_contract.openapi.validate_request(request)
        plain = True
    except OpenAPIError:
        plain = False
    assert fast == plain


def test_corpus_has_both_outcomes(admin_contract):
    outcomes = set()
    for op_id, path, query, body in CORPUS:
        try:
            admin_contract.validate_request(
                op_id,
                _args(admin_contract, op_id, path),
                MultiDict(query),
                Headers(),
                "application/json" if body is not None else None,
                b"" if body is None else json.dumps(body).encode(),
            )
            outcomes.add(True)
        except Problem:
            outcomes.add(False)
    assert outcomes == {True, False}
