"""Forwarding a vendor request to the real service, and nowhere else.

The target is always the configured base URL of that vendor plus the request's path: the
request's Host header, an absolute request-target or a path that looks like another authority
(``//evil.example/...``) never choose the host, because the connection is opened to the
configured host before the path is even looked at. Redirects are not followed (http.client
never does); hop-by-hop headers are dropped both ways; time and body size are bounded.
Nothing is stored here: what the caller does with the answer is its own business.
"""

from __future__ import annotations

import http.client
import re
import ssl
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

# RFC 9110 section 7.6.1, plus the proxy ones; a Connection header may name more.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Not hop-by-hop, but not the vendor's business either (local cookies, where the browser page
# lives), or recomputed here (length, host, encoding: bodies are asked for uncompressed so they
# can be validated).
_REQUEST_DROP = frozenset(
    {"host", "content-length", "cookie", "origin", "referer", "accept-encoding", "forwarded", "expect"}
)
_RESPONSE_DROP = frozenset({"content-length", "content-encoding", "set-cookie", "server", "date"})
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_PATH_OK = re.compile(r"^/[A-Za-z0-9/:@!$&'()*+,;=\-._~%]*$")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class UpstreamError(Exception):
    """The upstream could not be asked or did not answer properly; ``status`` is what to answer instead."""

    def __init__(self, detail: str, status: int = 502) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


