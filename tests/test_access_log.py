"""The server says what it does: one access-log line per request, admin calls included, with reasons."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import requests

from mockserver.app import create_app
from tests.conftest import PH_KEY, make_settings
from tests.speccheck import FlaskClient
from tests.test_cli import free_port, wait_healthy


def test_each_request_is_one_line_with_its_operation_status_and_reason(caplog):
    client = FlaskClient(create_app(make_settings()), PH_KEY)
    with caplog.at_level(logging.INFO, logger="mockserver.access"):
        client.get("/api/projects/1/experiments/?limit=1")
        client.post("/api/projects/1/experiments/", json_body={"name": 3})
        client.post("/__admin/reset")
        client.get("/api/projects/1/experimentz/", check_spec=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "mockserver.access"]
    assert len(lines) == 4
    assert (
        lines[0].startswith("GET /api/projects/1/experiments/?limit=1 200 ") and "posthog experiments_list" in lines[0]
    )
    assert "400" in lines[1] and "experiments_create (feature_flag_key: This field is required.)" in lines[1]
    assert lines[2].startswith("POST /__admin/reset 200 ") and "admin reset" in lines[2]
    assert "404" in lines[3] and "Not found." in lines[3]


def test_a_fault_is_named_once(caplog):
    client = FlaskClient(create_app(make_settings()), PH_KEY)
    client.post("/__admin/faults", json_body={"operation_id": "experiments_retrieve", "status": 503})
    with caplog.at_level(logging.INFO, logger="mockserver.access"):
        client.get("/api/projects/1/experiments/4/", check_spec=False)  # an injected status is outside the spec
    (line,) = [r.getMessage() for r in caplog.records if r.name == "mockserver.access"]
    assert line.endswith("experiments_retrieve (fault 1: HTTP 503)"), line


def test_json_log_format_and_the_start_up_banner():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        requests.get(f"{url}/api/projects/1/experiments/", headers={"Authorization": "Bearer x"}, timeout=5)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    # stdout too is one JSON object per line: the banner is one record with its lines as fields
    said = [json.loads(line) for line in out.splitlines()]
    assert said[0]["message"] == f"mockserver listening on {url} (seed 42)" and said[0]["seed"] == 42
    assert said[0]["console"] == f"{url}/__admin/ui" and said[0]["admin_token"] == "none"
    assert said[-1]["message"] == "mockserver stopped"
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [r for r in records if r["logger"] == "mockserver.access" and r.get("operation_id") == "experiments_list"]
    assert access and access[0]["status"] == 200 and access[0]["surface"] == "posthog"
    assert any(r["logger"] == "mockserver" and "started on" in r["message"] for r in records)


def test_a_refused_preflight_is_journaled_with_its_reason():
    client = FlaskClient(create_app(make_settings()), PH_KEY)
    refused = client.request(
        "OPTIONS",
        "/api/projects/1/experiments/",
        headers={"Origin": "http://127.0.0.1:3000", "Access-Control-Request-Method": "PUT"},
        check_spec=False,
    )
    assert refused.status_code == 200  # the origin is allowed: this one passes
    client.request(
        "OPTIONS",
        "/api/projects/1/experiments/",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"},
        check_spec=False,
    )
    entries = client.get("/__admin/requests?method=OPTIONS").json()["requests"]
    assert [e["status"] for e in entries] == [200, 403]
    assert entries[0]["validation_errors"] == []
    assert "origin 'https://app.example' is not in --cors-origins" in entries[1]["validation_errors"][0]


def test_a_cors_refusal_is_logged_with_its_reason(caplog):
    client = FlaskClient(create_app(make_settings()), PH_KEY)
    with caplog.at_level(logging.INFO, logger="mockserver.access"):
        client.get("/api/projects/1/experiments/", headers={"Origin": "http://127.0.0.1:3000"})
        client.get("/api/projects/1/experiments/", headers={"Origin": "http://evil.example"})
        client.request(
            "OPTIONS",
            "/api/projects/1/experiments/",
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
            check_spec=False,
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "mockserver.access"]
    assert "CORS" not in lines[0]
    preflight = client.get("/__admin/requests?method=OPTIONS").json()["requests"]
    assert len(preflight) == 1 and preflight[0]["preflight"] is True and preflight[0]["status"] == 200
    assert "CORS: origin 'http://evil.example' is not in --cors-origins" in lines[1]
    assert "preflight" in lines[2]
