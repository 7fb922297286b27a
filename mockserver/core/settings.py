"""One Settings object, filled from CLI flags and MOCKSERVER_* environment variables.

Each setting is declared once, here (vendor-specific ones on their vendor, see
``mockserver.core.registry.Option``): its type, default and help text feed the dataclass, the
``mockserver serve`` flags and the environment variables alike. Values given as strings (from
the environment, or ``Settings(now="2030-01-01T00:00:00Z")``) are parsed the way the CLI parses
them; a value of the wrong type is refused at construction with a message naming the setting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from mockserver.core.clock import parse_instant
from mockserver.core.registry import option_defaults, options
from mockserver.upstream.forwarder import parse_upstreams

STATE_PATH = "/__admin/state"  # the one route whose bodies may reach --max-state-bytes

RESPONSE_VALIDATION_MODES = ("strict", "warn", "off")
LOG_FORMATS = ("text", "json")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
MiB = 1024 * 1024


def _help(text: str, *, env: bool = True, cli: bool = True, choices: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {"help": text, "env": env, "cli": cli, "choices": choices}


@dataclass
class Settings:
    host: str = field(default="127.0.0.1", metadata=_help("address to bind"))
    port: int = field(default=8010, metadata=_help("port; 0 picks a free one"))
    seed: int = field(default=42, metadata=_help("seed of the generated world"))
    now: datetime | None = field(default=None, metadata=_help("freeze the clock at this ISO 8601 instant"))
    response_validation: str = field(
        default="strict",
        metadata=_help(
            "what to do when the mock's own response breaks its contract", choices=RESPONSE_VALIDATION_MODES
        ),
    )
    # False only for the benchmark baseline: handlers then trust the client
    request_validation: bool = field(default=True, metadata=_help("", env=False, cli=False))
    strict_auth: bool = field(
        default=False, metadata=_help("refuse API keys that were not registered through /__admin/api-keys")
    )
    max_body_bytes: int = field(default=MiB, metadata=_help("largest request body accepted (default 1 MiB)"))
    max_state_bytes: int = field(
        default=64 * MiB, metadata=_help("largest state document PUT /__admin/state accepts (default 64 MiB)")
    )
    fixture: str | None = field(
        default=None, metadata=_help("start from a named fixture (see `mockserver fixtures`) or a fixture file")
    )
    state_file: str | None = field(
        default=None, metadata=_help("keep the state in this SQLite file: loaded at start, saved with every change")
    )
    journal_size: int = field(default=1000, metadata=_help("requests kept in the journal"))
    latency: tuple[int, int] | None = field(
        default=None, metadata=_help("delay every vendor response by MIN-MAX ms, e.g. 50-200")
    )
    no_auth: bool = field(
        default=False, metadata=_help("treat vendor requests without credentials as a full-access key")
    )
    cors_origins: str = field(
        default="local",
        metadata=_help(
            'origins allowed to read vendor answers: "local" (pages on this machine, default), '
            'a comma-separated list of scheme://host[:port], "*" or "off"'
        ),
    )
    cors_headers: str = field(default="", metadata=_help("extra request headers browsers may send, comma-separated"))
    cors_credentials: bool = field(
        default=False, metadata=_help("allow cookies and credentials in CORS requests (needs listed origins)")
    )
    allowed_hosts: str = field(
        default="",
        metadata=_help('Host names to answer besides loopback and the bound address, comma-separated; "*" for any'),
    )
    admin_api: bool = field(default=True, metadata=_help("serve the control API /__admin (health is always served)"))
    admin_token: str | None = field(
        default=None,
        metadata=_help(
            "token every /__admin call must carry; generated and printed when binding a non-loopback address, "
            'unless "none"'
        ),
    )
    admin_origins: str = field(
        default="", metadata=_help("browser origins allowed to call /__admin besides the server's own")
    )
    log_format: str = field(default="text", metadata=_help("access log format", choices=LOG_FORMATS))
    upstream: str = field(
        default="",
        metadata=_help(
            "proxy-and-verify: VENDOR=URL,... forwards those vendors to the real services and checks their "
            "answers against our contract, e.g. posthog=https://us.posthog.com"
        ),
    )
    upstream_fallback: bool = field(
        default=False, metadata=_help("forward vendor requests the mock does not serve as well")
    )
    upstream_timeout: float = field(default=30.0, metadata=_help("seconds for one upstream answer"))
    record: str | None = field(
        default=None, metadata=_help("write what the upstreams answered to this state document (a fixture)")
    )
    tls: str | None = field(
        default=None, metadata=_help("serve HTTPS with a generated local CA and certificate", choices=("self-signed",))
    )
    tls_cert: str | None = field(default=None, metadata=_help("serve HTTPS with this PEM certificate (chain) file"))
    tls_key: str | None = field(default=None, metadata=_help("the PEM private key of --tls-cert"))
    tls_dir: str | None = field(
        default=None, metadata=_help("where --tls self-signed keeps its CA and certificate (~/.cache/mockserver/tls)")
    )
    threads: int = field(default=8, metadata=_help("worker threads of the server"))
    connection_limit: int = field(default=512, metadata=_help("open connections the server accepts at once"))
    channel_timeout: int = field(default=30, metadata=_help("seconds an idle or stalled connection is kept open"))
    # Vendor settings, by "<vendor>_<option>" (declared on the vendor, see mockserver.core.registry).
    options: dict[str, Any] = field(default_factory=dict, metadata=_help("", env=False, cli=False))

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and f.name not in _TEXT:
                try:
                    setattr(self, f.name, coerce(f.name, value))
                except ValueError as exc:
                    raise ValueError(f"{f.name}: {exc}") from None
            _check_type(f.name, getattr(self, f.name))
        if isinstance(self.admin_token, str) and not self.admin_token.strip():
            # An empty token (an unset compose variable: MOCKSERVER_ADMIN_TOKEN=) is no token given:
            # as an empty value it could never be sent, and the control API would lock everyone out.
            self.admin_token = None
        if self.response_validation not in RESPONSE_VALIDATION_MODES:
            raise ValueError(
                f"response_validation must be one of {', '.join(RESPONSE_VALIDATION_MODES)}, "
                f"not {self.response_validation!r}"
            )
        if self.log_format not in LOG_FORMATS:
            raise ValueError(f"log_format must be one of {', '.join(LOG_FORMATS)}, not {self.log_format!r}")
        if not self.host.strip():
            raise ValueError("host must be an address or a name, not empty")
        if not 0 <= self.seed <= MAX_SEED:  # what /__admin/reset takes: a start seed must be one too
            raise ValueError(f"seed must be between 0 and {MAX_SEED}, not {self.seed}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {self.port}")
        for name in ("max_body_bytes", "max_state_bytes", "journal_size", "threads", "connection_limit"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.channel_timeout < 1:
            raise ValueError("channel_timeout must be at least 1 second")
        if self.latency is not None and not 0 <= self.latency[0] <= self.latency[1]:
            raise ValueError(f"latency must be MIN-MAX milliseconds with 0 <= MIN <= MAX, not {self.latency}")
        if self.no_auth and self.strict_auth:
            raise ValueError("no_auth and strict_auth contradict each other; choose one")
        parse_upstreams(self.upstream)  # ValueError naming the culprit
        if not self.upstream and (self.record or self.upstream_fallback):
            raise ValueError("record and upstream_fallback need upstream (VENDOR=URL,...)")
        if not 0 < self.upstream_timeout <= 3600:
            raise ValueError(f"upstream_timeout must be between 0 and 3600 seconds, not {self.upstream_timeout}")
        if self.tls not in (None, "", "self-signed"):
            raise ValueError(f"tls must be 'self-signed' (or give tls_cert and tls_key), not {self.tls!r}")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: give both")
        if self.tls and self.tls_cert:
            raise ValueError("choose tls=self-signed or tls_cert/tls_key, not both")

    def option(self, key: str) -> Any:
        """A vendor setting (``launchdarkly_require_beta``): as given, else the vendor's default."""
        if key in self.options:
            return self.options[key]
        return option_defaults().get(key)

    @property
    def scheme(self) -> str:
        return "https" if self.tls or self.tls_cert else "http"

    @property
    def largest_body_cap(self) -> int:
        """The most any route reads: PUT /__admin/state takes whole exports (--max-state-bytes)."""
        return max(self.max_body_bytes, self.max_state_bytes) if self.admin_api else self.max_body_bytes

    def body_cap(self, path: str) -> int:
        """The most a route of ``path`` (a decoded PATH_INFO) reads: PUT /__admin/state takes whole
        exports. Servers apply it before reading a body, the app again as it reads one."""
        return self.largest_body_cap if path.rstrip("/") == STATE_PATH else self.max_body_bytes

    @property
    def binds_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")

    @property
    def effective_admin_token(self) -> str | None:
        """The token the control API demands: None when there is none."""
        if self.admin_token is None or self.admin_token.strip().lower() == "none":
            return None
        return self.admin_token


