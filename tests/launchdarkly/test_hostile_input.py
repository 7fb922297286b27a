"""Hostile and malformed LaunchDarkly requests: a 4xx {"code","message"}, the server stays up, state unchanged."""

from __future__ import annotations

import json

import pytest

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.launchdarkly.helpers import without_counters
from tests.speccheck import FlaskClient

BASE = "/api/v2/projects/default/environments/production/experiments"
EXP = f"{BASE}/checkout-button-test"
FLAG = "/api/v2/flags/default/checkout-button-color"
JSON = "application/json"
SEMANTIC = "application/json; domain-model=launchdarkly.semanticpatch"
TOKEN = {"Authorization": "api-hostile"}


def deep(n: int) -> bytes:
    return b'{"instructions": [{"kind": "updateName", "value": ' + b"[" * n + b"]" * n + b"}]}"


# (method, path, body bytes or None, content type, headers, expected status)
CASES = [
    ("POST", BASE, b"{", JSON, {}, 400),
    ("POST", BASE, b'{"key": "x", "name": "y"', JSON, {}, 400),
    ("POST", BASE, b"", JSON, {}, 400),
    ("POST", BASE, b"null", JSON, {}, 400),
    ("POST", BASE, b"[]", JSON, {}, 400),
    ("POST", BASE, b'{"key": "x", "name": "y"}', "text/plain", {}, 400),
    ("POST", BASE, b'{"key": "x", "name": "y"}', None, {}, 400),
    ("POST", BASE, b"\xff\xfe\xfa\xfb", JSON, {}, 400),
    ("POST", BASE, b'{"key": "\xc3\x28", "name": "y"}', JSON, {}, 400),
    ("POST", BASE, b'{"key": "a\\u0000b", "name": "y", "iteration": {}}', JSON, {}, 400),
    ("POST", BASE, b'{"key": NaN}', JSON, {}, 400),
    ("POST", BASE, b'{"key": 12345678901234567890123456789, "name": "y"}', JSON, {}, 400),
    ("POST", BASE, b'{"key": "x", "name": "y", "iteration": {"hypothesis": 1e400}}', JSON, {}, 400),
    ("POST", BASE, b'{"key": "x", "name": "y", "iteration": "now"}', JSON, {}, 400),
    ("POST", BASE, b'{"name": "missing key"}', JSON, {}, 400),
    (
        "POST",
        BASE,
        b'{"key": "x", "name": "y", "iteration": {"hypothesis": "h", "metrics": [], '
        b'"treatments": [], "flags": {}}, "unknownField": true}',
        JSON,
        {},
        400,
    ),
    ("POST", BASE, json.dumps({"key": "x" * 5000, "name": "y"}).encode(), JSON, {}, 400),
    ("POST", BASE, b'{"key": "x", "pad": "' + b"a" * (2 * 1024 * 1024) + b'"}', JSON, {}, 400),
    ("PATCH", EXP, b'[{"op": "replace", "path": "/name", "value": "x"}]', JSON, {}, 400),
    ("PATCH", EXP, b'{"instructions": []}', SEMANTIC, {}, 400),
    ("PATCH", EXP, b'{"instructions": [{"kind": "dropTables"}]}', SEMANTIC, {}, 400),
    ("PATCH", EXP, b'{"instructions": [{"kind": "updateName"}]}', SEMANTIC, {}, 400),
    ("PATCH", EXP, b'{"instructions": [{"kind": "updateName", "value": 7}]}', SEMANTIC, {}, 400),
    ("PATCH", EXP, b'{"instructions": [{"kind": "updateName", "value": "ok"}, {"kind": "nope"}]}', SEMANTIC, {}, 400),
    (
        "PATCH",
        EXP,
        b'{"instructions": [{"kind": "stopIteration", "winningTreatmentId": "not-a-treatment"}]}',
        SEMANTIC,
        {},
        400,
    ),
    ("PATCH", EXP, b'{"instructions": "all"}', SEMANTIC, {}, 400),
    ("PATCH", EXP, deep(3000), SEMANTIC, {}, 400),
    ("PATCH", EXP, b'{"instructions": [{"kind": "updateName", "value": "x"}]}', "application/xml", {}, 400),
    ("PATCH", FLAG, b'{"op": "replace"}', JSON, {}, 400),
    ("PATCH", FLAG, b'[{"op": "explode", "path": "/experiments/baselineIdx", "value": 0}]', JSON, {}, 400),
    ("PATCH", FLAG, b'[{"op": "replace", "path": "/experiments/items/99/environments", "value": []}]', JSON, {}, 422),
    ("PATCH", FLAG, b'[{"op": "test", "path": "/experiments/baselineIdx", "value": 42}]', JSON, {}, 422),
    ("PATCH", FLAG, b'[{"op": "replace", "path": "/key", "value": "hijack"}]', JSON, {}, 400),
    ("GET", f"{BASE}?limit=-1", None, None, {}, 400),
    ("GET", f"{BASE}?limit=0", None, None, {}, 400),
    ("GET", f"{BASE}?limit=99999999999999999999999", None, None, {}, 400),
    ("GET", f"{BASE}?offset=-5", None, None, {}, 400),
    ("GET", f"{BASE}?limit=abc", None, None, {}, 400),
    ("GET", f"{BASE}?filter=colour:blue", None, None, {}, 400),
    ("GET", f"{BASE}?lifecycleState=zombie", None, None, {}, 400),
    ("GET", f"{EXP}?expand=everything", None, None, {}, 400),
    ("GET", f"{BASE}/{'k' * 3000}", None, None, {}, 404),
    ("GET", f"{BASE}/..%2F..%2Fetc%2Fpasswd", None, None, {}, 404),
    ("GET", "/api/v2/projects/../../etc/passwd", None, None, {}, 404),
    ("GET", "/api/v2/projects/nope/environments/production/experiments", None, None, {}, 404),
    ("GET", "/api/v2/projects/default/environments/staging/experiments", None, None, {}, 404),
    ("GET", f"{EXP}/metrics/no-such-metric/results", None, None, {}, 404),
    ("GET", f"{EXP}/metrics/checkout-completed/results?iterationId=%00", None, None, {}, 404),
    (
        "GET",
        "/api/v2/flags/default/checkout-button-color/experiments/production/checkout-completed?from=soon",
        None,
        None,
        {},
        400,
    ),
    ("DELETE", EXP, None, None, {}, 405),
    ("PUT", "/api/v2/projects/default/experimentation-settings", b'{"randomizationUnits": "user"}', JSON, {}, 400),
    ("GET", BASE, None, None, {"Authorization": "Bearer api-hostile"}, 401),
    ("GET", BASE, None, None, {"Authorization": ""}, 401),
    ("GET", BASE, None, None, {"LD-API-Version": "yesterday"}, 400),
    ("GET", BASE, None, None, {"Authorization": "api-a\tX-Injected: 1"}, 200),
    ("GET", "/api/v2/nothing-here", None, None, {}, 404),
]


@pytest.fixture(scope="module")
def app():
    return create_app(make_settings())


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{c[0]}-{c[1][-40:]}" for i, c in enumerate(CASES)])
def test_hostile_input_gets_4xx_envelope_and_changes_nothing(app, case):
    method, path, body, content_type, headers, status = case
    runtime = app.extensions["mockserver"]
    before = without_counters(runtime.store.snapshot()["launchdarkly"])
    client = FlaskClient(app, TOKEN)
    response = client.request(method, path, data=body, content_type=content_type, headers={**TOKEN, **headers})
    assert response.status_code == status, response.text
    if status >= 400:
        error = response.json()
        assert {"code", "message"} <= set(error), error
        assert isinstance(error["code"], str) and error["message"]
    assert without_counters(runtime.store.snapshot()["launchdarkly"]) == before
    assert "X-Injected" not in response.headers
    assert client.get("/__admin/health", check_spec=False).status_code == 200


def test_table_is_large_enough():
    assert len(CASES) >= 40
