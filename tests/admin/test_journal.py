"""/__admin/requests: what was asked and answered, capped, filterable, clearable."""

from __future__ import annotations

from tests.admin.conftest import LD_KEY


def entries(client, **params):
    response = client.get("/__admin/requests", params=params or None)
    assert response.status_code == 200
    return response.json()


def test_each_vendor_request_is_recorded_with_its_operation_and_outcome(make_client):
    client = make_client()
    assert client.get("/api/projects/1/experiments/4/").status_code == 200
    assert client.post("/api/projects/1/experiments/", json_body={"name": 5}).status_code == 400
    assert client.get("/api/v2/projects/default/environments/production/experiments", headers=LD_KEY).status_code == 200
    rows = entries(client)["requests"]
    assert [(r["method"], r["vendor"], r["operation_id"], r["status"]) for r in rows] == [
        ("GET", "posthog", "experiments_retrieve", 200),
        ("POST", "posthog", "experiments_create", 400),
        ("GET", "launchdarkly", "getExperiments", 200),
    ]
    first, bad = rows[0], rows[1]
    assert first["path"] == "/api/projects/1/experiments/4/" and first["latency_ms"] >= 0
    assert first["validation_errors"] == [] and first["request_body"] is None and first["dropped"] is False
    assert bad["validation_errors"] == ["feature_flag_key: This field is required."]
    assert bad["request_body"] == {"name": 5}
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


def test_an_unmatched_request_is_recorded_with_the_nearest_documented_path(make_client):
    client = make_client()
    response = client.get("/api/projects/1/experiments/4/launch/now/")
    assert response.status_code == 404
    (row,) = entries(client)["requests"]
    assert row["operation_id"] is None and row["status"] == 404
    assert row["nearest_path"] == response.headers["X-Mock-Nearest-Path"]
    assert row["nearest_path"].startswith("/api/{scope}/{project_id}/experiments/{id}/")


def test_admin_calls_are_not_journaled(make_client):
    client = make_client()
    client.get("/__admin/health")
    client.get("/__admin/state")
    assert entries(client)["requests"] == []


def test_filters_by_method_path_glob_operation_and_status(make_client):
    client = make_client()
    client.get("/api/projects/1/experiments/")
    client.get("/api/projects/1/experiments/4/")
    client.get("/api/projects/1/experiments/999999/")
    client.post("/api/projects/1/experiments/", json_body={"name": "J", "feature_flag_key": "j"})
    assert entries(client, method="post")["total"] == 1
    assert entries(client, path="/api/projects/1/experiments/*")["total"] == 4
    assert entries(client, path="/api/projects/1/experiments/4")["total"] == 1  # trailing slash optional
    assert entries(client, operation_id="experiments_retrieve")["total"] == 2
    assert entries(client, operation_id="experiments_retrieve", status=404)["total"] == 1
    limited = entries(client, limit=1)
    assert limited["total"] == 4 and [r["method"] for r in limited["requests"]] == ["POST"]
    bad = client.get("/__admin/requests", params={"status": "ok"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"


def test_the_journal_is_capped_and_delete_clears_it(make_client):
    client = make_client(journal_size=3)
    for exp_id in (1, 2, 3, 4, 5):
        client.get(f"/api/projects/1/experiments/{exp_id}/")
    body = entries(client)
    assert body["capacity"] == 3 and body["dropped"] == 2
    assert [r["path"] for r in body["requests"]] == [f"/api/projects/1/experiments/{i}/" for i in (3, 4, 5)]
    assert client.delete("/__admin/requests").status_code == 204
    assert entries(client) == {"requests": [], "total": 0, "capacity": 3, "dropped": 0}


def test_reset_clears_the_journal(make_client):
    client = make_client()
    client.get("/api/projects/1/experiments/")
    client.post("/__admin/reset")
    assert entries(client)["total"] == 0


def test_rule_rejections_say_why_in_the_journal(make_client):
    client = make_client()
    assert client.post("/api/projects/1/experiments/1/archive/").status_code == 400
    assert client.get("/api/projects/1/experiments/?limit=ten").status_code == 400
    entries = client.get("/__admin/requests").json()["requests"]
    assert entries[-2]["validation_errors"] == ["Experiment must be ended before it can be archived."]
    assert entries[-1]["validation_errors"] == ["limit must be a valid integer."]


def test_ids_keep_counting_across_clears_and_resets_so_an_after_cursor_stays_valid(make_client):
    client = make_client()
    assert client.get("/api/projects/1/experiments/4/").status_code == 200
    (seen,) = entries(client)["requests"]
    assert client.delete("/__admin/requests").status_code == 204
    assert client.post("/__admin/reset").status_code == 200
    assert client.get("/api/projects/1/experiments/5/").status_code == 200
    rows = entries(client, after=seen["id"])["requests"]
    assert [r["path"] for r in rows] == ["/api/projects/1/experiments/5/"] and rows[0]["id"] > seen["id"]
