"""CORS for the vendor APIs (and, only when asked for, the control API).

The default admits browser pages served from this machine (``http(s)://localhost``,
``127.0.0.1`` and ``[::1]`` on any port). ``*`` must be asked for in so many words, and an origin
is never echoed unless it was allowed. Preflights are answered here, before auth or any contract
check, as the vendors' own edges do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

LOCAL_ORIGIN = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$", re.IGNORECASE)
METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
MAX_AGE = "600"


def parse_origins(text: str) -> tuple[str, ...] | str:
    """``local`` (default), ``*``, ``off``, or a comma-separated list of exact origins.

    An origin is ``scheme://host[:port]`` with nothing after it: anything else is a ValueError at
    start-up, since a browser never sends such a value and the setting would silently match nothing.
    """
    words = [w.strip() for w in text.split(",") if w.strip()]
    if not words or words == ["local"]:
        return "local"
    if words in (["*"], ["off"]):
        return words[0]
    out = []
    for word in words:
        if word == "local":
            out.append(word)
            continue
        out.append(exact_origin(word, "CORS origin"))
    return tuple(out)


def exact_origin(word: str, what: str) -> str:
    """``scheme://host[:port]`` as a browser sends it in ``Origin``, lower-cased; a ValueError for
    anything else (``localhost:5173`` would be accepted and never match)."""
    parts = urlsplit(word)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{what} {word!r} needs a scheme and a host, e.g. http://{word.split('/')[0] or 'localhost:3000'}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{what} {word!r} must be scheme://host[:port] with no path")
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass
class CorsPolicy:
    origins: tuple[str, ...] | str
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    credentials: bool = False

    @classmethod
    def from_settings(
        cls, origins: str, extra_headers: Iterable[str], expose: Iterable[str], allow: Iterable[str], credentials: bool
    ) -> CorsPolicy:
        parsed = parse_origins(origins)
        if credentials and parsed == "*":
            raise ValueError("--cors-credentials cannot be combined with --cors-origins '*': list the origins")
        return cls(parsed, tuple(dict.fromkeys([*allow, *extra_headers])), tuple(dict.fromkeys(expose)), credentials)

    @property
    def enabled(self) -> bool:
        return self.origins != "off"

    def why_refused(self, origin: str) -> str | None:
        """None when ``origin`` may read answers; otherwise the reason, for the log."""
        if self.origins == "off":
            return "CORS is off (--cors-origins off)"
        if self.origins == "*":
            return None
        allowed = self.origins if isinstance(self.origins, tuple) else ("local",)
        if origin.lower() in allowed or ("local" in allowed and LOCAL_ORIGIN.match(origin)):
            return None
        hint = ""
        if LOCAL_ORIGIN.match(origin):
            hint = " (note that localhost and 127.0.0.1 are different origins)"
        return f"origin {origin!r} is not in --cors-origins{hint}"

    def preflight(self, request: Request) -> tuple[Response, str | None]:
        """The answer to a preflight, and the refusal reason when the origin is not allowed."""
        origin = request.headers.get("Origin", "")
        reason = self.why_refused(origin)
        response = Response(status=200)
        response.headers["Vary"] = "Origin"
        if reason is not None:
            response.status_code = 403
            return response, reason
        self._allow(response, origin)
        response.headers["Access-Control-Allow-Methods"] = METHODS
        asked = request.headers.get("Access-Control-Request-Headers", "")
        allowed = {h.lower() for h in self.allow_headers}
        wanted = [h.strip() for h in asked.split(",") if h.strip()]
        refused = [h for h in wanted if h.lower() not in allowed]
        if refused:
            return response, f"request header(s) {', '.join(refused)} not allowed (add them with --cors-headers)"
        response.headers["Access-Control-Allow-Headers"] = ", ".join(self.allow_headers)
        response.headers["Access-Control-Max-Age"] = MAX_AGE
        return response, None

    def decorate(self, request: Request, response: Response) -> str | None:
        """Add the headers a browser needs to read ``response``; the refusal reason otherwise."""
        origin = request.headers.get("Origin")
        if origin is None:
            return None
        response.vary.add("Origin")
        reason = self.why_refused(origin)
        if reason is None:
            self._allow(response, origin)
            response.headers["Access-Control-Expose-Headers"] = ", ".join(self.expose_headers)
        return reason

    def _allow(self, response: Response, origin: str) -> None:
        response.headers["Access-Control-Allow-Origin"] = "*" if self.origins == "*" else origin
        if self.credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"


def is_preflight(request: Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
