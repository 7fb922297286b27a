"""One Settings object, filled from CLI flags and MOCKSERVER_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from datetime import datetime

from mockserver.core.clock import parse_instant

RESPONSE_VALIDATION_MODES = ("strict", "warn", "off")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8010
    seed: int = 42
    now: datetime | None = None
    response_validation: str = "strict"
    request_validation: bool = True  # False only for the benchmark baseline: handlers then trust the client
    strict_auth: bool = False
    launchdarkly_require_beta: bool = False
    max_body_bytes: int = 1024 * 1024
    fixture: str | None = None  # a name from fixtures/ or a path to a fixture JSON file
    state_file: str | None = None  # load at start, saved atomically after every change
    journal_size: int = 1000
    latency: tuple[int, int] | None = None  # (min, max) ms added to every vendor response
    no_auth: bool = False  # requests without credentials act as a full-access key
    cors_origins: str = "*"  # comma-separated origins, "*" for any, "off" to disable CORS
    cors_headers: str = ""  # extra request headers a browser may send, comma-separated
    cors_credentials: bool = False
    threads: int = 8  # worker threads of the production server (`mockserver serve`)
    # Proxy-and-verify: "posthog=URL,launchdarkly=URL" forwards those vendors to the real services
    upstream: str = ""
    upstream_fallback: bool = False  # operations the mock does not serve go upstream too
    upstream_timeout: float = 30.0  # seconds for one upstream answer, connect to last byte
    record: str | None = None  # write what the upstreams answered to this state document
    # HTTPS: a certificate and key (PEM), or tls="self-signed" to make a pair for local use
    tls: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_dir: str | None = None  # where tls="self-signed" keeps its CA and certificate (default: the user's cache)
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.response_validation not in RESPONSE_VALIDATION_MODES:
            raise ValueError(
                f"response_validation must be one of {', '.join(RESPONSE_VALIDATION_MODES)}, "
                f"not {self.response_validation!r}"
            )
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {self.port}")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        if isinstance(self.latency, str):
            self.latency = parse_latency(self.latency)
        if self.latency is not None and not 0 <= self.latency[0] <= self.latency[1]:
            raise ValueError(f"latency must be MIN-MAX milliseconds with 0 <= MIN <= MAX, not {self.latency}")
        if self.no_auth and self.strict_auth:
            raise ValueError("no_auth and strict_auth contradict each other; choose one")
        if self.journal_size < 1:
            raise ValueError("journal_size must be at least 1")
        if self.threads < 1:
            raise ValueError("threads must be at least 1")
        self._check_upstream()
        self._check_tls()

    def _check_upstream(self) -> None:
        if self.upstream:
            from mockserver.upstream.forwarder import parse_upstreams

            parse_upstreams(self.upstream)  # raises ValueError naming the culprit
        elif self.record or self.upstream_fallback:
            raise ValueError("record and upstream_fallback need upstream (VENDOR=URL,...)")
        if not 0 < self.upstream_timeout <= 3600:
            raise ValueError(f"upstream_timeout must be between 0 and 3600 seconds, not {self.upstream_timeout}")

    def _check_tls(self) -> None:
        if self.tls not in (None, "", "self-signed"):
            raise ValueError(f"tls must be 'self-signed' (or give tls_cert and tls_key), not {self.tls!r}")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: give both")
        if self.tls and self.tls_cert:
            raise ValueError("choose tls=self-signed or tls_cert/tls_key, not both")

    @property
    def scheme(self) -> str:
        return "https" if self.tls or self.tls_cert else "http"


def parse_latency(text: str) -> tuple[int, int] | None:
    """``"50-200"`` -> (50, 200); ``"100"`` -> (100, 100); ``""`` or ``"0"`` -> None."""
    text = text.strip()
    if not text or text == "0":
        return None
    low, sep, high = text.partition("-")
    try:
        bounds = (int(low), int(high) if sep else int(low))
    except ValueError:
        raise ValueError(f"latency must look like 50-200 or 100 (milliseconds), not {text!r}") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise ValueError(f"latency must be MIN-MAX milliseconds with 0 <= MIN <= MAX, not {text!r}")
    return bounds


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _coerce(name: str, raw: str) -> object:
    if name in ("port", "seed", "max_body_bytes", "journal_size", "threads"):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"must be an integer, not {raw!r}") from None
    if name == "latency":
        return parse_latency(raw)
    if name == "upstream_timeout":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"must be a number of seconds, not {raw!r}") from None
    if name in ("fixture", "state_file", "record", "tls", "tls_cert", "tls_key", "tls_dir"):
        return raw.strip() or None
    if name in (
        "strict_auth",
        "request_validation",
        "no_auth",
        "cors_credentials",
        "launchdarkly_require_beta",
        "upstream_fallback",
    ):
        word = raw.strip().lower()
        if word not in _TRUE + _FALSE:
            raise ValueError(f"must be one of {', '.join(w for w in _TRUE + _FALSE if w)}, not {raw!r}")
        return word in _TRUE
    if name == "now":
        return parse_instant(raw) if raw.strip() else None
    return raw


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, object]:
    """Settings named by MOCKSERVER_<FIELD> variables, e.g. MOCKSERVER_PORT=8011."""
    environ = dict(os.environ if environ is None else environ)
    out: dict[str, object] = {}
    for f in fields(Settings):
        key = "MOCKSERVER_" + f.name.upper()
        if key in environ and f.name not in ("extra", "request_validation"):
            try:
                out[f.name] = _coerce(f.name, environ[key])
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
    return out
