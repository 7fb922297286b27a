"""One Settings object, filled from CLI flags and MOCKSERVER_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from datetime import datetime

from mockserver.clock import parse_instant

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
    max_body_bytes: int = 1024 * 1024
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


def _coerce(name: str, raw: str) -> object:
    if name in ("port", "seed", "max_body_bytes"):
        return int(raw)
    if name in ("strict_auth", "request_validation"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
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
            out[f.name] = _coerce(f.name, environ[key])
    return out
