"""/__admin/state, /__admin/reset and fixtures: export, import, checks that name the bad field."""

from __future__ import annotations

import collections
import json

import pytest

from mockserver.app import create_app
from mockserver.core import documents, fixtures
from mockserver.vendors.posthog.models import status_of
from tests.conftest import make_settings

FORMAT = "mockserver/state@1"


def experiment_count(client) -> int:
    return client.get("/api/projects/1/experiments/").json()["count"]


def test_export_then_import_round_trips_the_whole_state(make_client):
    client = make_client()
    exported = client.get("/__admin/state").json()
    count = experiment_count(client)
    assert exported["format"] == FORMAT and exported["seed"] == 42
    assert set(exported["data"]) == {"admin", "posthog", "launchdarkly"}
    assert exported["clock"] == {"frozen_at": "2026-11-20T12:00:00Z"}

    created = client.post("/api/projects/1/experiments/", json_body={"name": "Round trip", "feature_flag_key": "rt"})
    assert created.status_code == 201
    assert experiment_count(client) == count + 1

    loaded = client.put("/__admin/state", json_body=exported)
    assert loaded.status_code == 200
    assert loaded.json() == {
        "status": "loaded",
        "fixture": None,
        "description": None,
        "seed": 42,
        "parts": ["admin", "launchdarkly", "posthog"],
    }
    assert experiment_count(client) == count
    assert client.get("/__admin/state").json() == exported


@pytest.mark.parametrize(
    ("mutate", "field", "detail"),
    [
        (
            lambda d: d["data"]["posthog"]["experiments"]["3"].__setitem__("team_id", "one"),
            "data.posthog.experiments.3.team_id",
            "is not of type",
        ),
        (lambda d: d["data"]["posthog"]["experiments"]["3"].pop("name"), "data.posthog.experiments.3.name", "required"),
        (lambda d: d["data"]["posthog"].pop("flags"), "data.posthog.flags", "required"),
        (lambda d: d.__setitem__("format", "mockserver/state@9"), "format", "mockserver/state@1"),
        (lambda d: d.__setitem__("extra", 1), "extra", "Unknown field."),
        (lambda d: d["data"].__setitem__("mixpanel", {}), "data.mixpanel", "Unknown field."),
        (
            lambda d: d["data"]["admin"]["api_keys"].__setitem__(
                "x", {"key": "x", "vendor": "launchdarkly", "role": "owner"}
            ),
            "data.admin.api_keys.x.role",
            "role must be one of",
        ),
        (
            lambda d: d["data"]["posthog"]["experiments"].__setitem__("99", d["data"]["posthog"]["experiments"]["3"]),
            "data.posthog.experiments.99.id",
            "has id 3",
        ),
        (lambda d: d.__setitem__("clock", {"frozen_at": "yesterday"}), "clock.frozen_at", "ISO 8601"),
        (  # past PostgreSQL's integer: listed, yet no path could reach it
            lambda d: d["data"]["posthog"]["experiments"].__setitem__(
                "3000000000", {**d["data"]["posthog"]["experiments"].pop("3"), "id": 3000000000}
            ),
            "data.posthog.experiments.3000000000.id",
            "is greater than the maximum of 2147483647",
        ),
        (
            lambda d: d["data"]["posthog"]["sequences"].__setitem__("experiment", 10**30),
            "data.posthog.sequences.experiment",
            "is greater than the maximum of 2147483647",
        ),
    ],
)
def test_a_bad_snapshot_is_400_naming_the_field_and_changes_nothing(make_client, mutate, field, detail):
    client = make_client()
    client.post("/api/projects/1/experiments/", json_body={"name": "Keep me", "feature_flag_key": "keep-me"})
    before = client.get("/__admin/state").json()
    doc = json.loads(json.dumps(before))
    mutate(doc)
    response = client.put("/__admin/state", json_body=doc)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request"
    assert body["field"] == field
    assert detail in body["detail"]
    assert client.get("/__admin/state").json() == before


def test_put_state_rejects_a_body_that_is_not_a_document(make_client):
    client = make_client()
    missing = client.put("/__admin/state", json_body={"data": {}})
    assert missing.status_code == 400 and missing.json()["field"] == "format"
    not_json = client.put("/__admin/state", data=b"{nope", content_type="application/json")
    assert not_json.status_code == 400
    typed = client.put("/__admin/state", json_body={"format": FORMAT, "seed": "x"})
    assert typed.status_code == 400 and typed.json()["field"] == "seed"


