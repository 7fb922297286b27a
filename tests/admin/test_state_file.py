"""--state-file: loaded at start, written atomically after every change, skipped when nothing changed."""

from __future__ import annotations

import json
import os

import pytest

from mockserver.admin import snapshot
from mockserver.app import create_app
from tests.conftest import PH_KEY, make_settings
from tests.speccheck import FlaskClient


def client_for(path, **settings) -> FlaskClient:
    return FlaskClient(create_app(make_settings(state_file=str(path), **settings)), PH_KEY)


def test_first_start_writes_the_file_and_changes_are_saved(tmp_path):
    path = tmp_path / "state" / "mock.json"
    client = client_for(path)
    assert path.is_file()
    first = json.loads(path.read_text())
    assert first["format"] == snapshot.FORMAT

    created = client.post("/api/projects/1/experiments/", json_body={"name": "Saved", "feature_flag_key": "saved"})
    assert created.status_code == 201
    saved = json.loads(path.read_text())
    assert saved["data"]["posthog"]["experiments"][str(created.json()["id"])]["name"] == "Saved"

    client.post("/__admin/api-keys", json_body={"vendor": "posthog", "key": "phx_saved", "scopes": ["*"]})
    assert "posthog:phx_saved" in json.loads(path.read_text())["data"]["admin"]["api_keys"]
    assert [p.name for p in path.parent.iterdir()] == ["mock.json"]  # no temp files left behind


def test_a_restart_loads_the_last_write(tmp_path):
    path = tmp_path / "mock.json"
    client = client_for(path)
    exp_id = client.post(
        "/api/projects/1/experiments/", json_body={"name": "Survivor", "feature_flag_key": "sv"}
    ).json()["id"]
    client.post(f"/api/projects/1/experiments/{exp_id}/launch/")
    restarted = client_for(path)
    got = restarted.get(f"/api/projects/1/experiments/{exp_id}/")
    assert got.status_code == 200 and got.json()["name"] == "Survivor" and got.json()["status"] == "running"
    # the state file wins over --fixture at start; reset still goes back to the fixture
    with_fixture = client_for(path, fixture="empty")
    assert with_fixture.get(f"/api/projects/1/experiments/{exp_id}/").status_code == 200
    with_fixture.post("/__admin/reset")
    assert with_fixture.get("/api/projects/1/experiments/").json()["count"] == 0


def test_rejected_requests_and_reads_do_not_rewrite(tmp_path):
    path = tmp_path / "mock.json"
    client = client_for(path)
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp - 10**9, stamp - 10**9))
    stamp = path.stat().st_mtime_ns
    assert client.get("/api/projects/1/experiments/").status_code == 200
    assert client.post("/api/projects/1/experiments/", json_body={"name": 3}).status_code == 400
    assert path.stat().st_mtime_ns == stamp


def test_the_write_is_atomic(tmp_path, monkeypatch):
    """A crash between writing the temp file and renaming it leaves the previous file whole."""
    path = tmp_path / "mock.json"
    client = client_for(path)
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(snapshot.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        client.app.extensions["mockserver"].store.data["posthog"]["experiments"]["4"]["name"] = "Half written"
        client.app.extensions["mockserver"].persist()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mock.json"]


def test_a_corrupt_state_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "mock.json"
    path.write_text('{"format": "mockserver/state@1", "data": {"posthog": []}}')
    with pytest.raises(snapshot.SnapshotError) as info:
        create_app(make_settings(state_file=str(path)))
    assert info.value.field == "data.posthog" and str(path) in str(info.value)


def test_a_restart_resumes_the_seed_and_an_advanced_running_clock(tmp_path):
    from datetime import UTC, datetime, timedelta

    from mockserver.core.clock import parse_instant

    path = tmp_path / "mock.json"
    client = client_for(path, now=None)
    assert client.post("/__admin/reset", json_body={"seed": 7}).status_code == 200
    assert client.post("/__admin/clock/advance", json_body={"duration": "P14D"}).status_code == 200
    seven = client.get("/__admin/state").json()["data"]

    restarted = client_for(path, now=None)
    assert restarted.get("/__admin/health").json()["seed"] == 7
    now = parse_instant(restarted.get("/__admin/clock").json()["now"])
    assert abs(now - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=1)
    restarted.post("/api/projects/1/experiments/", json_body={"name": "Gone", "feature_flag_key": "gone"})
    assert restarted.post("/__admin/reset").json()["seed"] == 7
    assert restarted.get("/__admin/state").json()["data"]["posthog"]["users"] == seven["posthog"]["users"]