@dataclass(frozen=True)
class Upstream:
    """One vendor's real service: scheme, host, port and an optional base path."""

    name: str
    url: str
    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, name: str, url: str) -> Upstream:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"upstream {name}: {url!r} must be an http:// or https:// URL")
        if not parts.hostname:
            raise ValueError(f"upstream {name}: {url!r} has no host")
        if parts.username or parts.password:
            raise ValueError(f"upstream {name}: credentials do not belong in the URL; send them as the client does")
        if parts.query or parts.fragment:
            raise ValueError(f"upstream {name}: {url!r} may not have a query or fragment")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ValueError(f"upstream {name}: {url!r} has an invalid port") from None
        return cls(name, url.strip().rstrip("/"), parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


def parse_upstreams(text: str | None) -> dict[str, Upstream]:
    """``"posthog=https://us.posthog.com,launchdarkly=https://app.launchdarkly.com"`` -> name -> Upstream."""
    out: dict[str, Upstream] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, url = part.partition("=")
        name = name.strip().lower()
        if not sep or not name or not url.strip():
            raise ValueError(f"upstream must look like VENDOR=URL (comma-separated), not {part!r}")
        if name in out:
            raise ValueError(f"upstream {name} is given twice")
        out[name] = Upstream.parse(name, url)
    return out


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str = ""
    elapsed_ms: float = 0.0
    content_type: str | None = field(default=None)


def _connection_named(headers: list[tuple[str, str]]) -> set[str]:
    named: set[str] = set()
    for key, value in headers:
        if key.lower() == "connection":
            named |= {token.strip().lower() for token in value.split(",") if token.strip()}
    return named


def request_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """End-to-end headers of the client's request that go on to the vendor (its credentials among them)."""
    drop = HOP_BY_HOP | _REQUEST_DROP | _connection_named(headers)
    out = [
        (k, v) for k, v in headers if k.lower() not in drop and not k.lower().startswith(("x-mock-", "x-forwarded-"))
    ]
    out.append(("Accept-Encoding", "identity"))
    return out


def response_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    drop = HOP_BY_HOP | _RESPONSE_DROP | _connection_named(headers)
    return [(k, v) for k, v in headers if k.lower() not in drop]


def safe_path(path: str) -> str:
    """The request path, percent-encoded; refuses what could step out of the base path or split a request."""
    encoded = quote(path, safe=_SAFE_PATH)
    if not _PATH_OK.match(encoded):
        raise UpstreamError(f"path {path!r} cannot be forwarded", 400)
    segments = encoded.split("/")
    if any(seg in ("..", ".") or seg.lower() in ("%2e%2e", "%2e", ".%2e", "%2e.") for seg in segments):
        raise UpstreamError(f"path {path!r} cannot be forwarded: dot segments", 400)
    return encoded


class Forwarder:
    """Forwards (method, path, query, headers, body) to the named vendor's upstream; returns its reply."""

    def __init__(
        self,
        upstreams: dict[str, Upstream],
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.upstreams = dict(upstreams)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.ssl_context = ssl_context or ssl.create_default_context()

    def __contains__(self, vendor: str) -> bool:
        return vendor in self.upstreams

    def target(self, vendor: str, path: str, query: str = "") -> str:
        """The URL a request would go to: the vendor's base URL plus the path, always."""
        upstream = self.upstreams[vendor]
        return f"{upstream.scheme}://{upstream.host}:{upstream.port}{self._request_target(upstream, path, query)}"

    @staticmethod
    def _request_target(upstream: Upstream, path: str, query: str) -> str:
        target = upstream.base_path + safe_path(path)
        if query:
            if any(c in query for c in "\r\n #") or any(ord(c) < 0x21 or ord(c) > 0x7E for c in query):
                query = quote(query, safe="=&;%+,/:@!$'()*?-._~")
            target += "?" + query
        return target

    def forward(
        self, vendor: str, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> Reply:
        upstream = self.upstreams.get(vendor)
        if upstream is None:
            raise UpstreamError(f"no upstream is configured for {vendor}", 502)
        if not re.fullmatch(r"[A-Z]{1,16}", method) or method in ("CONNECT", "TRACE"):
            raise UpstreamError(f"method {method!r} is not forwarded", 405)
        target = self._request_target(upstream, path, query)
        started = time.monotonic()
        deadline = started + self.timeout
        conn: http.client.HTTPConnection
        if upstream.scheme == "https":
            conn = http.client.HTTPSConnection(
                upstream.host, upstream.port, timeout=self.timeout, context=self.ssl_context
            )
        else:
            conn = http.client.HTTPConnection(upstream.host, upstream.port, timeout=self.timeout)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            sent = request_headers(headers)
            for key, value in sent:
                conn.putheader(key, value)
            if body or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            response = conn.getresponse()
            data = self._decoded(self._read(conn, response, deadline), response.getheader("Content-Encoding"))
            reply_headers = response_headers(list(response.getheaders()))
            return Reply(
                status=response.status,
                headers=reply_headers,
                body=data,
                url=f"{upstream.url}{target[len(upstream.base_path) :]}",
                elapsed_ms=round((time.monotonic() - started) * 1000, 3),
                content_type=response.getheader("Content-Type"),
            )
        except UpstreamError:
            raise
        except TimeoutError:
            raise UpstreamError(f"{upstream.name} upstream did not answer within {self.timeout:g}s", 504) from None
        except ssl.SSLError as exc:
            raise UpstreamError(f"{upstream.name} upstream TLS failed: {exc.reason or exc}", 502) from None
        except (OSError, http.client.HTTPException) as exc:
            raise UpstreamError(f"{upstream.name} upstream failed: {exc.__class__.__name__}: {exc}", 502) from None
        finally:
            conn.close()

    def _decoded(self, data: bytes, encoding: str | None) -> bytes:
        """The body as sent uncompressed: an upstream may compress although asked for ``identity``;
        its ``Content-Encoding`` is dropped (the body is checked and answered as JSON), so the bytes
        must be decoded here, within the same size bound. An encoding there is no decoder for is a 502."""
        coding = (encoding or "identity").strip().lower()
        if coding in ("", "identity"):
            return data
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise UpstreamError(f"upstream answered in {coding!r}, which was not asked for and cannot be read", 502)
        wbits = 16 + zlib.MAX_WBITS if coding != "deflate" else zlib.MAX_WBITS
        out = b""
        try:
            while data:  # gzip may hold several members, one after the other
                inflater = zlib.decompressobj(wbits)
                out += inflater.decompress(data, self.max_bytes + 1 - len(out))
                if len(out) > self.max_bytes:
                    raise UpstreamError(f"upstream answer is larger than {self.max_bytes} bytes once decoded", 502)
                if not inflater.eof:
                    raise UpstreamError(f"upstream answered a {coding} body that ends early", 502)
                data = inflater.unused_data
        except zlib.error as exc:
            raise UpstreamError(f"upstream answered a {coding} body that does not decode: {exc}", 502) from None
        return out

    def _read(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise UpstreamError(f"upstream answer took longer than {self.timeout:g}s", 504)
            if conn.sock is not None:
                conn.sock.settimeout(left)
            chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not chunk:
                if response.length:  # bytes of its Content-Length still owed: the upstream hung up
                    raise UpstreamError(
                        f"upstream closed the connection {response.length} bytes before the end of its answer", 502
                    )
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise UpstreamError(f"upstream answer is larger than {self.max_bytes} bytes", 502)
            chunks.append(chunk)