def test_parts_left_out_come_from_the_seed_and_patch_and_clear_apply(make_client):
    client = make_client()
    doc = {
        "format": FORMAT,
        "seed": 7,
        "clear": {"launchdarkly": ["experiments"]},
        "patch": {"posthog": {"experiments": {"4": {"name": "Patched name"}}, "projects": {"2": None}}},
    }
    assert client.put("/__admin/state", json_body=doc).status_code == 200
    state = client.get("/__admin/state").json()["data"]
    assert state["launchdarkly"]["experiments"] == {}
    assert state["posthog"]["experiments"]["4"]["name"] == "Patched name"
    assert list(state["posthog"]["projects"]) == ["1"]
    seeded7 = create_app(make_settings(seed=7)).extensions["mockserver"].store.data
    assert state["posthog"]["users"] == seeded7["posthog"]["users"]
    assert client.get("/api/projects/1/experiments/4/").json()["name"] == "Patched name"


def test_a_patch_that_breaks_the_state_is_refused(make_client):
    client = make_client()
    before = client.get("/__admin/state").json()
    response = client.put(
        "/__admin/state",
        json_body={"format": FORMAT, "patch": {"posthog": {"experiments": {"4": {"archived": "yes"}}}}},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "patch.posthog.experiments.4.archived"
    bad_clear = client.put("/__admin/state", json_body={"format": FORMAT, "clear": {"posthog": ["nothing"]}})
    assert bad_clear.status_code == 400 and bad_clear.json()["field"] == "clear.posthog"
    assert client.get("/__admin/state").json() == before


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"launchdarkly": {"settings": None}}, "patch.launchdarkly.settings.default"),
        ({"posthog": {"experiments": {"4": {"parameters": "x"}}}}, "patch.posthog.experiments.4"),
        ({"posthog": {"experiments": {"4": {"created_at": "yesterday"}}}}, "patch.posthog.experiments.4"),
        ({"posthog": {"experiments": {"4": {"start_date": "yesterday"}}}}, "patch.posthog.experiments.4"),
        ({"posthog": {"experiments": {"4": {"feature_flag_id": 99999}}}}, "patch.posthog.experiments.4"),
    ],
)
def test_a_state_the_server_could_not_serve_is_refused(make_client, patch, field):
    """Past the schema, every record is rendered once: one that cannot be served is named, nothing changes."""
    client = make_client()
    before = client.get("/__admin/state").json()
    response = client.put("/__admin/state", json_body={"format": FORMAT, "patch": patch})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    if "start_date" in str(patch):
        assert response.json()["detail"] == "cannot be served: a date-time is not ISO 8601 ('yesterday')"
    assert client.get("/__admin/state").json() == before
    assert client.get("/api/projects/1/experiments/").status_code == 200


LD = {"Authorization": "api-state-tests"}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        # Members every LaunchDarkly request reads (rate limits and their counting windows)
        ({"launchdarkly": {"rate_windows": {"token|api-state-tests": "x"}}}, "rate_windows.token|api-state-tests"),
        ({"launchdarkly": {"rate_windows": {"token|a": {"count": 1}}}}, "rate_windows.token|a.start"),
        ({"launchdarkly": {"rate_limits": [{"id": 1}]}}, "rate_limits.0.limit"),
        (
            {"launchdarkly": {"rate_limits": [{"id": 1, "limit": "x", "window_seconds": 10, "scope": "token"}]}},
            "rate_limits.0.limit",
        ),
        # Record fields the rules read
        (
            {"posthog": {"flags": {"7": {"filters": {"multivariate": {"variants": [None]}}}}}},
            "flags.7.filters.multivariate.variants.0",
        ),
        (
            {"posthog": {"experiments": {"8": {"saved_metrics": [{"saved_metric": {}}]}}}},
            "saved_metrics.0.saved_metric",
        ),
        ({"launchdarkly": {"metrics": {"default/page-load-ms": {"randomizationUnits": 5}}}}, "randomizationUnits"),
        ({"launchdarkly": {"metrics": {"default/pricing-page-viewed": {"urls": [{"kind": []}]}}}}, "urls.0.kind"),
        # A record reached under another key than its own
        ({"launchdarkly": {"flags": {"default/free-shipping-threshold": {"key": "x"}}}}, "free-shipping-threshold.key"),
        (
            {"launchdarkly": {"experiments": {"default/production/checkout-button-test": {"key": "x"}}}},
            "checkout-button-test.key",
        ),
    ],
)
def test_what_every_request_or_rule_reads_is_typed_in_a_state_document(make_client, patch, field):
    """Each of these was accepted and then made the requests that read it answer 500."""
    client = make_client()
    before = client.get("/__admin/state").json()
    response = client.put("/__admin/state", json_body={"format": FORMAT, "patch": patch})
    assert response.status_code == 400 and response.json()["field"].endswith(field), response.text
    assert client.get("/__admin/state").json() == before
    assert client.get("/api/v2/flags/default", headers=LD).status_code == 200


