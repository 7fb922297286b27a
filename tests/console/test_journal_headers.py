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


def test_header_names_are_those_werkzeug_gives_and_shared_between_entries():
    """Names are built once per process (less for a reset to free), values are each request's own."""
    from werkzeug.datastructures import EnvironHeaders
    from werkzeug.test import EnvironBuilder

    from mockserver.core.journal import environ_headers

    environ = EnvironBuilder(
        method="POST",
        data=b"{}",
        content_type="application/json",
        headers={"X-Under_Score": "1", "accept-language": "fr", "X-Empty": ""},
    ).get_environ()
    environ["HTTP_CONTENT_TYPE"] = "text/plain"  # a duplicate werkzeug ignores
    assert list(environ_headers(environ)) == list(EnvironHeaders(environ).items())
    first = dict(environ_headers(environ))
    again = dict(environ_headers(dict(environ)))
    assert all(a is b for a, b in zip(first, again, strict=True))


def test_journal_lists_are_lists_to_readers():
    client = FlaskClient(create_app(make_settings()), {"Authorization": "Bearer phx_headers"})
    assert client.get("/api/projects/1/experiments/").status_code == 200
    assert client.get("/api/projects/1/experiments/?limit=ten").status_code == 400
    ok, refused = client.get("/__admin/requests").json()["requests"]
    assert ok["validation_errors"] == [] and ok["contract_violations"] == []
    assert refused["validation_errors"] == ["limit must be a valid integer."]
