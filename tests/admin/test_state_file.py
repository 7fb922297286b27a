"""--state-file: SQLite, one row per stored object, only the changed rows written with each change."""

from __future__ import annotations

import json
import sqlite3

import pytest

from mockserver.app import create_app
from mockserver.core import documents, persistence
from tests.conftest import PH_KEY, make_settings
from tests.speccheck import FlaskClient

NEW = {"name": "Saved", "feature_flag_key": "saved"}


def client_for(path, **settings) -> FlaskClient:
    return FlaskClient(create_app(make_settings(state_file=str(path), **settings)), PH_KEY)


def stopped(client: FlaskClient) -> FlaskClient:
    """The server stops (its state file is folded and let go), so another may take the file."""
    client.app.extensions["mockserver"].state_file.close()
    return client


def rows(path) -> dict[tuple[str, str, str], object]:
    with sqlite3.connect(path) as db:
        return {(p, t, k): json.loads(v) for p, t, k, v in db.execute("SELECT part, tbl, key, value FROM rows")}


def test_first_start_writes_the_database_and_changes_are_saved(tmp_path):
    path = tmp_path / "state" / "mock.db"
    client = client_for(path)
    assert path.read_bytes()[:16] == persistence.SQLITE_MAGIC
    created = client.post("/api/projects/1/experiments/", json_body=NEW)
    assert created.status_code == 201
    saved = rows(path)
    assert saved[("posthog", "experiments", str(created.json()["id"]))]["name"] == "Saved"
    client.post("/__admin/api-keys", json_body={"vendor": "posthog", "key": "phx_saved", "scopes": ["*"]})
    assert ("admin", "api_keys", "posthog:phx_saved") in rows(path)


def test_a_write_touches_only_the_rows_it_changed(tmp_path):
    path = tmp_path / "mock.db"
    client = client_for(path)
    runtime = client.app.extensions["mockserver"]
    written: list[set] = []
    real_save = runtime.state_file.save
    runtime.state_file.save = lambda rt, changed: (written.append(set(changed)), real_save(rt, changed))[1]
    exp_id = client.post("/api/projects/1/experiments/", json_body=NEW).json()["id"]
    assert client.post(f"/api/projects/1/experiments/{exp_id}/launch/").status_code == 200
    created, launched = written
    flag_id = client.get(f"/api/projects/1/experiments/{exp_id}/").json()["feature_flag"]["id"]
    experiment, flag = ("posthog", "experiments", str(exp_id)), ("posthog", "flags", str(flag_id))
    assert {experiment, flag} <= created <= {experiment, flag, ("posthog", "@", "sequences")}
    assert launched == {experiment, flag}


def test_a_restart_loads_the_last_write(tmp_path):
    path = tmp_path / "mock.db"
    client = client_for(path)
    exp_id = client.post(
        "/api/projects/1/experiments/", json_body={"name": "Survivor", "feature_flag_key": "sv"}
    ).json()["id"]
    client.post(f"/api/projects/1/experiments/{exp_id}/launch/")
    stopped(client)
    restarted = client_for(path)
    got = restarted.get(f"/api/projects/1/experiments/{exp_id}/")
    assert got.status_code == 200 and got.json()["name"] == "Survivor" and got.json()["status"] == "running"
    assert restarted.get("/__admin/state").json()["data"] == client.get("/__admin/state").json()["data"]
    # the state file wins over --fixture at start; reset still goes back to the fixture
    stopped(restarted)
    with_fixture = client_for(path, fixture="empty")
    assert with_fixture.get(f"/api/projects/1/experiments/{exp_id}/").status_code == 200
    with_fixture.post("/__admin/reset")
    assert with_fixture.get("/api/projects/1/experiments/").json()["count"] == 0
    stopped(with_fixture)
    assert client_for(path).get("/api/projects/1/experiments/").json()["count"] == 0


def test_rejected_requests_and_reads_write_nothing(tmp_path):
    path = tmp_path / "mock.db"
    client = client_for(path)
    runtime = client.app.extensions["mockserver"]
    calls = []
    runtime.state_file.save = lambda rt, changed: calls.append(changed)
    assert client.get("/api/projects/1/experiments/").status_code == 200
    assert client.post("/api/projects/1/experiments/", json_body={"name": 3}).status_code == 400
    assert client.post("/api/projects/1/experiments/999/launch/").status_code == 404
    assert calls == []


def test_a_save_that_fails_answers_503_and_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "mock.db"
    client = client_for(path)
    runtime = client.app.extensions["mockserver"]
    before = client.get("/__admin/state").json()

    def full_disk(rt, changed):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runtime.state_file, "save", full_disk)
    response = client.post("/api/projects/1/experiments/", json_body=NEW, check_spec=False)
    assert response.status_code == 503
    assert "No space left on device" in response.json()["detail"]
    assert client.get("/__admin/state").json() == before
    assert any("No space left" in str(e) for e in runtime.server_errors)  # reported to the test, too
    runtime.server_errors.clear()
    monkeypatch.undo()
    assert client.post("/api/projects/1/experiments/", json_body=NEW).status_code == 201


