"""Bounded work per request: long URLs, big bodies, slow clients, and documented caps on what is kept."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from mockserver.app import create_app
from mockserver.core import journal as journal_module
from mockserver.core.faults import MAX_RULES
from mockserver.server import MockServer
from mockserver.web import nearest
from tests.conftest import PH_KEY, make_settings
from tests.speccheck import FlaskClient, HttpClient
from tests.test_cli import free_port, wait_healthy


@pytest.fixture
def client() -> FlaskClient:
    return FlaskClient(create_app(make_settings()), PH_KEY)


def test_the_nearest_path_hint_reads_a_bounded_prefix_of_any_url(client, monkeypatch):
    seen: list[int] = []
    real = nearest.Nearest._best.__wrapped__

    def spy(self, path):
        seen.append(len(path))
        return real(self, path)

    monkeypatch.setattr(nearest.Nearest, "_best", spy)
    long_path = "/api/projects/1/" + "x" * 100_000
    response = client.get(long_path, check_spec=False)
    assert response.status_code == 404 and response.headers["X-Mock-Nearest-Path"].startswith("/api/")
    assert seen and max(seen) <= nearest.MAX_PATH


def test_the_journal_keeps_a_bounded_number_of_bytes_per_entry(client):
    big = {"name": "Big", "feature_flag_key": "big", "description": "d" * 200_000}
    client.post("/api/projects/1/experiments/", json_body=big, check_spec=False)
    runtime = client.app.extensions["mockserver"]
    (stored,) = list(runtime.journal._entries)
    assert len(stored["request_raw"]) == journal_module.BODY_BYTES and stored["request_truncated"]
    assert "request_body" not in stored and "response_body" not in stored  # raw bytes only, parsed when read
    (shown,) = client.get("/__admin/requests").json()["requests"]
    assert isinstance(shown["request_body"], str) and shown["request_body"].endswith("…")


def test_fault_rules_are_capped(client):
    for i in range(MAX_RULES):
        assert client.post("/__admin/faults", json_body={"path": f"/nothing/{i}", "status": 500}).status_code == 201
    over = client.post("/__admin/faults", json_body={"path": "/nothing/more", "status": 500})
    assert over.status_code == 400 and f"at most {MAX_RULES}" in over.json()["detail"] and over.json()["field"] is None
    assert len(client.get("/__admin/faults").json()["faults"]) == MAX_RULES


def test_approval_policies_and_rate_limit_rules_are_capped(client, monkeypatch):
    from mockserver.vendors.launchdarkly import ratelimit
    from mockserver.vendors.posthog import admin as posthog_admin

    monkeypatch.setattr(posthog_admin, "MAX_POLICIES", 3)
    monkeypatch.setattr(ratelimit, "MAX_RULES", 2)
    for key in ("experiment.launch", "experiment.pause", "experiment.update"):
        policy = {"action_key": key, "quorum": 1, "project_id": 1}
        assert client.post("/__admin/posthog/approval-policies", json_body=policy).status_code == 201
    over = client.post("/__admin/posthog/approval-policies", json_body={"action_key": "feature_flag.update"})
    assert over.status_code == 400 and "at most 3" in over.json()["detail"]
    for _ in range(2):
        assert client.post("/__admin/launchdarkly/rate-limit", json_body={"limit": 50}).status_code == 201
    assert client.post("/__admin/launchdarkly/rate-limit", json_body={"limit": 50}).status_code == 400


def test_a_table_past_its_limit_refuses_in_the_vendors_format_and_changes_nothing(client):
    runtime = client.app.extensions["mockserver"]
    posthog = runtime.vendor("posthog")
    count = len(runtime.store.data["posthog"]["experiments"])
    posthog.table_limits = {**posthog.table_limits, "experiments": count}
    before = client.get("/__admin/state").json()
    refused = client.post("/api/projects/1/experiments/", json_body={"name": "One too many", "feature_flag_key": "otm"})
    assert refused.status_code == 400
    body = refused.json()
    assert body["type"] == "validation_error" and f"at most {count} experiments" in body["detail"]
    assert client.get("/__admin/state").json() == before
    keys = runtime.vendor("launchdarkly")
    keys.table_limits = {**keys.table_limits, "experiments": len(runtime.store.data["launchdarkly"]["experiments"])}


def test_api_keys_are_capped(client, monkeypatch):
    from mockserver.core import runtime as runtime_module

    monkeypatch.setattr(runtime_module, "MAX_API_KEYS", 2)
    for key in ("phx_1", "phx_2"):
        assert client.post("/__admin/api-keys", json_body={"vendor": "posthog", "key": key}).status_code == 201
    over = client.post("/__admin/api-keys", json_body={"vendor": "posthog", "key": "phx_3"})
    assert over.status_code == 400 and "at most 2 api keys" in over.json()["detail"]


# -- the production server: caps enforced before reading, slow clients cannot stop it ----------


@pytest.fixture
def served():
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            str(port),
            "--max-body-bytes",
            "2048",
            "--max-state-bytes",
            "4096",
            "--channel-timeout",
            "2",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield port, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_body_over_the_cap_is_refused_before_it_is_read(served):
    port, _url = served
    head = (
        b"POST /api/projects/1/experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer phx_x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n"
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + b"{")  # 300 MiB announced, 1 byte sent: the answer comes at once
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after it
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 5
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head and b"Connection: close" in head
    assert json.loads(body) == {
        "type": "invalid_request",
        "code": "request_too_large",
        "detail": "Request body exceeds the limit of 2048 bytes.",
        "attr": None,
    }


def test_a_body_refused_unread_gets_the_api_s_own_413(served):
    """Past the largest cap (the state's) waitress refuses a body unread; the answer is still the
    vendor's or the control API's JSON error, naming the cap of that route, and journaled."""
    _port, url = served
    vendor = HttpClient(url, {"Authorization": "Bearer phx_x"})
    for size in (3000, 5000):  # refused by the app / unread by the server: one answer
        refused = vendor.post("/api/projects/1/experiments/", data=b" " * size, content_type="application/json")
        assert refused.status_code == 413
        assert refused.json()["detail"] == "Request body exceeds the limit of 2048 bytes."
    admin = HttpClient(url)
    over = admin.put("/__admin/state", data=b" " * 5000, content_type="application/json")
    assert over.status_code == 413 and over.json() == {
        "error": "request_entity_too_large",
        "detail": "Request body exceeds the limit of 4096 bytes.",  # the state's cap, not the vendors'
        "field": None,
    }
    journaled = admin.get("/__admin/requests").json()["requests"]
    assert [(e["operation_id"], e["status"]) for e in journaled] == [("experiments_create", 413)] * 2


def _first_answer(port: int, request: bytes) -> bytes:
    """What the server says to ``request`` (sent whole, its body cut short) within 5 s, to the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 3000\r\n\r\n{",  # between the route's cap (2048) and the largest (4096)
        b"Expect: 100-continue\r\nContent-Length: 3000\r\n\r\n",  # not invited, then refused
        b"Expect: 100-continue\r\nContent-Length: 100000000\r\n\r\n",
        b"Transfer-Encoding: chunked\r\n\r\nc00\r\n{",  # one chunk of 3072 announced
        b"Transfer-Encoding: chunked\r\n\r\n5000000\r\n{",  # one chunk of 80 MiB announced
        b"Transfer-Encoding: chunked\r\n\r\n700\r\n" + b" " * 1792 + b"\r\n700\r\n",  # the second passes it
    ],
)
def test_a_body_past_its_route_s_cap_is_refused_before_it_is_read(served, framing):
    """waitress knew only the largest cap: a body under it but over its route's was read whole (up
    to 64 MiB by default, a chunk at a time, after inviting it with 100 Continue) before the 413."""
    port, url = served
    head = b"POST /api/projects/1/experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer phx_x\r\n"
    started = time.monotonic()
    answer = _first_answer(port, head + b"Content-Type: application/json\r\n" + framing)
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 5, answer[:200]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["detail"] == "Request body exceeds the limit of 2048 bytes."
    assert requests.get(f"{url}/__admin/health", timeout=5).status_code == 200


