"""Journal entries keep the request's headers, so the console can show them (minus admin secrets)."""

from __future__ import annotations

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.speccheck import FlaskClient


def test_journal_entries_carry_the_request_headers_without_secrets():
    client = FlaskClient(create_app(make_settings()), {"Authorization": "Bearer phx_headers"})
    client.post(
        "/api/projects/1/experiments/",
        json_body={"name": "Headers", "feature_flag_key": "headers"},
        headers={"X-Mockserver-Admin-Token": "secret", "Cookie": "a=b", "X-Trace": "t" * 2000},
    )
    (entry,) = client.get("/__admin/requests").json()["requests"]
    headers = entry["request_headers"]
    assert headers["Authorization"] == "Bearer phx_headers" and headers["Content-Type"] == "application/json"
    assert len(headers["X-Trace"]) == 1000
    assert not {"X-Mockserver-Admin-Token", "Cookie"} & set(headers)
