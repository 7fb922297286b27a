"""`serve --upstream ... --record PATH`: what the vendor answered becomes a fixture that serves the same answers."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from mockserver.core.documents import FORMAT
from mockserver.server import MockServer
from tests.conftest import make_settings
from tests.proxy.conftest import LD, PH

LD_BASE = "/api/v2/projects/default/environments/production/experiments"
EVERYTHING = "previousIterations,draftIteration,secondaryMetrics,treatments,analysisConfig"


def _get(server: MockServer, path: str, headers: dict[str, str], **params: str) -> requests.Response:
    return requests.get(server.url + path, headers=headers, params=params, timeout=10)


def test_recorded_posthog_answers_load_as_a_fixture_that_answers_the_same(proxy, upstream, recording: Path) -> None:
    listing = _get(proxy, "/api/projects/1/experiments/", PH).json()["results"]
    ids = [e["id"] for e in listing]
    seen = {i: _get(proxy, f"/api/projects/1/experiments/{i}/", PH).json() for i in ids}
    holdouts = _get(proxy, "/api/projects/1/experiment_holdouts/", PH).json()
    metrics = _get(proxy, "/api/projects/1/experiment_saved_metrics/", PH).json()
    doc = json.loads(recording.read_text(encoding="utf-8"))
    assert doc["format"] == FORMAT
    assert set(doc["data"]["posthog"]["experiments"]) == {str(i) for i in ids}
    assert "launchdarkly" not in doc["data"]  # nothing was asked of it: it stays seeded

    with MockServer(make_settings(fixture=str(recording))) as replay:
        for exp_id, answer in seen.items():
            assert _get(replay, f"/api/projects/1/experiments/{exp_id}/", PH).json() == answer
        assert _get(replay, "/api/projects/1/experiment_holdouts/", PH).json() == holdouts
        assert _get(replay, "/api/projects/1/experiment_saved_metrics/", PH).json() == metrics
        assert _get(replay, "/api/projects/1/experiments/", PH).json()["results"] == listing
        # New records get fresh ids, not ones the recording holds.
        created = requests.post(
            replay.url + "/api/projects/1/experiments/",
            json={"name": "After replay", "feature_flag_key": "after-replay"},
            headers=PH,
            timeout=10,
        )
        assert created.status_code == 201 and created.json()["id"] not in ids


def test_recorded_launchdarkly_answers_load_as_a_fixture_that_answers_the_same(
    proxy, upstream, recording: Path
) -> None:
    items = _get(proxy, LD_BASE, LD, expand=EVERYTHING).json()["items"]
    keys = [e["key"] for e in items]
    flags = {
        flag_key
        for exp in items
        for it in [exp.get("currentIteration"), exp.get("draftIteration"), *(exp.get("previousIterations") or [])]
        if it
        for flag_key in it["flags"]
    }
    assert len(keys) > 1 and len(flags) > 2
    # Some flags are fetched (recorded as they are), the others are rebuilt from the treatments.
    flag_answers = {k: _get(proxy, f"/api/v2/flags/default/{k}", LD).json() for k in sorted(flags)[:2]}
    settings = _get(proxy, "/api/v2/projects/default/experimentation-settings", LD).json()
    one = {k: _get(proxy, f"{LD_BASE}/{k}", LD, expand=EVERYTHING).json() for k in keys}

    with MockServer(make_settings(fixture=str(recording))) as replay:
        for key, answer in one.items():
            assert _get(replay, f"{LD_BASE}/{key}", LD, expand=EVERYTHING).json() == answer
        for key, answer in flag_answers.items():
            assert _get(replay, f"/api/v2/flags/default/{key}", LD).json() == answer
        assert _get(replay, "/api/v2/projects/default/experimentation-settings", LD).json() == settings
        assert [e["key"] for e in _get(replay, LD_BASE, LD).json()["items"]] == keys


def test_answers_outside_the_contract_and_errors_are_not_recorded(proxy, upstream, recording: Path) -> None:
    broken = _get(upstream, "/api/projects/1/experiments/1/", PH).json()
    broken["name"] = 5
    rule = {"operation_id": "experiments_retrieve", "status": 200, "body": broken, "times": 1}
    assert requests.post(f"{upstream.url}/__admin/faults", json=rule, timeout=10).status_code == 201
    assert _get(proxy, "/api/projects/1/experiments/1/", PH).status_code == 200
    assert _get(proxy, "/api/projects/1/experiments/999999/", PH).status_code == 404
    assert not recording.exists()
    assert _get(proxy, "/api/projects/1/experiments/1/", PH).status_code == 200
    assert list(json.loads(recording.read_text(encoding="utf-8"))["data"]["posthog"]["experiments"]) == ["1"]


def test_answers_holding_no_experiments_are_not_recorded_as_experiments(proxy, recording: Path) -> None:
    exp_id = _get(proxy, "/api/projects/1/experiments/", PH).json()["results"][0]["id"]
    for path in (
        "/api/projects/1/experiments/eligible_feature_flags/",  # flags, with ids and creation times
        "/api/projects/1/experiments/stats/",
        "/api/projects/1/feature_flags/",
        "/api/projects/1/actions/",
        "/api/projects/1/event_definitions/",
        "/api/projects/1/cohorts/",
    ):
        assert _get(proxy, path, PH).status_code == 200, path
    listed = {str(e["id"]) for e in _get(proxy, "/api/projects/1/experiments/", PH).json()["results"]}
    recorded = json.loads(recording.read_text(encoding="utf-8"))["data"]["posthog"]["experiments"]
    assert str(exp_id) in recorded and set(recorded) == listed


def test_without_record_nothing_is_written(upstream, tmp_path: Path) -> None:
    from tests.proxy.conftest import proxy_for

    with proxy_for(upstream) as proxy:
        assert _get(proxy, "/api/projects/1/experiments/", PH).status_code == 200
    assert list(tmp_path.iterdir()) == []
