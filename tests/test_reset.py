"""Reset copies back only the rows changed since the last one: whatever a test did, the state it
leaves behind is the baseline again, byte for byte, and the next test sees no trace of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.core import tracked
from mockserver.core.problems import Problem
from tests.conftest import make_settings

PH = {"Authorization": "Bearer phx_reset"}
LD = {"Authorization": "api-reset"}
P = "/api/projects/1"
LD_BASE = "/api/v2/projects/default/environments/production/experiments"


@pytest.fixture
def app():
    return create_app(make_settings())


def dump(app) -> str:
    runtime = app.extensions["mockserver"]
    return json.dumps(runtime.store.snapshot(), sort_keys=True)


def ok(response, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json(silent=True)


def create_experiment(c, key: str) -> dict[str, Any]:
    return ok(c.post(f"{P}/experiments/", headers=PH, json={"name": key, "feature_flag_key": key}), 201)


def writes(c) -> None:
    """A bit of everything a test does: creates, updates, deletes, lifecycle, keys, policies, LD."""
    created = create_experiment(c, "reset-a")
    ok(c.patch(f"{P}/experiments/{created['id']}/", headers=PH, json={"description": "changed"}))
    ok(c.post(f"{P}/experiments/{created['id']}/launch/", headers=PH))
    ok(c.patch(f"{P}/experiments/4/", headers=PH, json={"name": "renamed seeded"}))
    ok(c.post("/__admin/api-keys", json={"vendor": "posthog", "key": "phx_more", "scopes": ["*"]}), 201)
    ok(c.post("/__admin/posthog/approval-policies", json={"action_key": "experiment.launch"}), 201)
    ok(c.post("/__admin/clock/advance", json={"seconds": 3600}))
    ok(c.get(f"{LD_BASE}?limit=1", headers=LD))


@pytest.mark.parametrize("rounds", [1, 3])
def test_after_any_writes_a_reset_gives_the_seeded_state_back(app, rounds):
    c = app.test_client()
    ok(c.post("/__admin/reset", json={}))
    baseline = dump(app)
    for _ in range(rounds):
        writes(c)
        assert dump(app) != baseline
        ok(c.post("/__admin/reset", json={}))
        assert dump(app) == baseline
    fresh = create_app(make_settings())
    assert dump(fresh) == baseline


def test_a_reset_copies_only_what_changed_and_nothing_when_nothing_did(app):
    runtime = app.extensions["mockserver"]
    store = runtime.store
    store.reset()
    before = {part: dict.copy(root) for part, root in store.data.items()}
    store.reset()
    for part, root in store.data.items():
        assert all(root[name] is before[part][name] for name in root), "an untouched table was copied"
    c = app.test_client()
    create_experiment(c, "one-more")
    experiments = store.data["posthog"]["experiments"]
    untouched = experiments["4"]
    store.reset()
    assert store.data["posthog"]["experiments"] is not experiments  # a new table: key indexes rebuild
    assert store.data["posthog"]["experiments"]["4"] is untouched
    assert store.data["launchdarkly"]["flags"] is before["launchdarkly"]["flags"]


def test_a_deleted_baseline_row_comes_back_in_its_place(app):
    store = app.extensions["mockserver"].store
    store.reset()
    order = list(store.data["posthog"]["experiments"])
    with store.transaction():
        del store.data["posthog"]["experiments"][order[0]]
        store.data["posthog"]["experiments"]["999"] = {"id": 999}
    store.reset()
    assert list(store.data["posthog"]["experiments"]) == order


def test_created_changed_and_re_added_rows_of_one_table_all_go_back(app):
    """The rows a reset restores are grouped as they are committed; every kind of change in one table."""
    store = app.extensions["mockserver"].store
    store.reset()
    baseline = dump(app)
    experiments = store.data["posthog"]["experiments"]
    order = list(experiments)
    for n in range(50):
        with store.transaction():
            experiments[f"9{n:03}"] = {"id": 9000 + n}
    with store.transaction():
        experiments[order[1]]["name"] = "changed"
        del experiments[order[2]]
    with store.transaction():
        experiments[order[2]] = {"id": "back, elsewhere"}
        del experiments["9007"]
    store.reset()
    assert dump(app) == baseline
    assert list(store.data["posthog"]["experiments"]) == order


def test_flag_keys_created_after_a_reset_are_found_under_reused_ids(app):
    """The same ids come back after a reset; the flag-key index must not answer from the old table."""
    c = app.test_client()
    first = create_experiment(c, "before-reset")
    ok(c.post("/__admin/reset", json={}))
    second = create_experiment(c, "after-reset")
    assert second["id"] == first["id"]
    again = ok(c.post(f"{P}/experiments/", headers=PH, json={"name": "x", "feature_flag_key": "after-reset"}), 201)
    assert again["feature_flag"]["id"] == second["feature_flag"]["id"]  # the flag is found by its key, not made anew


def test_an_imported_state_is_replaced_by_the_baseline_on_reset(app):
    c = app.test_client()
    ok(c.post("/__admin/reset", json={}))
    baseline = dump(app)
    create_experiment(c, "before-import")
    ok(c.post("/__admin/fixtures/empty/load"))
    create_experiment(c, "inside-import")
    ok(c.post("/__admin/reset", json={}))
    assert dump(app) == baseline
    ok(c.post("/__admin/fixtures/empty/load"))
    ok(c.post("/__admin/fixtures/running-experiments/load"))
    ok(c.post("/__admin/reset", json={}))
    assert dump(app) == baseline


def test_another_seed_and_back(app):
    c = app.test_client()
    ok(c.post("/__admin/reset", json={}))
    baseline = dump(app)
    ok(c.post("/__admin/reset", json={"seed": 7}))
    seven = dump(app)
    assert seven != baseline
    create_experiment(c, "on-seven")
    ok(c.post("/__admin/reset", json={}))
    assert dump(app) == seven
    ok(c.post("/__admin/reset", json={"seed": 42}))
    assert dump(app) == baseline


def test_writes_outside_a_transaction_make_the_next_reset_copy_everything(app):
    store = app.extensions["mockserver"].store
    store.reset()
    baseline = dump(app)
    before = tracked.untracked_writes()
    store.data["posthog"]["experiments"]["4"]["name"] = "poked directly"
    assert tracked.untracked_writes() == before + 1
    store.reset()
    assert dump(app) == baseline


def test_launchdarkly_rate_windows_are_reset(app):
    c = app.test_client()
    ok(c.post("/__admin/reset", json={}))
    baseline = dump(app)
    ok(c.post("/__admin/launchdarkly/rate-limit", json={"limit": 100, "window_seconds": 10}), 201)
    ok(c.get(f"{LD_BASE}?limit=1", headers=LD))
    ok(c.post("/__admin/reset", json={}))
    assert dump(app) == baseline


def test_a_reset_inside_a_failed_transaction_is_undone(app):
    store = app.extensions["mockserver"].store
    store.reset()
    c = app.test_client()
    create_experiment(c, "kept")
    changed = dump(app)
    with pytest.raises(Problem), store.transaction():
        store.reset()
        raise Problem("bad_request", "the request failed after its reset")
    assert dump(app) == changed
    store.reset()
    assert "kept" not in dump(app)


def test_a_reset_after_a_write_in_the_same_transaction_takes_that_write_back_too(app):
    """The write is not committed yet when the reset runs, so it is not among the rows committed
    since the last reset; it must go back all the same, now and at every later reset."""
    store = app.extensions["mockserver"].store
    c = app.test_client()
    ok(c.post("/__admin/reset", json={}))
    baseline = dump(app)
    with store.transaction():
        tracked.put(store.data["posthog"]["experiments"]["4"], "name", "written, then reset")
        store.reset()
    assert dump(app) == baseline
    create_experiment(c, "later")
    store.reset()
    assert dump(app) == baseline


def test_the_sequences_follow_the_reset(app):
    c = app.test_client()
    first = create_experiment(c, "seq-a")
    for _ in range(3):
        ok(c.post("/__admin/reset", json={}))
        assert create_experiment(c, "seq-a")["id"] == first["id"]


def test_launchdarkly_requests_keep_the_reset_to_the_rows_that_changed(app, monkeypatch):
    """Counting a request in its rate windows is bookkeeping, not an untracked write: the next reset
    still copies back only what changed (the windows among it), not the whole baseline."""
    store = app.extensions["mockserver"].store
    c = app.test_client()
    ok(c.post("/__admin/reset", json={}))
    baseline = dump(app)
    flags = store.data["launchdarkly"]["flags"]
    before = tracked.untracked_writes()
    for _ in range(3):
        ok(c.get(f"{LD_BASE}?limit=1", headers=LD))
    assert tracked.untracked_writes() == before
    assert dump(app) != baseline  # the windows counted the requests
    full = []
    monkeypatch.setattr(type(store), "_install", lambda self, *a, **k: full.append(a))
    ok(c.post("/__admin/reset", json={}))
    assert full == [] and store.data["launchdarkly"]["flags"] is flags
    assert dump(app) == baseline


def test_a_direct_write_is_seen_by_remembered_reads_and_indexes(app):
    """A test that pokes the state outside any transaction gets answers that see it, as a scan would."""
    store = app.extensions["mockserver"].store
    c = app.test_client()
    listed = ok(c.get(f"{P}/feature_flags/?limit=100", headers=PH))
    flag = listed["results"][0]
    store.data["posthog"]["flags"][str(flag["id"])]["deleted"] = True  # no transaction
    again = ok(c.get(f"{P}/feature_flags/?limit=100", headers=PH))
    assert again["count"] == listed["count"] - 1
    ok(c.post(f"{P}/feature_flags/", headers=PH, json={"key": "warm-up", "name": "x"}), 201)  # the key index is built
    other = listed["results"][1]
    store.data["posthog"]["flags"][str(other["id"])]["key"] = "poked-key"
    duplicate = c.post(f"{P}/feature_flags/", headers=PH, json={"key": "poked-key", "name": "x"})
    assert duplicate.status_code == 400 and "already a feature flag with this key" in duplicate.get_data(as_text=True)


def test_rule_ids_stay_unique_after_an_import_and_headers_stay_right(app):
    c = app.test_client()
    state = ok(c.get("/__admin/state"))
    state["data"]["launchdarkly"]["rate_limits"] = [{"id": 2, "limit": 50, "scope": "token", "window_seconds": 10}]
    ok(c.put("/__admin/state", json=state))
    added = ok(c.post("/__admin/launchdarkly/rate-limit", json={"limit": 40}), 201)
    assert added["id"] == 3
    remaining = [
        int(c.get("/api/v2/projects/default", headers=LD).headers["X-Ratelimit-Auth-Token-Remaining"]) for _ in range(3)
    ]
    assert remaining == [39, 38, 37]  # the tighter rule binds, one request at a time