def test_an_export_with_api_keys_rate_limits_and_policies_imports_back_as_itself(make_client):
    client = make_client()
    client.post(
        "/__admin/api-keys", json_body={"vendor": "posthog", "key": "phx_scoped", "scopes": ["experiment:read"]}
    )
    client.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": "api-reader", "role": "reader"})
    client.post("/__admin/launchdarkly/rate-limit", json_body={"limit": 1000, "window_seconds": 10})
    client.post("/__admin/posthog/approval-policies", json_body={"action_key": "experiment.launch", "quorum": 1})
    assert client.get("/api/v2/flags/default", headers=LD).status_code == 200  # a counting window
    exported = client.get("/__admin/state").json()
    assert client.put("/__admin/state", json_body=exported).status_code == 200
    assert client.get("/__admin/state").json() == exported


@pytest.mark.parametrize(
    "patch",
    [
        {
            "launchdarkly": {
                "flags": {"default/recommendations-widget": {"environments": {"test": None}, "defaults": "x"}}
            }
        },
        {"launchdarkly": {"projects": {"default": {"environments": {"newenv": 5}}}}},
    ],
)
def test_filling_flag_environments_leaves_malformed_data_to_the_checks(make_client, patch):
    """The fill runs before the checks: what it cannot read it leaves alone, and the checks refuse it."""
    client = make_client()
    response = client.put("/__admin/state", json_body={"format": FORMAT, "patch": patch})
    assert response.status_code == 400, response.text
    assert client.app.extensions["mockserver"].server_errors == collections.deque(maxlen=100)


def test_a_flag_without_settings_for_an_environment_gets_a_new_flag_s_there(make_client):
    """A recorded fixture holds only the environments that were fetched; its PATCH answered 500."""
    client = make_client()
    flag = {"launchdarkly": {"flags": {"default/recommendations-widget": {"environments": {"test": None}}}}}
    assert client.put("/__admin/state", json_body={"format": FORMAT, "patch": flag}).status_code == 200
    test_env = client.get("/__admin/state").json()["data"]["launchdarkly"]["flags"]["default/recommendations-widget"]
    assert test_env["environments"]["test"]["on"] is False
    patch = [{"op": "replace", "path": "/description", "value": "d"}]
    assert client.patch("/api/v2/flags/default/recommendations-widget", json_body=patch, headers=LD).status_code == 200


def test_rate_limit_members_left_out_or_nulled_are_empty(make_client):
    client = make_client()
    for patch in ({"rate_windows": None}, {"rate_limits": None}):
        assert (
            client.put("/__admin/state", json_body={"format": FORMAT, "patch": {"launchdarkly": patch}}).status_code
            == 200
        )
        assert client.get("/api/v2/flags/default", headers=LD).status_code == 200
    part = client.get("/__admin/state").json()["data"]["launchdarkly"]
    del part["rate_limits"], part["rate_windows"]
    assert client.put("/__admin/state", json_body={"format": FORMAT, "data": {"launchdarkly": part}}).status_code == 200
    assert client.get("/api/v2/flags/default", headers=LD).status_code == 200