def test_dozens_of_slow_clients_do_not_stop_the_server(served):
    port, url = served
    stalled = []
    for _ in range(150):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /api/projects/1/experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        stalled.append(sock)
    try:
        answer = requests.get(f"{url}/api/projects/1/experiments/", headers={"Authorization": "Bearer x"}, timeout=10)
        assert answer.status_code == 200
        time.sleep(4)  # past the channel timeout: the stalled connections are closed by the server
        closed = 0
        for sock in stalled:
            try:
                sock.settimeout(0.5)
                closed += sock.recv(1) == b""
            except OSError:
                closed += 1
        assert closed == len(stalled)
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize("odd", ["\u0661", "\uff11", "\u00b2", "1_0", " 1", "+1", "0x1", "1.0", "\u0664"])
def test_ids_in_paths_are_ascii_digits_only(client, odd):
    from urllib.parse import quote

    for path in (f"/api/projects/1/experiments/{quote(odd)}/", f"/api/projects/{quote(odd)}/experiments/"):
        response = client.get(path)
        assert response.status_code == 404, (odd, path, response.text)
        assert response.json()["code"] == "not_found"
    assert client.delete(f"/__admin/faults/{quote(odd)}").status_code == 404


@pytest.mark.parametrize("odd", ["\u00b2", "\u0661", "1_0"])
def test_id_filters_in_queries_are_ascii_digits_only(client, odd):
    response = client.get("/api/projects/1/experiments/", params={"feature_flag_id": odd})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nBadHeaderNoColon\r\n\r\n", b"400"),
        (b"POST /__admin/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"501"),
        (b"POST /__admin/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
    ],
)
def test_other_requests_waitress_refuses_keep_its_own_answer(served, request_bytes, status):
    """Only a body over the cap is worded by the app; a malformed request gets waitress's answer,
    and the connection closes (it hung with no answer when the app's task took these too)."""
    port, _url = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.split(b"\r\n")[0].split(b" ")[1] == status, answer[:200]


