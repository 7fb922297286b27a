"""Settings that may change while the server runs: artificial latency and no-auth.

Plain functions on a ``Settings`` object, so the control API (``/__admin/settings``) and any
other caller share one set of checks. Every value is checked before the first one changes.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.settings import Settings

MAX_LATENCY_MS = 60_000  # a worker thread sleeps that long: keep the server responsive
CHANGEABLE = ("latency_ms", "no_auth")


class SettingsError(ValueError):
    def __init__(self, field: str, detail: str, conflict: bool = False) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail
        self.conflict = conflict  # the value is fine, the server's start-up settings forbid it


def current(settings: Settings) -> dict[str, Any]:
    return {
        "latency_ms": list(settings.latency) if settings.latency is not None else None,
        "no_auth": settings.no_auth,
        "strict_auth": settings.strict_auth,
    }


def _latency(value: Any) -> tuple[int, int] | None:
    """``null`` (none), ``N`` (fixed) or ``[MIN, MAX]`` milliseconds, as whole numbers."""
    if value is None:
        return None
    bounds = [value, value] if not isinstance(value, list) else value
    whole = [_whole(b) for b in bounds]
    if len(whole) != 2 or None in whole:
        raise SettingsError("latency_ms", "latency_ms must be null, a whole number of milliseconds or [MIN, MAX]")
    low, high = whole
    if not 0 <= low <= high <= MAX_LATENCY_MS:
        raise SettingsError("latency_ms", f"latency_ms needs 0 <= MIN <= MAX <= {MAX_LATENCY_MS}, not {whole}")
    return None if high == 0 else (low, high)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


def update(settings: Settings, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply the named settings (all or none) and return the settings now in force."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise SettingsError(unknown[0], f"{unknown[0]} cannot change at run time; these can: {', '.join(CHANGEABLE)}")
    latency = _latency(changes["latency_ms"]) if "latency_ms" in changes else settings.latency
    no_auth = changes.get("no_auth", settings.no_auth)
    if type(no_auth) is not bool:
        raise SettingsError("no_auth", "no_auth must be true or false")
    if no_auth and settings.strict_auth:
        raise SettingsError("no_auth", "no_auth contradicts --strict-auth, which this server runs with", conflict=True)
    settings.latency = latency
    settings.no_auth = no_auth
    return current(settings)
