"""Safe to leave running: what a browser tab, a rebinding DNS name or a stranger can and cannot do.

Every test here talks to a real server over loopback HTTP with the headers a browser would send.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.test_cli import free_port, wait_healthy

EVIL = "https://evil.example"


@pytest.fixture
def server(own_server):
    srv, _client = own_server()
    return srv


def state(url: str, **headers: str) -> dict:
    return requests.get(f"{url}/__admin/state", headers=headers, timeout=5).json()


# The exact requests a page on another site can make a browser send.
BROWSER_WRITES = [
    pytest.param(
        "POST",
        "/__admin/reset",
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
        None,
        id="body-less simple POST (reset)",
    ),
    pytest.param(
        "POST",
        "/__admin/fixtures/empty/load",
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"},
        b"a=b",
        id="form POST (load a fixture)",
    ),
    pytest.param(
        "POST",
        "/__admin/reset",
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
        b'{"seed": 7}',
        id="text/plain POST",
    ),
    pytest.param(
        "PUT",
        "/__admin/state",
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
        b'{"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}}',
        id="preflighted PUT (state)",
    ),
    pytest.param(
        "POST",
        "/__admin/api-keys",
        {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
        b'{"vendor": "posthog", "key": "phx_evil"}',
        id="cross-site fetch without Origin",
    ),
    pytest.param(
        "POST",
        "/__admin/reset",
        {"Origin": "null", "Content-Type": "text/plain"},
        b"{}",
        id="sandboxed page (Origin: null)",
    ),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), BROWSER_WRITES)
def test_cross_site_writes_to_the_control_api_are_refused_and_change_nothing(server, method, path, headers, body):
    before = state(server.url)
    response = requests.request(method, server.url + path, headers=headers, data=body, timeout=5)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden" and "cross-site" in response.json()["detail"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert state(server.url) == before


def test_a_preflight_from_another_site_is_not_granted(server):
    preflight = requests.options(
        f"{server.url}/__admin/state",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=5,
    )
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_page_on_another_site_cannot_read_the_state_or_the_journal(server):
    for path in ("/__admin/state", "/__admin/requests", "/__admin/api-keys"):
        read = requests.get(server.url + path, headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}, timeout=5)
        assert read.status_code == 403 and "Access-Control-Allow-Origin" not in read.headers
        navigated = requests.get(server.url + path, headers={"Sec-Fetch-Site": "cross-site"}, timeout=5)
        assert navigated.status_code == 403


def test_same_origin_pages_and_clients_without_origin_keep_working(server):
    own = server.url
    assert requests.post(f"{own}/__admin/reset", headers={"Origin": own}, timeout=5).status_code == 200
    same = {"Origin": own, "Sec-Fetch-Site": "same-origin"}
    assert requests.get(f"{own}/__admin/state", headers=same, timeout=5).status_code == 200
    typed = {"Sec-Fetch-Site": "none"}  # a URL typed in the address bar
    assert requests.get(f"{own}/__admin/requests", headers=typed, timeout=5).status_code == 200
    assert requests.post(f"{own}/__admin/reset", timeout=5).status_code == 200  # curl, test code


def test_an_origin_allowed_in_so_many_words_may_call_the_control_api(own_server):
    srv, _client = own_server(admin_origins="http://localhost:5173")
    allowed = {"Origin": "http://localhost:5173", "Sec-Fetch-Site": "same-site"}
    response = requests.get(f"{srv.url}/__admin/clock", headers=allowed, timeout=5)
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert requests.get(f"{srv.url}/__admin/clock", headers={"Origin": EVIL}, timeout=5).status_code == 403


@pytest.mark.parametrize("path", ["/__admin/state", "/api/projects/1/experiments/", "/api/v2/projects/default"])
def test_a_rebinding_host_name_is_refused(server, path):
    before = state(server.url)
    port = server.port
    response = requests.get(f"{server.url}{path}", headers={"Host": f"evil.example:{port}"}, timeout=5)
    assert response.status_code == 403
    assert "--allowed-hosts evil.example" in response.text
    reset = requests.post(f"{server.url}/__admin/reset", headers={"Host": f"evil.example:{port}"}, timeout=5)
    assert reset.status_code == 403 and state(server.url) == before


def test_a_missing_or_malformed_host_is_said_as_such(server):
    """HTTP/1.1 without Host, or with a malformed one, is a 400 saying which (RFC 9112 §3.2), not a
    rebinding refusal naming the server's stand-in name."""
    line, detail = raw_exchange(server.port, b"GET /__admin/state HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert b" 400 " in line and json.loads(detail)["detail"] == "the request has no Host header"
    port = server.port
    malformed = f"GET /__admin/state HTTP/1.1\r\nHost: localhost:{port}@evil.example\r\nConnection: close\r\n\r\n"
    line, detail = raw_exchange(server.port, malformed.encode())
    assert b" 400 " in line
    assert json.loads(detail)["detail"].startswith("the request's Host header is not a host name or address")


def test_an_http_1_0_request_without_host_is_served_as_sent_to_the_bound_address(server):
    """A health check over HTTP/1.0 names no host; no browser sends that, so it is no rebinding.
    Links in the answer name the bound address, not the server's stand-in name."""
    line, body = raw_exchange(server.port, b"GET /__admin/health HTTP/1.0\r\n\r\n")
    assert b" 200 " in line and json.loads(body)["status"] == "ok"
    request = b"GET /api/projects/1/experiments/?limit=1 HTTP/1.0\r\nAuthorization: Bearer phx_test\r\n\r\n"
    line, body = raw_exchange(server.port, request)
    assert b" 200 " in line
    assert json.loads(body)["next"].startswith(f"http://127.0.0.1:{server.port}/api/projects/1/experiments/?")
    entry = requests.get(f"{server.url}/__admin/requests", timeout=5).json()["requests"][-1]
    assert "Host" not in entry["request_headers"]  # the journal shows the request as sent


def raw_exchange(port: int, request: bytes) -> tuple[bytes, bytes]:
    """The status line and body of one request sent byte for byte (clients add a Host header)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


def test_allowed_hosts_admit_a_name(own_server):
    srv, _client = own_server(allowed_hosts="mockserver")
    ok = requests.get(f"{srv.url}/__admin/health", headers={"Host": f"mockserver:{srv.port}"}, timeout=5)
    assert ok.status_code == 200
    for host in ("localhost", "127.0.0.1", "[::1]"):
        assert requests.get(f"{srv.url}/__admin/health", headers={"Host": f"{host}:{srv.port}"}, timeout=5).ok


def test_bound_to_every_interface_ip_literals_pass_and_names_need_listing():
    client = create_app(make_settings(host="0.0.0.0", admin_token="none")).test_client()
    assert client.get("/__admin/health", headers={"Host": "10.1.2.3:8010"}).status_code == 200
    assert client.get("/__admin/health", headers={"Host": "[fd00::1]:8010"}).status_code == 200
    assert client.get("/__admin/health", headers={"Host": "mockserver:8010"}).status_code == 403


def test_links_in_bodies_use_the_host_the_request_named(server):
    page = requests.get(
        f"{server.url}/api/projects/1/experiments/?limit=1",
        headers={"Authorization": "Bearer phx_x", "Host": f"localhost:{server.port}"},
        timeout=5,
    ).json()
    assert page["next"].startswith(f"http://localhost:{server.port}/")


# -- the admin token ---------------------------------------------------------------------------


def test_with_a_token_every_control_call_needs_it_but_health(own_server):
    srv, _client = own_server(admin_token="s3cret", strict_auth=True)
    url = srv.url
    refused = requests.get(f"{url}/__admin/state", timeout=5)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    assert requests.get(f"{url}/__admin/state", headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
    assert requests.get(f"{url}/__admin/state", headers={"Authorization": "Bearer s3cret"}, timeout=5).ok
    assert requests.get(f"{url}/__admin/state", headers={"X-Mockserver-Admin-Token": "s3cret"}, timeout=5).ok
    health = requests.get(f"{url}/__admin/health", timeout=5)
    assert (
        health.ok
        and "s3cret" not in health.text
        and set(health.json())
        == {
            "status",
            "version",
            "seed",
            "vendors",
            "now",
        }
    )
    # --strict-auth cannot be bypassed by registering a key without the token
    key = {"vendor": "posthog", "key": "phx_sneaky"}
    assert requests.post(f"{url}/__admin/api-keys", json=key, timeout=5).status_code == 401
    sneaky = requests.get(
        f"{url}/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_sneaky"}, timeout=5
    )
    assert sneaky.status_code == 401
    registered = requests.post(
        f"{url}/__admin/api-keys", json=key, headers={"Authorization": "Bearer s3cret"}, timeout=5
    )
    assert registered.status_code == 201
    assert requests.get(
        f"{url}/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_sneaky"}, timeout=5
    ).ok


def test_binding_beyond_loopback_generates_and_prints_a_token_unless_told_none():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--host", "0.0.0.0", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        line = next(line for line in proc.stdout if "admin token" in line)
        token = line.split("generated: ")[1].split(")")[0].strip()
        assert len(token) >= 24
        url = f"http://127.0.0.1:{port}"
        assert requests.get(f"{url}/__admin/state", timeout=5).status_code == 401
        assert requests.get(f"{url}/__admin/state", headers={"Authorization": f"Bearer {token}"}, timeout=5).ok
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    runtime = create_app(make_settings(host="0.0.0.0", admin_token="none")).extensions["mockserver"]
    assert runtime.admin_token is None
    assert create_app(make_settings()).extensions["mockserver"].admin_token is None  # loopback: no token


@pytest.mark.parametrize("given", ["localhost:5173", "http://localhost:5173/app"])
def test_an_admin_origin_that_no_browser_sends_is_refused_at_start(given):
    with pytest.raises(ValueError, match="--admin-origins origin"):
        create_app(make_settings(admin_origins=given))


def test_the_null_origin_of_a_page_opened_from_a_file_may_be_allowed(own_server):
    srv, _client = own_server(admin_origins="null")
    assert requests.get(f"{srv.url}/__admin/clock", headers={"Origin": "null"}, timeout=5).status_code == 200


def test_an_empty_admin_token_is_no_token_given():
    """MOCKSERVER_ADMIN_TOKEN= (an unset compose variable) would lock the control API: no client
    can send an empty token. It is taken as not given: none on loopback, generated elsewhere."""
    assert create_app(make_settings(admin_token="")).extensions["mockserver"].admin_token is None
    off_loopback = create_app(make_settings(host="0.0.0.0", admin_token="  ")).extensions["mockserver"]
    assert off_loopback.admin_token and off_loopback.admin_token_generated


def test_the_control_api_can_be_switched_off(own_server):
    srv, _client = own_server(admin_api=False)
    assert requests.get(f"{srv.url}/__admin/health", timeout=5).ok
    for method, path in (("GET", "/__admin/state"), ("POST", "/__admin/reset"), ("GET", "/__admin/requests")):
        assert requests.request(method, srv.url + path, timeout=5).status_code == 404
    for path in ("/__admin/ui", "/__admin/docs", "/__admin/specs", "/"):  # every call they make would 404
        assert requests.get(srv.url + path, timeout=5, allow_redirects=False).status_code == 404
    assert requests.get(f"{srv.url}/api/projects/1/experiments/", headers={"Authorization": "Bearer x"}, timeout=5).ok


# -- CORS on the vendor APIs ---------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8080"])
def test_vendor_cors_admits_pages_on_this_machine_by_default(server, origin):
    response = requests.get(
        f"{server.url}/api/projects/1/experiments/", headers={"Origin": origin, "Authorization": "Bearer x"}, timeout=5
    )
    assert response.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("origin", [EVIL, "http://localhost.evil.example", "null", "http://localhost:3000/path"])
def test_vendor_cors_never_echoes_any_other_origin(server, origin):
    response = requests.get(
        f"{server.url}/api/projects/1/experiments/", headers={"Origin": origin, "Authorization": "Bearer x"}, timeout=5
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = requests.options(
        f"{server.url}/api/projects/1/experiments/",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_any_origin_only_when_asked_for(own_server):
    srv, _client = own_server(cors_origins="*")
    response = requests.get(
        f"{srv.url}/api/projects/1/experiments/", headers={"Origin": EVIL, "Authorization": "Bearer x"}, timeout=5
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("origins", "message"),
    [("localhost:3000", "needs a scheme"), ("http://localhost:3000/app", "no path"), ("ftp://x", "needs a scheme")],
)
def test_a_cors_origin_a_browser_never_sends_is_refused_at_start(origins, message):
    with pytest.raises(ValueError, match=message):
        create_app(make_settings(cors_origins=origins))


def test_the_control_api_spec_declares_its_token_and_cross_site_refusals(own_server):
    """Every control operation may answer 403 (another site, a Host not served) and, but for the
    open pages and health, 401 without the token: the published spec says so, and the answers fit it."""
    from mockserver.admin import OPEN
    from tests.speccheck import contract_for

    operations = contract_for("/__admin/state").spec["paths"]
    for item in operations.values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                declared = operation["responses"]
                assert "403" in declared and "400" in declared, operation["operationId"]
                assert ("401" in declared) is (operation["operationId"] not in OPEN), operation["operationId"]

    _srv, client = own_server(headers={}, admin_token="tok")
    assert client.get("/__admin/clock").status_code == 401  # checked against the spec by the client
    assert client.post("/__admin/reset", headers={"Origin": EVIL}).status_code == 403
    assert client.get("/__admin/health", headers={"Origin": EVIL}).status_code == 403
    assert client.get("/__admin/clock", headers={"Authorization": "Bearer tok"}).status_code == 200