CR = {
    "id": "cr-1",
    "team_id": 1,
    "action_key": "experiment.launch",
    "resource_type": "feature_flag",
    "resource_id": None,
    "state": "pending",
    "intent": {
        "operation_id": "experiments_launch_create",
        "method": "POST",
        "path": "/api/projects/1/experiments/2/launch/",
    },
    "policy_snapshot": {"quorum": 1, "users": [], "roles": []},
    "created_by_id": 1,
    "applied_by_id": None,
    "created_at": "2026-05-01T12:00:00+00:00",
    "updated_at": "2026-05-01T12:00:00+00:00",
    "expires_at": "2099-05-15T12:00:00+00:00",
    "approvals": [],
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"policy_snapshot": None}, "posthog.change_requests.cr-1.policy_snapshot"),
        ({"state": "canceled"}, "posthog.change_requests.cr-1.state"),
        ({"intent": {"path": "/x"}}, "posthog.change_requests.cr-1.intent.operation_id"),
        ({"expires_at": "2099-05-15T12:00:00"}, "posthog.change_requests.cr-1"),  # no offset: cannot be compared
        ({"expires_at": "soon"}, "posthog.change_requests.cr-1"),
    ],
)
def test_a_change_request_the_approval_rules_could_not_read_is_refused(make_client, change, field):
    client = make_client()
    record = {k: v for k, v in {**CR, **change}.items() if v is not None or k not in change}
    doc = {"format": FORMAT, "patch": {"posthog": {"change_requests": {"cr-1": record}}}}
    response = client.put("/__admin/state", json_body=doc)
    assert response.status_code == 400, response.text
    assert response.json()["field"] in (f"patch.{field}", f"patch.{field}.expires_at"), response.json()
    good = {"format": FORMAT, "patch": {"posthog": {"change_requests": {"cr-1": CR}}}}
    assert client.put("/__admin/state", json_body=good).status_code == 200
    assert client.get("/__admin/posthog/change-requests/cr-1").json()["state"] == "pending"


def test_a_policy_written_as_the_readme_shows_gates_without_its_optional_fields(make_client):
    """allow_self_approve and expires_after_days may be left out of a document (false and 14 days)."""
    client = make_client()
    policy = {
        "id": 1,
        "project_id": 1,
        "action_key": "experiment.launch",
        "quorum": 1,
        "users": [2],
        "roles": [],
        "enabled": True,
    }
    doc = {
        "format": FORMAT,
        "patch": {"posthog": {"sequences": {"approval_policy": 1}, "approval_policies": {"1": policy}}},
    }
    assert client.put("/__admin/state", json_body=doc).status_code == 200
    gated = client.post("/api/projects/1/experiments/2/launch/")
    assert gated.status_code == 409 and gated.json()["change_request"]["policy_snapshot"]["allow_self_approve"] is False
    bad = {**policy, "action_key": "experiment.explode"}
    refused = client.put(
        "/__admin/state", json_body={"format": FORMAT, "patch": {"posthog": {"approval_policies": {"1": bad}}}}
    )
    assert refused.status_code == 400 and refused.json()["field"].endswith("approval_policies.1.action_key")


def test_a_stale_sequence_is_raised_so_a_create_never_replaces_a_record(make_client):
    client = make_client()
    doc = client.get("/__admin/state").json()
    doc["data"]["posthog"]["sequences"]["experiment"] = 1
    assert client.put("/__admin/state", json_body=doc).status_code == 200
    before = {k: e["name"] for k, e in client.get("/__admin/state").json()["data"]["posthog"]["experiments"].items()}
    created = client.post("/api/projects/1/experiments/", json_body={"name": "New one", "feature_flag_key": "new-one"})
    assert created.status_code == 201 and str(created.json()["id"]) not in before
    after = client.get("/__admin/state").json()["data"]["posthog"]["experiments"]
    assert {k: after[k]["name"] for k in before} == before


def test_state_schema_is_served_and_names_every_part(make_client):
    schema = make_client().get("/__admin/state/schema").json()
    assert schema["required"] == ["format"]
    assert set(schema["properties"]["data"]["properties"]) == {"admin", "posthog", "launchdarkly"}


def test_reset_returns_to_the_seed_and_can_switch_seed(make_client):
    client = make_client()
    seeded = client.get("/__admin/state").json()
    client.post("/api/projects/1/experiments/", json_body={"name": "Gone after reset", "feature_flag_key": "gone"})
    assert client.post("/__admin/reset").json() == {"status": "reset", "seed": 42}
    assert client.get("/__admin/state").json() == seeded
    switched = client.post("/__admin/reset", json_body={"seed": 7})
    assert switched.json() == {"status": "reset", "seed": 7}
    other = client.get("/__admin/state").json()
    assert other["seed"] == 7 and other["data"]["posthog"]["users"] != seeded["data"]["posthog"]["users"]
    bad = client.post("/__admin/reset", json_body={"seed": "seven"})
    assert bad.status_code == 400 and bad.json()["field"] == "seed"