def test_a_symlinked_path_writes_its_target(tmp_path):
    target = tmp_path / "real" / "mock.db"
    target.parent.mkdir()
    link = tmp_path / "link.db"
    link.symlink_to(target)
    client = client_for(link)
    client.post("/api/projects/1/experiments/", json_body=NEW)
    assert link.is_symlink() and target.read_bytes()[:16] == persistence.SQLITE_MAGIC
    assert any(key[1] == "experiments" and value["name"] == "Saved" for key, value in rows(target).items())


def test_stale_temporary_files_are_removed_at_start(tmp_path):
    path = tmp_path / "mock.db"
    stale = tmp_path / ".mock.db.abc123.tmp"
    stale.write_bytes(b"half a document")
    client_for(path)
    assert not stale.exists()


def test_a_json_state_file_is_converted_once(tmp_path):
    source = client_for(tmp_path / "seed.db")
    source.post("/api/projects/1/experiments/", json_body={"name": "From JSON", "feature_flag_key": "from-json"})
    exported = source.get("/__admin/state").json()
    stopped(source)
    path = tmp_path / "mock.json"
    path.write_text(json.dumps(exported))
    client = client_for(path)
    assert path.read_bytes()[:16] == persistence.SQLITE_MAGIC
    assert json.loads((tmp_path / "mock.json.json-backup").read_text()) == exported
    names = [e["name"] for e in client.get("/api/projects/1/experiments/?limit=100").json()["results"]]
    assert "From JSON" in names
    stopped(client)
    assert client_for(path).get("/__admin/state").json()["data"] == exported["data"]


def test_one_state_file_is_held_by_one_app_however_it_was_made(tmp_path):
    path = tmp_path / "mock.db"
    first = client_for(path)
    with pytest.raises(OSError, match="in use by another mockserver"):
        create_app(make_settings(state_file=str(path)))  # no serve, no MockServer: still refused
    stopped(first)
    second = client_for(path)  # let go by the stop
    assert second.post("/api/projects/1/experiments/", json_body=NEW).status_code == 201
    # the stopped app's write after another took the file: refused (503), nothing changed in memory
    before = first.get("/api/projects/1/experiments/").json()["count"]
    late = first.post(
        "/api/projects/1/experiments/", json_body={"name": "Late", "feature_flag_key": "late"}, check_spec=False
    )
    assert late.status_code == 503 and "in use by another mockserver" in late.json()["detail"]
    assert first.get("/api/projects/1/experiments/").json()["count"] == before
    first.app.extensions["mockserver"].server_errors.clear()  # reported, as a failed save is
    stopped(second)
    # once nobody holds it, the stopped app's next write takes the file again and is saved
    assert (
        first.post("/api/projects/1/experiments/", json_body={"name": "Later", "feature_flag_key": "later"}).status_code
        == 201
    )
    with pytest.raises(OSError, match="in use by another mockserver"):
        create_app(make_settings(state_file=str(path)))
    stopped(first)
    assert [
        v["name"] for (_p, t, _k), v in rows(path).items() if t == "experiments" and v["name"] in ("Late", "Later")
    ] == ["Later"]


def test_a_failed_start_lets_the_file_go(tmp_path):
    path = tmp_path / "mock.db"
    path.write_bytes(persistence.SQLITE_MAGIC + b"torn")
    with pytest.raises(Exception):  # noqa: B017 (whatever sqlite says of a torn file)
        create_app(make_settings(state_file=str(path)))
    path.unlink()
    assert client_for(path).get("/__admin/health").status_code == 200


def test_a_second_conversion_keeps_the_first_backup(tmp_path):
    path = tmp_path / "mock.json"
    earlier = tmp_path / "mock.json.json-backup"
    earlier.write_text('{"earlier": "backup"}')
    path.write_text(json.dumps({"format": documents.FORMAT}))
    stopped(client_for(path))
    assert earlier.read_text() == '{"earlier": "backup"}'  # never overwritten
    assert json.loads((tmp_path / "mock.json.json-backup.1").read_text()) == {"format": documents.FORMAT}


def test_a_corrupt_state_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "mock.json"
    path.write_text('{"format": "mockserver/state@1", "data": {"posthog": []}}')
    with pytest.raises(documents.SnapshotError) as info:
        create_app(make_settings(state_file=str(path)))
    assert info.value.field == "data.posthog" and str(path) in str(info.value)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00\x01 not json, not sqlite")
    with pytest.raises(documents.SnapshotError, match="neither SQLite nor valid JSON"):
        create_app(make_settings(state_file=str(garbage)))


def test_a_restart_resumes_the_seed_and_an_advanced_running_clock(tmp_path):
    from datetime import UTC, datetime, timedelta

    from mockserver.core.clock import parse_instant

    path = tmp_path / "mock.db"
    client = client_for(path, now=None)
    assert client.post("/__admin/reset", json_body={"seed": 7}).status_code == 200
    assert client.post("/__admin/clock/advance", json_body={"duration": "P14D"}).status_code == 200
    seven = client.get("/__admin/state").json()["data"]

    stopped(client)
    restarted = client_for(path, now=None)
    assert restarted.get("/__admin/health").json()["seed"] == 7
    now = parse_instant(restarted.get("/__admin/clock").json()["now"])
    assert abs(now - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=1)
    restarted.post("/api/projects/1/experiments/", json_body={"name": "Gone", "feature_flag_key": "gone"})
    assert restarted.post("/__admin/reset").json()["seed"] == 7
    assert restarted.get("/__admin/state").json()["data"]["posthog"]["users"] == seven["posthog"]["users"]