# -- servers that stream a chunked body to the app (werkzeug's in MockServer, cheroot for HTTPS) --


def exchange(port: int, request: bytes, wrap: Any = None) -> tuple[bytes, dict]:
    """Send raw bytes, read one answer by its Content-Length: the head and the JSON body. (Not to
    the close: werkzeug's server drains what the app left unread before closing.)"""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if wrap is not None:
        sock = wrap(sock)
    with sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        while len(body) < length and (chunk := sock.recv(65536)):
            body += chunk
    return head, json.loads(body)


def chunked(path: str, body: bytes, extra: bytes = b"", method: str = "POST") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n"
    return head.encode() + extra + b"\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


def test_a_chunked_body_over_its_route_s_cap_is_a_413_not_a_body_cut_short():
    """werkzeug stops reading a stream at the route's cap and returns what it has: a body over it
    was parsed cut short (a parse error, or a shorter document accepted)."""
    server = MockServer(make_settings(max_body_bytes=1000, max_state_bytes=4000)).start()
    try:
        padded = b'{"name": "Padded", "feature_flag_key": "padded"}' + b" " * 2000  # valid JSON up to the cap
        head, body = exchange(
            server.port, chunked("/api/projects/1/experiments/", padded, b"Authorization: Bearer phx_x\r\n")
        )
        assert head.startswith(b"HTTP/1.1 413") and body["detail"] == "Request body exceeds the limit of 1000 bytes."
        small = b'{"name": "Small", "feature_flag_key": "small"}'
        head, body = exchange(
            server.port, chunked("/api/projects/1/experiments/", small, b"Authorization: Bearer phx_x\r\n")
        )
        assert head.startswith(b"HTTP/1.1 201") and body["name"] == "Small"
        head, body = exchange(server.port, chunked("/__admin/state", b" " * 5000, method="PUT"))  # past every cap
        assert head.startswith(b"HTTP/1.1 413") and body["detail"] == "Request body exceeds the limit of 4000 bytes."
        big = b" " * 3_000_000  # past the state's cap too: read no further than the route's, then refused
        head, body = exchange(server.port, chunked("/api/projects/1/experiments/", big, b"Authorization: Bearer x\r\n"))
        assert head.startswith(b"HTTP/1.1 413") and body["detail"] == "Request body exceeds the limit of 1000 bytes."
        head, body = exchange(server.port, chunked("/__admin/reset", b"{}").replace(b"\r\n2\r\n", b"\r\nzz\r\n"))
        assert head.startswith(b"HTTP/1.1 400") and body["error"] == "bad_request"
        names = [
            e["name"]
            for e in requests.get(f"{server.url}/api/projects/1/experiments/", headers=PH_KEY).json()["results"]
        ]
        assert "Small" in names and "Padded" not in names
    finally:
        server.stop()


def test_an_absolute_form_target_is_judged_by_its_own_host(served):
    """RFC 9112: an origin server uses the target's authority, not the Host header, as the host."""
    port, _url = served
    foreign = b"GET http://evil.example/__admin/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answer = _first_answer(port, foreign)
    assert answer.startswith(b"HTTP/1.1 403") and b"evil.example" in answer, answer[:300]
    own = b"GET http://127.0.0.1/__admin/health HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    assert _first_answer(port, own).startswith(b"HTTP/1.1 200")


def test_blank_lines_between_pipelined_requests_are_skipped(served):
    """RFC 9112 lets a client send an extra CRLF between requests; the parser's cap check read
    the path of that empty request and the connection died without even the first answer."""
    port, _url = served
    health = b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answer = _first_answer(port, health + b"\r\n\r\n" + health[:-2] + b"Connection: close\r\n\r\n")
    assert answer.count(b"HTTP/1.1 200") == 2, answer[:300]


def test_a_body_of_exactly_the_cap_is_taken_however_it_is_framed(served):
    """waitress refused a body at its cap (not past it) and counted chunk framing as body."""
    port, url = served
    admin = HttpClient(url)
    doc = json.dumps({"format": "mockserver/state@1", "seed": 7}).encode()
    exact = doc + b" " * (4096 - len(doc))
    assert admin.put("/__admin/state", data=exact, content_type="application/json").status_code == 200
    framed = b"".join(b"%x\r\n%s\r\n" % (len(exact[i : i + 16]), exact[i : i + 16]) for i in range(0, 4096, 16))
    request = (
        b"PUT /__admin/state HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + framed + b"0\r\n\r\n"
    )  # 4,096 bytes of data in 256 chunks: some 6 KiB on the wire
    assert _first_answer(port, request).startswith(b"HTTP/1.1 200")
    over = exact + b" "
    assert admin.put("/__admin/state", data=over, content_type="application/json").status_code == 413
