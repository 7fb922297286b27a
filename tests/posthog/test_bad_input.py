"""Hostile and malformed requests: each gets a 4xx PostHog envelope and the state stays identical."""

from __future__ import annotations

import json

import pytest

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.posthog.helpers import JSON, P
from tests.speccheck import FlaskClient

GOOD = {"name": "n", "feature_flag_key": "k"}


def deep(n: int) -> bytes:
    return b'{"name": "x", "feature_flag_key": "k", "filters": ' + b"[" * n + b"]" * n + b"}"


# (method, path, body bytes or None, content type, headers, expected status)
CASES = [
    ("POST", f"{P}/experiments/", b"{", JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": "x", "feature_flag_key": "k"', JSON, {}, 400),
    ("POST", f"{P}/experiments/", b"", JSON, {}, 400),
    ("POST", f"{P}/experiments/", b"null", JSON, {}, 400),
    ("POST", f"{P}/experiments/", b"[]", JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'"text"', JSON, {}, 400),
    ("POST", f"{P}/experiments/", json.dumps(GOOD).encode(), "text/plain", {}, 415),
    ("POST", f"{P}/experiments/", json.dumps(GOOD).encode(), None, {}, 415),
    ("POST", f"{P}/experiments/", json.dumps(GOOD).encode(), "application/x-www-form-urlencoded", {}, 415),
    ("POST", f"{P}/experiments/", b"\xff\xfe\xfa", JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": "\xc3\x28", "feature_flag_key": "k"}', JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": "a\\u0000b", "feature_flag_key": "bad\\u0000key"}', JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": NaN, "feature_flag_key": "k"}', JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": "x", "feature_flag_key": "k", "holdout_id": 1e400}', JSON, {}, 400),
    (
        "POST",
        f"{P}/experiments/",
        b'{"name": "x", "feature_flag_key": "k", "holdout_id": 123456789012345678901234567890}',
        JSON,
        {},
        400,
    ),
    ("POST", f"{P}/experiments/", deep(5000), JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": true, "feature_flag_key": "k"}', JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": "x", "feature_flag_key": ["k"]}', JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": "x", "feature_flag_key": "k", "archived": "maybe"}', JSON, {}, 400),
    ("POST", f"{P}/experiments/", b'{"name": "x", "feature_flag_key": "k", "metrics": {"a": 1}}', JSON, {}, 400),
    (
        "POST",
        f"{P}/experiments/",
        b'{"name": "x", "feature_flag_key": "k", "saved_metrics_ids": {"a": 1}}',
        JSON,
        {},
        400,
    ),
    (
        "POST",
        f"{P}/experiments/",
        b'{"name": "x", "feature_flag_key": "k", "end_date": "0001-01-01T00:00+09:00"}',
        JSON,
        {},
        400,
    ),
    ("POST", f"{P}/experiments/", b'{"name": "x", "feature_flag_key": "k", "holdout_id": [1]}', JSON, {}, 400),
    (
        "POST",
        f"{P}/experiments/",
        b'{"name": "x", "feature_flag_key": "k", "metrics": [{"kind": "ExperimentMetric"}]}',
        JSON,
        {},
        400,
    ),
    ("POST", f"{P}/experiments/", json.dumps({"name": "x" * 401, "feature_flag_key": "k"}).encode(), JSON, {}, 400),
    (
        "POST",
        f"{P}/experiments/",
        json.dumps({"name": "x", "feature_flag_key": "../../etc/passwd"}).encode(),
        JSON,
        {},
        400,
    ),
    ("POST", f"{P}/experiments/", json.dumps(dict(GOOD, start_date="yesterday")).encode(), JSON, {}, 400),
    (
        "POST",
        f"{P}/experiments/",
        b'{"name": "x", "feature_flag_key": "k", "pad": "' + b"a" * (2 * 1024 * 1024) + b'"}',
        JSON,
        {},
        413,
    ),
    ("GET", f"{P}/experiments/?limit=99999999999999999999999", None, None, {}, 400),
    ("GET", f"{P}/experiments/?offset=1e9", None, None, {}, 400),
    ("GET", f"{P}/experiments/?limit=", None, None, {}, 400),
    ("GET", f"{P}/experiments/?limit=ten", None, None, {}, 400),
    ("GET", f"{P}/experiments/abc/", None, None, {}, 404),
    ("GET", f"{P}/experiments/{'9' * 200}/", None, None, {}, 404),
    ("GET", f"{P}/experiments/-1/", None, None, {}, 404),
    ("GET", f"{P}/experiments/..%2F..%2Fetc%2Fpasswd/", None, None, {}, 404),
    ("GET", "/api/projects/../../etc/passwd", None, None, {}, 404),
    ("GET", f"/api/projects/{'x' * 5000}/experiments/", None, None, {}, 404),
    ("GET", f"{P}/experiments/%00/", None, None, {}, 404),
    ("PATCH", f"{P}/experiments/1/", b'{"deleted": "maybe"}', JSON, {}, 400),
    ("PATCH", f"{P}/experiments/1/", b'{"start_date": 5}', JSON, {}, 400),
    ("PATCH", f"{P}/experiments/1/", b'{"type": "web"}', JSON, {}, 400),
    ("PATCH", f"{P}/experiments/1/", b"{bad json", JSON, {}, 400),
    ("PUT", f"{P}/experiments/", b"{}", JSON, {}, 405),
    ("DELETE", f"{P}/experiments/1/", None, None, {}, 405),
    ("POST", f"{P}/experiments/1/ship_variant/", b'{"variant_key": 7}', JSON, {}, 400),
    ("POST", f"{P}/experiments/1/copy_to_project/", b'{"target_team_id": "two"}', JSON, {}, 400),
    ("POST", f"{P}/experiment_holdouts/", b'{"name": "h", "filters": "all"}', JSON, {}, 400),
    ("POST", f"{P}/experiment_saved_metrics/", b'{"name": "m", "query": []}', JSON, {}, 400),
    ("GET", f"{P}/experiments/", None, None, {"Authorization": "Basic abc"}, 401),
    ("GET", f"{P}/experiments/", None, None, {"Authorization": "Bearer "}, 401),
    ("GET", f"{P}/experiments/", None, None, {"Authorization": "Token phx_a\tX-Injected: 1"}, 401),
    ("GET", f"{P}/nope/", None, None, {}, 404),
    ("GET", "/api/environments/abc/experiments/", None, None, {}, 404),
    ("GET", "/api/environments/1/nope/", None, None, {}, 404),
    ("GET", "/api/projects/%D9%A1/experiments/", None, None, {}, 404),
    ("GET", "/api/projects/+1/experiments/", None, None, {}, 404),
    ("GET", "/api/projects/1_0/experiments/", None, None, {}, 404),
    ("GET", f"/api/projects/{'9' * 5000}/experiments/", None, None, {}, 404),
    ("GET", "/api/workspaces/1/experiments/", None, None, {}, 404),
    ("POST", f"{P}/experiment_saved_metrics/", b'{"name": "m", "query": "text"}', JSON, {}, 400),
    ("POST", f"{P}/experiments/4/recalculate_timeseries/", b'{"fingerprint": "f"}', JSON, {}, 400),
]


@pytest.fixture(scope="module")
def app():
    return create_app(make_settings())


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{c[0]}-{c[1][:40]}" for i, c in enumerate(CASES)])
def test_bad_input_gets_4xx_envelope_and_changes_nothing(app, case):
    method, path, body, content_type, headers, status = case
    runtime = app.extensions["mockserver"]
    before = runtime.store.snapshot()
    client = FlaskClient(app, {"Authorization": "Bearer phx_hostile"})
    merged = {"Authorization": "Bearer phx_hostile", **headers}
    response = client.request(method, path, data=body, content_type=content_type, headers=merged)
    assert response.status_code == status, response.text
    if response.content:
        error = response.json()
        assert set(error) == {"type", "code", "detail", "attr"}, error
        assert error["type"] in ("validation_error", "invalid_request", "authentication_error")
    assert runtime.store.snapshot() == before
    assert "X-Injected" not in response.headers
    assert client.get("/__admin/health", check_spec=False).status_code == 200


def test_table_is_large_enough():
    assert len(CASES) >= 40