def test_a_document_s_seed_becomes_the_server_s_so_an_export_loads_back_as_itself(make_client):
    client = make_client()
    client.post("/__admin/reset", json_body={"seed": 7})
    seven = client.get("/__admin/state").json()
    client.post("/__admin/reset", json_body={"seed": 42})
    loaded = client.put("/__admin/state", json_body=seven)
    assert loaded.status_code == 200 and loaded.json()["seed"] == 7
    assert client.get("/__admin/health").json()["seed"] == 7
    assert client.get("/__admin/state").json() == seven  # the same document, seed included
    client.post("/api/projects/1/experiments/", json_body={"name": "Gone", "feature_flag_key": "gone"})
    client.post("/__admin/reset")  # later resets use it, as after a reset to seed 7
    assert client.get("/__admin/state").json()["data"] == seven["data"]
    # A document without a seed leaves the server's; one that is refused changes nothing.
    client.post("/__admin/reset", json_body={"seed": 42})
    assert client.put("/__admin/state", json_body={"format": FORMAT}).json()["seed"] == 42
    bad = client.put("/__admin/state", json_body={"format": FORMAT, "seed": 7, "data": {"posthog": []}})
    assert bad.status_code == 400 and client.get("/__admin/health").json()["seed"] == 42
    negative = client.put("/__admin/state", json_body={"format": FORMAT, "seed": -1})
    assert negative.status_code == 400 and negative.json()["field"] == "seed"


def test_a_load_that_fails_after_installing_puts_the_seed_back(make_client, monkeypatch):
    from mockserver.admin import state as admin_state

    client = make_client()
    seven = {"format": FORMAT, "seed": 7}

    def failing_summary(call, doc, name=None):
        raise RuntimeError("after the install")

    monkeypatch.setattr(admin_state, "_summary", failing_summary)
    assert client.put("/__admin/state", json_body=seven, check_spec=False).status_code == 500
    client.app.extensions["mockserver"].server_errors.clear()
    monkeypatch.undo()
    assert client.get("/__admin/health").json()["seed"] == 42


# ---------------------------------------------------------------------------------------------
# fixtures/


def statuses(client) -> list[str]:
    rows = client.get("/api/projects/1/experiments/", params={"limit": 100}).json()["results"]
    return [r["status"] for r in rows]


def test_fixtures_are_listed_with_descriptions(make_client):
    rows = make_client().get("/__admin/fixtures").json()["fixtures"]
    names = [r["name"] for r in rows]
    assert {"demo", "empty", "approval-required", "running-experiments"} <= set(names)
    assert all(r["description"] for r in rows)


@pytest.mark.parametrize("name", fixtures.fixture_names())
def test_every_shipped_fixture_loads(make_client, name):
    response = make_client().post(f"/__admin/fixtures/{name}/load")
    assert response.status_code == 200
    assert response.json()["fixture"] == name


def test_demo_is_the_seeded_world(make_client):
    client = make_client()
    seeded = client.get("/__admin/state").json()
    client.post("/api/projects/1/experiments/", json_body={"name": "Extra", "feature_flag_key": "extra"})
    client.post("/__admin/fixtures/demo/load")
    assert client.get("/__admin/state").json() == seeded


def test_empty_has_projects_but_no_experiments(make_client):
    client = make_client(headers={})
    client.post("/__admin/fixtures/empty/load")
    ph = {"Authorization": "Bearer phx_x"}
    listed = client.get("/api/projects/1/experiments/", headers=ph).json()
    assert listed["count"] == 0 and listed["results"] == []
    assert client.get("/api/projects/2/experiments/", headers=ph).status_code == 200
    ld = client.get("/api/v2/projects/default/environments/production/experiments", headers={"Authorization": "api-x"})
    assert ld.status_code == 200 and ld.json()["items"] == []


def test_approval_required_gates_launch_with_a_409(make_client):
    client = make_client()
    client.post("/__admin/fixtures/approval-required/load")
    policies = client.get("/__admin/posthog/approval-policies").json()["policies"]
    assert [p["action_key"] for p in policies] == ["experiment.launch", "experiment.pause"]
    draft = next(
        r
        for r in client.get("/api/projects/1/experiments/", params={"limit": 100}).json()["results"]
        if r["status"] == "draft"
    )
    launched = client.post(f"/api/projects/1/experiments/{draft['id']}/launch/")
    assert launched.status_code == 409
    pending = client.get("/__admin/posthog/change-requests", params={"state": "pending"}).json()["change_requests"]
    assert len(pending) == 1 and pending[0]["action_key"] == "experiment.launch"
    # a new policy continues the fixture's id sequence
    added = client.post("/__admin/posthog/approval-policies", json_body={"action_key": "experiment.update"})
    assert added.status_code == 201 and added.json()["id"] == 3


