"""The Forwarder on its own, against tiny loopback servers: headers, redirects, time and size bounds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from mockserver.upstream import Forwarder, UpstreamError, parse_upstreams
from mockserver.upstream.forwarder import request_headers, response_headers, safe_path
from tests.conftest import make_settings


class Echo(BaseHTTPRequestHandler):
    """Answers with what it received; some paths misbehave on purpose."""

    protocol_version = "HTTP/1.1"
    seen: list[dict] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body.decode(),
        }
        type(self).seen.append(record)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.2:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/slow"):
            time.sleep(3)
        payload = b"x" * (2 * 1024 * 1024) if self.path.startswith("/huge") else json.dumps(record).encode()
        if self.path.startswith("/cut"):  # announces more than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'{"partial": ')
            self.wfile.flush()
            self.close_connection = True
            return
        encoding = None
        if self.path.startswith(("/gzip", "/bomb", "/brotli")):  # compressed although identity was asked for
            import gzip

            encoding = "br" if self.path.startswith("/brotli") else "gzip"
            payload = gzip.compress(b"0" * (4 * 1024 * 1024) if self.path.startswith("/bomb") else payload)
            if self.path.startswith("/gzip-cut"):
                payload = payload[: len(payload) // 2]
            elif self.path.startswith("/gzip-twice"):
                payload += gzip.compress(b" ")
        self.send_response(200)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "keep-alive, X-Hop")
        self.send_header("X-Hop", "hop-by-hop by Connection")
        self.send_header("Keep-Alive", "timeout=5")
        self.send_header("Set-Cookie", "session=vendor")
        self.send_header("X-Vendor", "kept")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = do_HEAD = _answer


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the size test hangs up on purpose


@pytest.fixture
def echo() -> Iterator[str]:
    Echo.seen = []
    server = _Server(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_headers_pass_end_to_end_and_hop_by_hop_ones_stop(echo: str) -> None:
    forwarder = Forwarder(parse_upstreams(f"posthog={echo}/base"))
    sent = [
        ("Authorization", "Bearer phx_user_key"),
        ("Content-Type", "application/json"),
        ("X-Custom", "kept"),
        ("Connection", "keep-alive, X-Private"),
        ("X-Private", "named by Connection"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Authorization", "Basic c2VjcmV0"),
        ("TE", "trailers"),
        ("Upgrade", "h2c"),
        ("Cookie", "local=1"),
        ("Host", "evil.example"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Mock-Anything", "local"),
    ]
    reply = forwarder.forward("posthog", "POST", "/api/things/", "a=1&b=2", sent, b'{"x":1}')
    got = json.loads(reply.body)
    assert got["path"] == "/base/api/things/?a=1&b=2"
    assert got["body"] == '{"x":1}'
    names = {k.lower(): v for k, v in got["headers"].items()}
    assert names["authorization"] == "Bearer phx_user_key"
    assert names["x-custom"] == "kept"
    assert names["host"] == echo.removeprefix("http://")
    assert names["accept-encoding"] == "identity"
    for gone in (
        "x-private",
        "keep-alive",
        "proxy-authorization",
        "te",
        "upgrade",
        "cookie",
        "x-forwarded-host",
        "x-mock-anything",
    ):
        assert gone not in names, gone
    back = {k.lower() for k, _v in reply.headers}
    assert "x-vendor" in back and "content-type" in back
    assert not back & {"connection", "keep-alive", "x-hop", "set-cookie", "content-length"}
    assert reply.url == f"{echo}/base/api/things/?a=1&b=2"


def test_redirects_are_returned_not_followed(echo: str) -> None:
    forwarder = Forwarder(parse_upstreams(f"posthog={echo}"))
    reply = forwarder.forward("posthog", "GET", "/redirect", "", [], b"")
    assert reply.status == 302
    assert ("Location", "http://127.0.0.2:9/elsewhere") in reply.headers
    assert [s["path"] for s in Echo.seen] == ["/redirect"]


def test_time_and_size_are_bounded(echo: str) -> None:
    forwarder = Forwarder(parse_upstreams(f"posthog={echo}"), timeout=0.5, max_bytes=1024 * 1024)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as slow:
        forwarder.forward("posthog", "GET", "/slow", "", [], b"")
    assert slow.value.status == 504 and time.monotonic() - started < 2.5
    with pytest.raises(UpstreamError) as huge:
        Forwarder(parse_upstreams(f"posthog={echo}"), max_bytes=1024 * 1024).forward(
            "posthog", "GET", "/huge", "", [], b""
        )
    assert huge.value.status == 502 and "larger than" in huge.value.detail


def test_nothing_reaches_a_host_that_was_not_configured(echo: str) -> None:
    forwarder = Forwarder(parse_upstreams(f"posthog={echo}"))
    for path in ("//127.0.0.2:9/x", "/http://127.0.0.2:9/x", "/@127.0.0.2/x"):
        assert forwarder.target("posthog", path).startswith(echo + "/")
    assert forwarder.target("posthog", "/a\r\nHost: x").endswith("/a%0D%0AHost:%20x")  # encoded, never a header
    for bad in ("/a/../b", "/a/%2e%2e/b", "/a/./b", "/a/%2E%2E"):
        with pytest.raises(UpstreamError) as refused:
            forwarder.forward("posthog", "GET", bad, "", [], b"")
        assert refused.value.status == 400
    with pytest.raises(UpstreamError):
        forwarder.forward("launchdarkly", "GET", "/x", "", [], b"")  # not configured
    with pytest.raises(UpstreamError) as method:
        forwarder.forward("posthog", "CONNECT", "/x", "", [], b"")
    assert method.value.status == 405
    assert Echo.seen == []
    nobody = Forwarder(parse_upstreams("posthog=http://127.0.0.1:9"), timeout=2)
    with pytest.raises(UpstreamError) as down:
        nobody.forward("posthog", "GET", "/x", "", [], b"")
    assert down.value.status == 502


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("posthog", "VENDOR=URL"),
        ("posthog=ftp://example.test", "http:// or https://"),
        ("posthog=https://user:pw@example.test", "credentials"),
        ("posthog=https://example.test/?x=1", "query or fragment"),
        ("posthog=https://", "no host"),
        ("posthog=https://a.test,posthog=https://b.test", "twice"),
    ],
)
def test_upstream_settings_are_checked(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_upstreams(text)
    with pytest.raises(ValueError, match=message):
        make_settings(upstream=text)


def test_record_needs_an_upstream_and_vendors_must_exist() -> None:
    from mockserver.app import create_app

    with pytest.raises(ValueError, match="need upstream"):
        make_settings(record="x.json")
    with pytest.raises(ValueError, match="unknown vendor"):
        create_app(make_settings(upstream="statsig=https://api.statsig.test"))


def test_unit_helpers() -> None:
    assert safe_path("/api/projects/1/experiments/") == "/api/projects/1/experiments/"
    assert safe_path("/api/flags/a b") == "/api/flags/a%20b"
    assert request_headers([("Connection", "close")]) == [("Accept-Encoding", "identity")]
    assert response_headers([("Transfer-Encoding", "chunked"), ("ETag", "x")]) == [("ETag", "x")]


def test_an_unreachable_upstream_answers_502_in_the_vendors_envelope() -> None:
    from mockserver.server import MockServer

    with MockServer(make_settings(upstream="posthog=http://127.0.0.1:9,launchdarkly=http://127.0.0.1:9")) as proxy:
        ph = requests.get(
            proxy.url + "/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_k"}, timeout=10
        )
        assert ph.status_code == 502
        assert set(ph.json()) >= {"type", "code", "detail"}
        ld = requests.get(
            proxy.url + "/api/v2/projects/default/experiments", headers={"Authorization": "api-k"}, timeout=10
        )
        assert ld.status_code == 502
        assert set(ld.json()) >= {"code", "message"}
        assert proxy.runtime.journal.entries()[-1]["status"] == 502


def test_the_no_auth_placeholder_never_goes_upstream_but_real_keys_do(echo: str) -> None:
    from mockserver.server import MockServer

    with MockServer(make_settings(upstream=f"posthog={echo}", no_auth=True)) as proxy:
        keyless = requests.get(proxy.url + "/api/projects/1/experiments/", timeout=10)
        assert "authorization" not in {k.lower() for k in keyless.json()["headers"]}
        keyed = requests.get(
            proxy.url + "/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_mine"}, timeout=10
        )
        assert {k.lower(): v for k, v in keyed.json()["headers"].items()}["authorization"] == "Bearer phx_mine"
        # The echo is no PostHog: its answer is drift, reported beside it.
        assert "X-Mock-Upstream-Drift" in keyed.headers


def test_flags_and_environment_variables_fill_the_settings() -> None:
    from mockserver.cli import _parser, settings_from
    from mockserver.core.settings import env_overrides

    args = _parser().parse_args(
        [
            "serve",
            "--upstream",
            "posthog=https://ph.example.test",
            "--upstream-fallback",
            "--upstream-timeout",
            "5",
            "--record",
            "rec.json",
            "--tls",
            "self-signed",
            "--tls-dir",
            "tls",
        ]
    )
    settings = settings_from(args, environ={})
    assert (settings.upstream, settings.upstream_fallback, settings.upstream_timeout) == (
        "posthog=https://ph.example.test",
        True,
        5.0,
    )
    assert (settings.record, settings.tls, settings.tls_dir, settings.scheme) == (
        "rec.json",
        "self-signed",
        "tls",
        "https",
    )
    env = env_overrides(
        {
            "MOCKSERVER_UPSTREAM": "launchdarkly=https://ld.example.test",
            "MOCKSERVER_UPSTREAM_FALLBACK": "yes",
            "MOCKSERVER_UPSTREAM_TIMEOUT": "2.5",
            "MOCKSERVER_RECORD": "",
            "MOCKSERVER_TLS_CERT": "c.pem",
            "MOCKSERVER_TLS_KEY": "k.pem",
        }
    )
    assert env == {
        "upstream": "launchdarkly=https://ld.example.test",
        "upstream_fallback": True,
        "upstream_timeout": 2.5,
        "record": None,
        "tls_cert": "c.pem",
        "tls_key": "k.pem",
    }
    with pytest.raises(ValueError, match="MOCKSERVER_UPSTREAM_TIMEOUT"):
        env_overrides({"MOCKSERVER_UPSTREAM_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="upstream_timeout"):
        make_settings(upstream="posthog=https://ph.example.test", upstream_timeout=0)


def test_a_body_compressed_against_the_request_is_decoded_within_the_bound(echo: str) -> None:
    """Asked for identity, an upstream may still gzip: the body comes back readable (the header goes),
    a decoded body over the size bound is refused, and an encoding with no decoder is a 502."""
    forwarder = Forwarder(parse_upstreams(f"posthog={echo}"), max_bytes=1024 * 1024)
    reply = forwarder.forward("posthog", "GET", "/gzip", "", [], b"")
    assert json.loads(reply.body)["path"] == "/gzip"
    assert not any(k.lower() == "content-encoding" for k, _v in reply.headers)
    assert json.loads(forwarder.forward("posthog", "GET", "/gzip-twice", "", [], b"").body)["path"] == "/gzip-twice"
    for path, said in (
        ("/bomb", "larger than 1048576 bytes once decoded"),
        ("/brotli", "'br'"),
        ("/gzip-cut", "gzip body that ends early"),
    ):
        with pytest.raises(UpstreamError, match=said) as refused:
            forwarder.forward("posthog", "GET", path, "", [], b"")
        assert refused.value.status == 502


def test_an_answer_cut_short_is_a_502_not_a_partial_body(echo: str) -> None:
    forwarder = Forwarder(parse_upstreams(f"posthog={echo}"))
    with pytest.raises(UpstreamError, match="closed the connection 988 bytes before the end") as cut:
        forwarder.forward("posthog", "GET", "/cut", "", [], b"")
    assert cut.value.status == 502
