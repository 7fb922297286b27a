"""The seeded world: deterministic per seed, covering every status, reset back to it exactly."""

from __future__ import annotations

from mockserver.app import create_app
from tests.conftest import PH_KEY, make_settings
from tests.posthog.helpers import P

PATHS = [
    f"{P}/experiments/?limit=100",
    f"{P}/experiments/?archived=true",
    f"{P}/experiment_holdouts/",
    f"{P}/experiment_saved_metrics/",
    f"{P}/experiments/4/",
    "/api/projects/2/experiments/",
    f"{P}/experiments/eligible_feature_flags/",
]


def _bytes(app) -> list[bytes]:
    client = app.test_client()
    return [client.get(path, headers=PH_KEY).get_data() for path in PATHS]


def test_same_seed_gives_identical_bytes_and_other_seed_differs():
    first = _bytes(create_app(make_settings(seed=7)))
    second = _bytes(create_app(make_settings(seed=7)))
    other = _bytes(create_app(make_settings(seed=8)))
    assert first == second
    assert first != other


def test_same_seed_without_now_is_identical_too():
    assert _bytes(create_app(make_settings(now=None))) == _bytes(create_app(make_settings(now=None)))


def test_project_one_covers_every_status(client):
    rows = client.get(f"{P}/experiments/?limit=100").json()["results"]
    statuses = {r["status"] for r in rows}
    assert {"draft", "running", "paused", "stopped"} <= statuses
    assert len(rows) >= 12
    assert client.get(f"{P}/experiments/?archived=true").json()["count"] >= 1
    state = client.app.extensions["mockserver"].store.data["posthog"]
    assert any(e["deleted"] for e in state["experiments"].values() if e["team_id"] == 1)
    assert all(r["feature_flag"]["filters"]["multivariate"]["variants"] for r in rows)
    assert all(r["created_by"]["email"] for r in rows)


def test_reset_restores_exactly(client):
    before = client.get(f"{P}/experiments/?limit=100").content
    created = client.post(f"{P}/experiments/", json_body={"name": "Temp", "feature_flag_key": "temp"})
    assert created.status_code == 201
    client.post(f"{P}/experiments/4/archive/")
    assert client.get(f"{P}/experiments/?limit=100").content != before
    reset = client.post("/__admin/reset", check_spec=False)
    assert reset.status_code == 200
    assert client.get(f"{P}/experiments/?limit=100").content == before
    again = client.post(f"{P}/experiments/", json_body={"name": "Temp", "feature_flag_key": "temp"})
    assert again.json()["id"] == created.json()["id"]  # sequences are part of the state
