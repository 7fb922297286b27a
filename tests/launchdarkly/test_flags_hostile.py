"""Hostile and malformed requests to the flag API: a 4xx {"code","message"}, the server stays up, nothing changes."""

from __future__ import annotations

import pytest

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.launchdarkly.helpers import without_counters
from tests.speccheck import FlaskClient

FLAGS = "/api/v2/flags/default"
FLAG = f"{FLAGS}/checkout-button-color"
JSON = "application/json"
SEMANTIC = "application/json; domain-model=launchdarkly.semanticpatch"
TOKEN = {"Authorization": "api-hostile"}


def nested(n: int) -> bytes:
    return b"[" * n + b"]" * n


CASES = [
    (
        "POST",
        FLAGS,
        b'{"key": "deep", "name": "d", "variations": [{"value": ' + nested(500) + b'}, {"value": []}]}',
        JSON,
        400,
    ),
    ("POST", FLAGS, b'{"key": "x", "name": "y", "variations": "many"}', JSON, 400),
    ("POST", FLAGS, b'{"key": "x", "name": "y", "defaults": {"onVariation": -1, "offVariation": 0}}', JSON, 400),
    ("POST", FLAGS, b'{"key": "x", "name": "y", "clientSideAvailability": {"usingMobileKey": true}}', JSON, 400),
    ("POST", FLAGS, b'{"key": "x", "name": "y", "purpose": "chaos"}', JSON, 400),
    ("POST", FLAGS, b'{"key": "' + b"k" * 5000 + b'", "name": "y", "tags": [1]}', JSON, 400),
    ("POST", FLAGS + "?clone=", b'{"key": "x", "name": "y"}', JSON, 400),
    ("PATCH", FLAG, b'{"merge": {"goalIds": ' + nested(600) + b"}}", JSON, 400),
    ("PATCH", FLAG, b'[{"op": "add", "path": "/variations/-", "value": {"value": ' + nested(400) + b"}}]", JSON, 400),
    ("PATCH", FLAG, b'{"instructions": [{"kind": "addVariation", "value": ' + nested(900) + b"}]}", SEMANTIC, 400),
    ("PATCH", FLAG, b'{"merge": {"environments": []}}', JSON, 400),
    ("PATCH", FLAG, b'{"merge": {"variations": 3}}', JSON, 400),
    ("PATCH", FLAG, b'{"merge": {"environments": {"production": {"rules": {"a": 1}}}}}', JSON, 400),
    (
        "PATCH",
        FLAG,
        b'[{"op": "replace", "path": "/environments/production/rules/0/clauses", "value": "x"}]',
        JSON,
        400,
    ),
    ("PATCH", FLAG, b'[{"op": "replace", "path": "/variations/0", "value": null}]', JSON, 400),
    ("PATCH", FLAG, b'{"instructions": [{"kind": "turnFlagOn"}], "environmentKey": 7}', SEMANTIC, 400),
    (
        "PATCH",
        FLAG,
        b'{"environmentKey": "production", "instructions": [{"kind": "addRule", "rolloutWeights": [1]}]}',
        SEMANTIC,
        400,
    ),
    (
        "PATCH",
        FLAG,
        b'{"environmentKey": "production", "instructions": [{"kind": "addTargets", "values": [1], "variationId": 1}]}',
        SEMANTIC,
        400,
    ),
    (
        "PATCH",
        FLAG,
        b'{"environmentKey": "production", "instructions": [{"kind": "replaceTargets", "targets": [7]}]}',
        SEMANTIC,
        400,
    ),
    (
        "PATCH",
        FLAG,
        b'{"environmentKey": "production", "instructions": [{"kind": "updateClause", "ruleId": {}}]}',
        SEMANTIC,
        400,
    ),
    ("PATCH", FLAG, b'{"instructions": [{"kind": "updateDefaultVariation", "onVariationValue": null}]}', SEMANTIC, 400),
    (
        "PATCH",
        FLAG,
        b'{"instructions": [{"kind": "replaceCustomProperties", "key": "k", "name": 1, "values": []}]}',
        SEMANTIC,
        400,
    ),
    ("PATCH", FLAG + "?dryRun=perhaps", b'{"merge": {}}', JSON, 400),
    ("PATCH", FLAG, b'{"instructions": [{"kind": "turnFlagOn"}]}', "text/plain", 400),
    ("DELETE", f"{FLAGS}/{'k' * 3000}", None, None, 404),
    ("GET", f"{FLAGS}?filter=creationDate:" + b"{".decode() * 50, None, None, 400),
    ("GET", f"{FLAGS}?filter=" + ",".join(["query:a"] * 200), None, None, 200),
    ("GET", f"{FLAGS}?sort=-,", None, None, 400),
    ("GET", f"{FLAGS}?limit=99999999999999999999", None, None, 400),
    ("GET", "/api/v2/flag-statuses/default/..%2Fproduction", None, None, 404),
]


@pytest.fixture(scope="module")
def app():
    return create_app(make_settings())


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(CASES)])
def test_hostile_flag_requests_get_a_4xx_envelope_and_change_nothing(app, case):
    method, path, body, content_type, status = case
    runtime = app.extensions["mockserver"]
    before = without_counters(runtime.store.snapshot()["launchdarkly"])
    client = FlaskClient(app, TOKEN)
    response = client.request(method, path, data=body, content_type=content_type)
    assert response.status_code == status, response.text
    if status >= 400:
        error = response.json()
        assert {"code", "message"} <= set(error) and error["message"], error
    assert without_counters(runtime.store.snapshot()["launchdarkly"]) == before
    assert not runtime.server_errors, list(runtime.server_errors)
    assert client.get("/__admin/health", check_spec=False).status_code == 200


DRY_RUNS = [
    (
        b'{"environmentKey": "production", "instructions": [{"kind": "addRule", "clauses": [], "rolloutWeights": {}}]}',
        SEMANTIC,
        400,
    ),
    (b'{"instructions": [{"kind": "addVariation", "value": "teal"}, {"kind": "deleteFlag"}]}', SEMANTIC, 409),
    (b'[{"op": "add", "path": "/environments/test/rules/-", "value": {"variation": 0, "clauses": []}}]', JSON, 200),
    (b'{"merge": {"description": "preview"}}', JSON, 200),
]


@pytest.mark.parametrize(("body", "content_type", "status"), DRY_RUNS)
def test_a_dry_run_leaves_the_whole_state_alone(app, body, content_type, status):
    runtime = app.extensions["mockserver"]
    before = without_counters(runtime.store.snapshot()["launchdarkly"])
    response = FlaskClient(app, TOKEN).request("PATCH", FLAG + "?dryRun=true", data=body, content_type=content_type)
    assert response.status_code == status, response.text
    assert without_counters(runtime.store.snapshot()["launchdarkly"]) == before