def test_running_experiments_has_no_drafts_or_paused(make_client):
    client = make_client()
    before = statuses(client)
    assert "draft" in before and "paused" in before
    client.post("/__admin/fixtures/running-experiments/load")
    after = statuses(client)
    assert "draft" not in after and "paused" not in after
    assert after.count("running") == before.count("running") + before.count("draft") + before.count("paused")


def test_unknown_fixture_is_404_and_bad_fixture_names_file_and_field(make_client, tmp_path):
    client = make_client()
    missing = client.post("/__admin/fixtures/nope/load")
    assert missing.status_code == 404 and "known fixtures" in missing.json()["detail"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": FORMAT, "patch": {"posthog": {"experiments": {"4": {"team_id": "x"}}}}}))
    with pytest.raises(documents.SnapshotError) as info:
        create_app(make_settings(fixture=str(bad)))
    assert info.value.field == "patch.posthog.experiments.4.team_id"
    assert str(bad) in str(info.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(documents.SnapshotError, match="not valid JSON"):
        create_app(make_settings(fixture=str(broken)))


def test_start_fixture_is_what_reset_returns_to(make_client):
    client = make_client(fixture="running-experiments")
    assert "draft" not in statuses(client)
    client.post("/__admin/fixtures/demo/load")
    assert "draft" in statuses(client)
    client.post("/__admin/reset")
    assert "draft" not in statuses(client)
    # a seed switch keeps the fixture: its seeded parts follow the new seed
    client.post("/__admin/reset", json_body={"seed": 5})
    assert "draft" not in statuses(client)
    assert client.get("/__admin/state").json()["seed"] == 5


def test_fixture_clock_freezes_and_reset_restores_it(make_client, tmp_path):
    path = tmp_path / "frozen.json"
    path.write_text(json.dumps({"format": FORMAT, "clock": {"frozen_at": "2030-01-02T03:04:05Z"}}))
    client = make_client(fixture=str(path), now=None)
    assert client.get("/__admin/clock").json() == {"now": "2030-01-02T03:04:05Z", "frozen": True}
    client.post("/__admin/clock/unfreeze")
    client.post("/__admin/reset")
    assert client.get("/__admin/clock").json()["now"] == "2030-01-02T03:04:05Z"


def test_seeded_world_status_mix_matches_fixture_descriptions():
    """running-experiments.json names experiment and flag ids; they must be the seeded drafts and paused."""
    data = create_app(make_settings()).extensions["mockserver"].store.data["posthog"]
    doc = fixtures.read_fixture("running-experiments")
    patched = doc["patch"]["posthog"]
    for eid in patched["experiments"]:
        exp = data["experiments"][eid]
        assert status_of(exp, data["flags"][str(exp["feature_flag_id"])]) == "draft"
    flag_ids = {
        str(e["feature_flag_id"])
        for e in data["experiments"].values()
        if status_of(e, data["flags"][str(e["feature_flag_id"])]) in ("draft", "paused")
        and not e["deleted"]
        and e["team_id"] == 1
    }
    assert set(patched["flags"]) == flag_ids


def test_launchdarkly_records_are_checked_too(make_client):
    client = make_client()
    before = client.get("/__admin/state").json()
    key = next(iter(before["data"]["launchdarkly"]["experiments"]))
    response = client.put(
        "/__admin/state",
        json_body={"format": FORMAT, "patch": {"launchdarkly": {"experiments": {key: {"iterations": "none"}}}}},
    )
    assert response.status_code == 400
    assert response.json()["field"] == f"patch.launchdarkly.experiments.{key}.iterations"
    assert client.get("/__admin/state").json() == before


def test_health_reports_the_seed_in_use(make_client):
    client = make_client()
    assert client.get("/__admin/health").json()["seed"] == 42
    client.post("/__admin/reset", json_body={"seed": 7})
    assert client.get("/__admin/health").json()["seed"] == 7


def test_an_export_over_the_body_cap_still_imports_back(make_client):
    client = make_client(max_body_bytes=4096)
    for i in range(8):
        body = {"name": f"Long {i}", "feature_flag_key": f"long-{i}", "description": "d" * 500}
        assert client.post("/api/projects/1/experiments/", json_body=body).status_code == 201
    exported = client.get("/__admin/state").json()
    raw = json.dumps(exported).encode()
    assert len(raw) > 4096
    client.post("/__admin/reset")
    assert client.put("/__admin/state", data=raw, content_type="application/json").status_code == 200
    assert client.get("/__admin/state").json() == exported


def test_other_admin_bodies_over_the_cap_get_a_documented_413(make_client):
    client = make_client(max_body_bytes=256)
    response = client.post("/__admin/faults", json_body={"status": 503, "body": "x" * 1000})
    assert response.status_code == 413
    assert response.json()["error"] == "request_entity_too_large"
    assert client.get("/__admin/faults").json()["faults"] == []


def test_an_advanced_running_clock_round_trips_through_export(make_client):
    from datetime import UTC, datetime, timedelta

    from mockserver.core.clock import parse_instant

    client = make_client(now=None)
    client.post("/__admin/clock/advance", json_body={"duration": "P3D"})
    exported = client.get("/__admin/state").json()
    assert exported["clock"]["frozen_at"] is None
    assert abs(exported["clock"]["offset_seconds"] - 3 * 86400) < 1
    client.post("/__admin/clock/unfreeze")
    assert client.put("/__admin/state", json_body=exported).status_code == 200
    now = parse_instant(client.get("/__admin/clock").json()["now"])
    assert abs(now - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=1)


def test_an_offset_out_of_range_is_refused_and_changes_nothing(make_client):
    client = make_client(now=None)
    before = client.get("/__admin/state").json()
    doc = {"format": "mockserver/state@1", "clock": {"frozen_at": None, "offset_seconds": -9e10}}
    response = client.put("/__admin/state", json_body=doc)
    assert response.status_code == 400 and response.json()["field"] == "clock.offset_seconds"
    assert client.get("/__admin/state").json() == before


def test_checking_a_loaded_state_makes_one_pass_per_table_not_one_per_record(monkeypatch):
    """The checks render every record once; per-record scans of another table made a 50,000-experiment
    import take minutes. The lookups that scan (or index) per record must not be used by them."""
    from mockserver.vendors.launchdarkly import flag_status
    from mockserver.vendors.posthog import feature_flags, models

    app = create_app(make_settings())
    runtime = app.extensions["mockserver"]
    doc = json.loads(json.dumps(documents.export(runtime)))

    def per_record(*_args, **_kwargs):
        raise AssertionError("a per-record scan while checking a state")

    monkeypatch.setattr(feature_flags, "linked_experiments", per_record)
    monkeypatch.setattr(models, "experiments_on_flag", per_record)
    experimenting = flag_status._experimenting

    def with_running_set(state, row, env_key, found):  # without the running set it scans every experiment
        return experimenting(state, row, env_key, found) if found is not None else per_record()

    monkeypatch.setattr(flag_status, "_experimenting", with_running_set)
    original = flag_status.running
    calls = []
    monkeypatch.setattr(flag_status, "running", lambda *a: calls.append(a) or original(*a))
    documents.build(runtime, doc)
    assert len(calls) == len(doc["data"]["launchdarkly"]["projects"])  # once per project


def test_a_whole_float_sequence_gives_int_ids(make_client):
    client = make_client()
    doc = {"format": FORMAT, "patch": {"posthog": {"sequences": {"approval_policy": 2.0}}}}
    assert client.put("/__admin/state", json_body=doc).status_code == 200
    added = client.post("/__admin/posthog/approval-policies", json_body={"action_key": "experiment.launch"}).json()
    assert added["id"] == 3 and type(added["id"]) is int
    assert client.delete("/__admin/posthog/approval-policies/3").status_code == 204


def test_a_misspelt_table_is_refused_not_kept(make_client):
    client = make_client()
    for part, table in (("posthog", "feature_flags"), ("launchdarkly", "experimentz")):
        refused = client.put("/__admin/state", json_body={"format": FORMAT, "patch": {part: {table: {}}}})
        assert refused.status_code == 400 and refused.json()["field"] == f"patch.{part}.{table}", refused.text
        assert refused.json()["detail"] == "Unknown field."


def test_a_patch_that_adds_records_raises_the_sequence_too(make_client):
    client = make_client()
    state = client.get("/__admin/state").json()["data"]["posthog"]
    top = state["sequences"]["experiment"]
    # A merge patch drops nulls: the new record carries none.
    record = {k: v for k, v in state["experiments"]["4"].items() if v is not None}
    record.update(id=top + 1, name="PATCHED", start_date="2026-01-01T00:00:00Z", end_date="2026-02-01T00:00:00Z")
    doc = {"format": FORMAT, "patch": {"posthog": {"experiments": {str(top + 1): record}}}}
    assert client.put("/__admin/state", json_body=doc).status_code == 200
    created = client.post("/api/projects/1/experiments/", json_body={"name": "NEW", "feature_flag_key": "new-key"})
    assert created.json()["id"] == top + 2
    assert client.get(f"/api/projects/1/experiments/{top + 1}/").json()["name"] == "PATCHED"


def test_a_state_with_a_null_that_the_api_accepted_exports_and_imports_back(make_client):
    client = make_client()
    assert client.patch("/api/projects/1/experiments/7/", json_body={"deleted": None}).status_code == 200
    exported = client.get("/__admin/state").json()
    assert exported["data"]["posthog"]["experiments"]["7"]["deleted"] is None
    assert client.put("/__admin/state", json_body=exported).status_code == 200


def test_a_used_up_id_sequence_refuses_the_create_and_changes_nothing(make_client):
    """The last id PostgreSQL's integer holds may be handed out; the one after is never made."""
    client = make_client()
    doc = client.get("/__admin/state").json()
    doc["data"]["posthog"]["sequences"]["experiment"] = 2**31 - 2
    assert client.put("/__admin/state", json_body=doc).status_code == 200
    last = client.post("/api/projects/1/experiments/", json_body={"name": "Last", "feature_flag_key": "last"})
    assert last.status_code == 201 and last.json()["id"] == 2**31 - 1
    assert client.get(f"/api/projects/1/experiments/{2**31 - 1}/").status_code == 200
    before = client.get("/__admin/state").json()
    over = client.post("/api/projects/1/experiments/", json_body={"name": "Over", "feature_flag_key": "over"})
    assert over.status_code == 400 and over.json()["code"] == "limit_reached"
    assert "experiment id sequence is used up" in over.json()["detail"]
    assert client.get("/__admin/state").json() == before


def test_a_record_a_patch_adds_keeps_its_nulls(make_client):
    """RFC 7386 drops null members; a record the patch adds is taken as given, so a draft (whose
    start_date is a required null) can be written by a patch, while nulls still delete in a record
    the state already holds."""
    client = make_client()
    state = client.get("/__admin/state").json()
    draft = next(e for e in state["data"]["posthog"]["experiments"].values() if e["start_date"] is None)
    new = {**draft, "id": 900, "name": "Patched draft"}
    doc = {
        "format": FORMAT,
        "patch": {"posthog": {"experiments": {"900": new}, "sequences": {"experiment": 900}}},
    }
    response = client.put("/__admin/state", json_body=doc)
    assert response.status_code == 200, response.text
    assert client.get("/__admin/state").json()["data"]["posthog"]["experiments"]["900"] == new
    read = client.get("/api/projects/1/experiments/900/")
    assert read.status_code == 200 and read.json()["start_date"] is None
    doc = {"format": FORMAT, "patch": {"posthog": {"experiments": {"4": {"name": None}}}}}
    refused = client.put("/__admin/state", json_body=doc)
    assert refused.status_code == 400 and refused.json()["field"] == "patch.posthog.experiments.4.name"


def test_a_refusal_in_a_patched_record_whose_key_holds_dots_is_named_under_patch(make_client):
    """LaunchDarkly keys may hold dots: the record was matched by splitting the field on them."""
    client = make_client()
    state = client.get("/__admin/state").json()
    stored_under, metric = next(iter(state["data"]["launchdarkly"]["metrics"].items()))
    project = stored_under.split("/")[0]
    doc = {
        "format": FORMAT,
        "patch": {"launchdarkly": {"metrics": {f"{project}/my.metric": {**metric, "key": "other.key"}}}},
    }
    refused = client.put("/__admin/state", json_body=doc)
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == f"patch.launchdarkly.metrics.{project}/my.metric.key"
