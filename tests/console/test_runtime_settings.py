"""/__admin/settings: latency and no-auth change while the server runs; everything else stays put."""

from __future__ import annotations

import time

import pytest

from mockserver.admin import runtime_settings
from mockserver.app import create_app
from mockserver.core.settings import Settings
from mockserver.server import MockServer
from tests.conftest import make_settings
from tests.speccheck import FlaskClient, HttpClient


def admin_client(**settings) -> FlaskClient:
    return FlaskClient(create_app(make_settings(**settings)), {})


def test_settings_read_and_change_latency():
    client = admin_client()
    assert client.get("/__admin/settings").json() == {"latency_ms": None, "no_auth": False, "strict_auth": False}
    assert client.patch("/__admin/settings", json_body={"latency_ms": 25}).json()["latency_ms"] == [25, 25]
    assert client.patch("/__admin/settings", json_body={"latency_ms": [10, 30]}).json()["latency_ms"] == [10, 30]
    assert client.patch("/__admin/settings", json_body={}).json()["latency_ms"] == [10, 30]  # left out: kept
    assert client.patch("/__admin/settings", json_body={"latency_ms": 0}).json()["latency_ms"] is None
    assert client.patch("/__admin/settings", json_body={"latency_ms": [5, 5.0]}).json()["latency_ms"] == [5, 5]
    assert client.patch("/__admin/settings", json_body={"latency_ms": None}).json()["latency_ms"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latency_ms": [30, 10]}, "latency_ms"),
        ({"latency_ms": [1, 2, 3]}, "latency_ms"),
        ({"latency_ms": 1.5}, "latency_ms"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 60_001}, "latency_ms"),
        ({"latency_ms": "50-200"}, "latency_ms"),
        ({"no_auth": "yes"}, "no_auth"),
        ({"strict_auth": False}, "strict_auth"),
        ({"seed": 7}, "seed"),
    ],
)
def test_bad_settings_are_400_and_change_nothing(body, field):
    client = admin_client()
    response = client.patch("/__admin/settings", json_body={**body, "no_auth": body.get("no_auth", True)})
    assert response.status_code == 400 and response.json()["field"] == field
    assert client.get("/__admin/settings").json() == {"latency_ms": None, "no_auth": False, "strict_auth": False}


def test_no_auth_cannot_be_turned_on_under_strict_auth():
    client = admin_client(strict_auth=True)
    response = client.patch("/__admin/settings", json_body={"no_auth": True})
    assert response.status_code == 409 and response.json()["field"] == "no_auth"
    assert client.patch("/__admin/settings", json_body={"no_auth": False}).status_code == 200


def test_update_is_all_or_nothing():
    settings = Settings()
    with pytest.raises(runtime_settings.SettingsError) as raised:
        runtime_settings.update(settings, {"latency_ms": [5, 9], "no_auth": 1})
    assert raised.value.field == "no_auth" and settings.latency is None and settings.no_auth is False


def test_changes_apply_to_the_next_request_until_a_reset():
    with MockServer(make_settings()) as server:
        keyless = HttpClient(server.url, {})
        assert keyless.get("/api/projects/1/experiments/?limit=1").status_code == 401
        keyless.patch("/__admin/settings", json_body={"no_auth": True, "latency_ms": 1000})
        started = time.perf_counter()
        assert keyless.get("/api/projects/1/experiments/?limit=1").status_code == 200
        assert time.perf_counter() - started >= 1.0
        started = time.perf_counter()
        assert keyless.get("/__admin/health").status_code == 200
        assert time.perf_counter() - started < 0.8  # the control API is never delayed
        keyless.post("/__admin/reset")  # back to the start-up settings, like the rest of the server
        assert keyless.get("/__admin/settings").json() == {"latency_ms": None, "no_auth": False, "strict_auth": False}
        started = time.perf_counter()
        assert keyless.get("/api/projects/1/experiments/?limit=1").status_code == 401
        assert time.perf_counter() - started < 0.8