_TEXT = {
    "host",
    "response_validation",
    "fixture",
    "state_file",
    "cors_origins",
    "cors_headers",
    "allowed_hosts",
    "admin_token",
    "admin_origins",
    "log_format",
    "upstream",
    "record",
    "tls",
    "tls_cert",
    "tls_key",
    "tls_dir",
}
MAX_SEED = 2**63 - 1  # seeds are 64-bit signed integers in every spec that takes one
_INTS = {"port", "seed", "max_body_bytes", "max_state_bytes", "journal_size", "threads", "connection_limit"}
_INTS |= {"channel_timeout"}
_BOOLS = {"request_validation", "strict_auth", "no_auth", "cors_credentials", "admin_api", "upstream_fallback"}
_FLOATS = {"upstream_timeout"}


def _check_type(name: str, value: Any) -> None:
    wanted: tuple[type, ...] | None = None
    if name in _INTS:
        wanted = (int,)
    elif name in _BOOLS:
        wanted = (bool,)
    elif name in _TEXT:
        wanted = (str, type(None))
    elif name == "now":
        wanted = (datetime, type(None))
    elif name in _FLOATS:
        wanted = (int, float)
    if wanted and (not isinstance(value, wanted) or (int in wanted and isinstance(value, bool))):
        raise ValueError(f"{name} must be {' or '.join(t.__name__ for t in wanted)}, not {value!r}")


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


def parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word not in _TRUE + _FALSE:
        raise ValueError(f"must be one of {', '.join(w for w in _TRUE + _FALSE if w)}, not {raw!r}")
    return word in _TRUE


def coerce(name: str, raw: str) -> object:
    """A setting from its text form, as the CLI and the environment give it."""
    if name in _INTS:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"must be an integer, not {raw!r}") from None
    if name == "latency":
        return parse_latency(raw)
    if name in _FLOATS:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"must be a number, not {raw!r}") from None
    if name in ("fixture", "state_file", "record", "tls", "tls_cert", "tls_key", "tls_dir"):
        return raw.strip() or None
    if name in _BOOLS:
        return parse_bool(raw)
    if name == "now":
        return parse_instant(raw) if raw.strip() else None
    return raw


def setting_fields() -> list[Any]:
    """The settings the CLI and the environment may set."""
    return [f for f in fields(Settings) if f.metadata.get("cli", True)]


def env_overrides(environ: dict[str, str] | None = None, flagged: Iterable[str] = ()) -> dict[str, object]:
    """Settings named by MOCKSERVER_<FIELD> variables, e.g. MOCKSERVER_PORT=8011 (vendor options too).

    ``flagged``: settings a command-line flag gives; their variables are not read at all, so a
    flag wins over a variable even when the variable's value is unusable."""
    environ = dict(os.environ if environ is None else environ)
    skipped = set(flagged)
    out: dict[str, object] = {}
    for f in fields(Settings):
        key = "MOCKSERVER_" + f.name.upper()
        if key in environ and f.metadata.get("env", True) and f.name not in skipped:
            try:
                out[f.name] = coerce(f.name, environ[key])
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
    vendor_values: dict[str, object] = {}
    for option in options():
        key = "MOCKSERVER_" + option.key.upper()
        if key in environ and option.key not in skipped:
            try:
                vendor_values[option.key] = option.parse(environ[key])
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
    if vendor_values:
        out["options"] = vendor_values
    return out


def build(values: dict[str, Any]) -> Settings:
    """Settings from keyword values where vendor options may appear by name (``launchdarkly_require_beta``).

    Unknown names raise TypeError listing the known ones.
    """
    known = {f.name for f in fields(Settings)}
    vendor = {o.key: o for o in options()}
    core: dict[str, Any] = {}
    extra: dict[str, Any] = dict(values.get("options") or {})
    for key, value in values.items():
        if key == "options":
            continue
        if key in known:
            core[key] = value
        elif key in vendor:
            extra[key] = vendor[key].parse(value) if isinstance(value, str) else value
        else:
            names = ", ".join(sorted((known | set(vendor)) - {"options", "request_validation"}))
            raise TypeError(f"unknown setting {key!r}; settings are: {names}")
    return Settings(**core, options=extra)
