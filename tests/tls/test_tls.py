"""HTTPS on 127.0.0.1: generated and given certificates, the embedded server and `mockserver serve`."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509

from mockserver.server import MockServer
from mockserver.tls import given, self_signed
from mockserver.upstream import Forwarder, parse_upstreams
from tests.conftest import PH_KEY, make_settings


def test_self_signed_pair_covers_loopback_and_is_reused(tmp_path: Path) -> None:
    first = self_signed(tmp_path)
    cert = x509.load_pem_x509_certificate(first.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} >= {"127.0.0.1", "::1"}
    assert stat.S_IMODE(os.stat(first.key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "ca-key.pem").st_mode) == 0o600
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", first.fingerprint)
    assert self_signed(tmp_path).fingerprint == first.fingerprint  # reused while valid
    ca_before = first.ca.read_bytes()
    other = self_signed(tmp_path, host="127.0.0.2")  # a host it does not cover: a new certificate, same CA
    assert other.fingerprint != first.fingerprint
    assert first.ca.read_bytes() == ca_before
    assert "trust this CA" in other.describe()


def test_embedded_server_over_https_verified_against_the_generated_ca(tmp_path: Path) -> None:
    with MockServer(make_settings(tls="self-signed", tls_dir=str(tmp_path))) as server:
        assert server.url.startswith("https://127.0.0.1:")
        ca = str(server.tls.ca)
        health = requests.get(server.url + "/__admin/health", verify=ca, timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        listing = requests.get(server.url + "/api/projects/1/experiments/", headers=PH_KEY, verify=ca, timeout=10)
        assert listing.status_code == 200 and listing.json()["results"]
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "/__admin/health", timeout=10)  # not in the system's trust store
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(server.url.replace("https://", "http://") + "/__admin/health", timeout=10)


def test_embedded_server_with_a_given_pair(tmp_path: Path) -> None:
    pair = self_signed(tmp_path / "made")
    with MockServer(make_settings(tls_cert=str(pair.cert), tls_key=str(pair.key))) as server:
        assert server.tls.ca is None
        assert requests.get(server.url + "/__admin/health", verify=str(pair.ca), timeout=10).status_code == 200


def test_bad_tls_settings_are_refused(tmp_path: Path) -> None:
    pair = self_signed(tmp_path / "a")
    other = self_signed(tmp_path / "b")
    with pytest.raises(ValueError, match="go together"):
        make_settings(tls_cert=str(pair.cert))
    with pytest.raises(ValueError, match="not both"):
        make_settings(tls="self-signed", tls_cert=str(pair.cert), tls_key=str(pair.key))
    with pytest.raises(ValueError, match="self-signed"):
        make_settings(tls="yes")
    with pytest.raises(ValueError, match="does not exist"):
        given(str(tmp_path / "nope.pem"), str(pair.key))
    with pytest.raises(ValueError, match="cannot use"):
        given(str(pair.cert), str(other.key))  # a key that is not the certificate's


def test_forwarder_reaches_an_https_upstream_and_checks_its_certificate(tmp_path: Path) -> None:
    with MockServer(make_settings(tls="self-signed", tls_dir=str(tmp_path))) as upstream:
        trusted = ssl.create_default_context(cafile=str(upstream.tls.ca))
        forwarder = Forwarder(parse_upstreams(f"posthog={upstream.url}"), ssl_context=trusted)
        reply = forwarder.forward("posthog", "GET", "/api/projects/1/experiments/", "", list(PH_KEY.items()), b"")
        assert reply.status == 200
        from mockserver.upstream import UpstreamError

        with pytest.raises(UpstreamError, match="TLS"):
            Forwarder(parse_upstreams(f"posthog={upstream.url}")).forward("posthog", "GET", "/", "", [], b"")


def _serve(*flags: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"listening on (https?://\S+)", line)
        if found:
            while "SHA-256" not in lines[-1]:  # the banner, then the certificate line
                lines.append(proc.stdout.readline())
            return proc, found.group(1), lines
    proc.kill()
    raise AssertionError(f"server did not start: {lines} {proc.stderr.read() if proc.stderr else ''}")


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("mode", ["self-signed", "given"])
def test_mockserver_serve_over_https(tmp_path: Path, mode: str) -> None:
    if mode == "self-signed":
        flags, ca = ["--tls", "self-signed", "--tls-dir", str(tmp_path)], tmp_path / "ca.pem"
    else:
        pair = self_signed(tmp_path / "mine")
        flags, ca = ["--tls-cert", str(pair.cert), "--tls-key", str(pair.key)], pair.ca
    proc, url, lines = _serve(*flags)
    try:
        assert url.startswith("https://127.0.0.1:")
        assert "SHA-256" in lines[-1]
        health = requests.get(url + "/__admin/health", verify=str(ca), timeout=10)
        assert health.status_code == 200
        created = requests.post(
            url + "/api/projects/1/experiments/",
            json={"name": "Over TLS", "feature_flag_key": "over-tls"},
            headers=PH_KEY,
            verify=str(ca),
            timeout=10,
        )
        assert created.status_code == 201, created.text
    finally:
        assert _stop(proc) == 0


def test_serve_refuses_missing_certificate_files(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            "0",
            "--tls-cert",
            str(tmp_path / "c.pem"),
            "--tls-key",
            str(tmp_path / "k.pem"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_https_refuses_bodies_over_a_cap_in_the_api_s_json_and_closes_unread(tmp_path: Path) -> None:
    """cheroot answered a body past every cap in its own text/plain; a chunked body over its
    route's cap was read cut short. Now both are the API's 413, and the connection closes."""
    from tests.test_bounds import chunked, exchange

    flags = [
        "--tls",
        "self-signed",
        "--tls-dir",
        str(tmp_path),
        "--max-body-bytes",
        "1000",
        "--max-state-bytes",
        "4000",
    ]
    proc, url, _lines = _serve(*flags)
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    port = int(url.rsplit(":", 1)[1])

    def wrap(sock: Any) -> Any:
        return context.wrap_socket(sock, server_hostname="127.0.0.1")

    try:
        announced = (
            b"PUT /__admin/state HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 314572800\r\n\r\n{"
        )  # 300 MiB announced, one byte sent: answered at once, nothing read
        started = time.monotonic()
        head, body = exchange(port, announced, wrap)
        assert head.startswith(b"HTTP/1.1 413") and b"Content-Type: application/json" in head
        assert body["detail"] == "Request body exceeds the limit of 4000 bytes." and time.monotonic() - started < 8
        padded = b'{"name": "Padded", "feature_flag_key": "padded"}' + b" " * 2000
        head, body = exchange(
            port, chunked("/api/projects/1/experiments/", padded, b"Authorization: Bearer phx_x\r\n"), wrap
        )
        assert head.startswith(b"HTTP/1.1 413") and body["detail"] == "Request body exceeds the limit of 1000 bytes."
        assert b"Connection: close" in head
        one_huge_chunk = (  # 1 GiB announced in one chunk: refused before cheroot reads it
            b"POST /__admin/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n40000000\r\n" + b"x" * 100_000
        )
        head, body = exchange(port, one_huge_chunk, wrap)
        assert head.startswith(b"HTTP/1.1 413") and body["detail"] == "Request body exceeds the limit of 1000 bytes."
        for length in (b"+3", b"1_0", b"-1"):  # int() reads them; an HTTP length they are not
            odd = b"PUT /__admin/state HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + length + b"\r\n\r\n{}"
            assert raw(port, odd, wrap).startswith(b"HTTP/1.1 400"), length
        # chunked framing wins over a Content-Length beside it: the next request is read as sent
        both = (
            b"POST /__admin/nonexistent HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        answers = raw(port, both, wrap)
        assert answers.startswith(b"HTTP/1.1 404") and answers.count(b"HTTP/1.1 200") == 1, answers[:600]
        past_the_route = (  # one chunk past the route's cap, under the state's: refused before it is read
            b"POST /api/projects/1/experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer phx_x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nbb8\r\n{"
        )
        head, body = exchange(port, past_the_route, wrap)
        assert head.startswith(b"HTTP/1.1 413") and body["detail"] == "Request body exceeds the limit of 1000 bytes."
        # the path as PATH_INFO has it (decoded once): /__admin/%73tate is not the state's route
        encoded = b"PUT /__admin/%2573tate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3000\r\n\r\n{"
        started = time.monotonic()
        assert raw(port, encoded, wrap).startswith(b"HTTP/1.1 4") and time.monotonic() - started < 5
        # 100 Continue invites only a body the route reads
        invited = (
            b"PUT /__admin/state HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: 2000\r\n\r\n"
        )
        with wrap(socket.create_connection(("127.0.0.1", port), timeout=10)) as sock:
            sock.sendall(invited)
            assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        refused = invited.replace(b"/__admin/state", b"/__admin/faults").replace(b"PUT", b"POST")
        assert raw(port, refused, wrap).startswith(b"HTTP/1.1 413")  # no 100 Continue before it
    finally:
        assert _stop(proc) == 0


HOLDOUT = b'{"name": "Two lengths", "filters": [{"properties": [], "rollout_percentage": 10}]}'
HEALTH = b"GET /__admin/health HTTP/1.1\r\nConnection: close\r\n"
REFUSED = [  # each was answered 2xx by cheroot as it comes
    HEALTH + b"Host: evil.example\r\nHost: 127.0.0.1\r\n\r\n",  # the last Host was kept
    b"POST /api/projects/1/experiment_holdouts/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer phx_x\r\n"
    b"Content-Type: application/json\r\nConnection: close\r\nContent-Length: 2\r\nContent-Length: %d\r\n\r\n"
    % len(HOLDOUT)
    + HOLDOUT,  # the last length was used, and the holdout created
    HEALTH + b"Host : 127.0.0.1\r\n\r\n",  # whitespace before the colon
    HEALTH + b"Host: 127.0.0.1\r\nX-Odd: a\x00b\r\n\r\n",
    HEALTH + b"Host: 127.0.0.1\r\nX-\x00Odd: ab\r\n\r\n",
    b"GET /__admin/health HTTP/1.1\r\n X-Folded: 1\r\nHost: 127.0.0.1\r\n\r\n",  # a fold first: cheroot's 500
    HEALTH + b"Host: 127.0.0.1\r\nX-A: 1\r\n  folded\r\n\r\n",
    HEALTH + b"Host: 127.0.0.1\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",  # past 256 KiB: read whole
]


def test_serve_over_https_refuses_what_plain_http_refuses_and_drops_as_told(tmp_path: Path) -> None:
    """`mockserver serve` over HTTPS (cheroot): headers HTTP forbids were read as cheroot likes them
    (the last Host or Content-Length kept, any size), and a dropped-connection fault answered 500."""
    proc, url, _lines = _serve("--tls", "self-signed", "--tls-dir", str(tmp_path))
    ca = str(tmp_path / "ca.pem")
    context = ssl.create_default_context(cafile=ca)
    port = int(url.rsplit(":", 1)[1])

    def wrap(sock: Any) -> Any:
        return context.wrap_socket(sock, server_hostname="127.0.0.1")

    try:
        for request in REFUSED:
            try:
                answer = raw(port, request, wrap)
            except (ConnectionResetError, ssl.SSLError):
                answer = b"(closed while sending)"  # headers past the limit: closed before all were sent
            assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 413", b"HTTP/1.1 431", b"(closed")), (
                request[:80],
                answer[:300],
            )
        holdouts = requests.get(url + "/api/projects/1/experiment_holdouts/", headers=PH_KEY, verify=ca, timeout=10)
        assert "Two lengths" not in {h["name"] for h in holdouts.json()["results"]}

        trailed = (  # a chunked body's trailer is read with it, not as the next request
            b"POST /__admin/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n"
            b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        answers = raw(port, trailed, wrap)
        assert answers.count(b"HTTP/1.1 200") == 2 and b"400" not in answers.split(b"\r\n")[0], answers[:400]

        rule = {"operation_id": "getFeatureFlags", "drop_connection": True, "times": 1}
        assert requests.post(url + "/__admin/faults", json=rule, verify=ca, timeout=10).status_code == 201
        request = b"GET /api/v2/flags/default HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: api-x\r\n\r\n"
        try:
            answer = raw(port, request, wrap)
        except (ConnectionResetError, ssl.SSLError):
            answer = b""
        assert answer == b""  # closed without a byte (was a 500 from cheroot)
        again = requests.get(url + "/api/v2/flags/default", headers={"Authorization": "api-x"}, verify=ca, timeout=10)
        assert again.status_code == 200  # the rule fired once
        journal = requests.get(url + "/__admin/requests", verify=ca, timeout=10).json()["requests"]
        assert [e.get("dropped") for e in journal if e["operation_id"] == "getFeatureFlags"] == [True, False]
    finally:
        assert _stop(proc) == 0


def raw(port: int, request: bytes, wrap: Any) -> bytes:
    with wrap(socket.create_connection(("127.0.0.1", port), timeout=10)) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer
