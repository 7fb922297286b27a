"""/__admin/clock: freeze at an instant, advance by a duration, back to real time."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Response

from mockserver.admin import blueprint, json_body, problem, reply, runtime
from mockserver.core.clock import iso, parse_instant

_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_SHORT = re.compile(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds", "ms": "milliseconds"}


def parse_duration(text: str) -> timedelta:
    """ISO 8601 (``PT1H30M``, ``P2D``) or shorthand (``90s``, ``1h30m``, ``2d``); may start with ``-``."""
    raw = text.strip()
    sign = -1 if raw.startswith("-") else 1
    raw = raw.lstrip("+-")
    match = _ISO.match(raw.upper())
    if match and raw.upper() not in ("P", "PT"):
        parts = {k: float(v) for k, v in match.groupdict().items() if v}
        return sign * timedelta(**parts)
    pieces = _SHORT.findall(raw.lower())
    if pieces and "".join(n + u for n, u in pieces) == raw.lower():
        total = timedelta()
        for number, unit in pieces:
            total += timedelta(**{_UNITS[unit]: float(number)})
        return sign * total
    raise ValueError(f"not a duration: {text!r} (use seconds, PT1H30M or 1h30m)")


def _clock() -> dict:
    clock = runtime().clock
    return {"now": iso(clock.now()), "frozen": clock.frozen}


@blueprint.get("/clock")
def get_clock() -> Response:
    return reply(_clock())


@blueprint.post("/clock/freeze")
def freeze() -> Response:
    """Freeze at ``at`` (ISO 8601), or at the current mock time when absent."""
    body, error = json_body()
    if error:
        return error
    at = None
    if body.get("at") is not None:
        try:
            at = parse_instant(body["at"])
        except ValueError:
            return problem(400, f"at must be an ISO 8601 instant, not {body['at']!r}", "at")
    try:
        runtime().clock.freeze(at)
    except ValueError as exc:
        return problem(400, str(exc), "at")
    return reply(_clock())


@blueprint.post("/clock/advance")
def advance() -> Response:
    """Move the clock by ``seconds`` or ``duration``; a frozen clock stays frozen."""
    body, error = json_body()
    if error:
        return error
    if ("seconds" in body) == ("duration" in body):
        return problem(400, "give exactly one of seconds or duration", "seconds")
    field = "seconds" if "seconds" in body else "duration"
    try:
        delta = timedelta(seconds=body["seconds"]) if field == "seconds" else parse_duration(body["duration"])
        runtime().clock.advance(delta)
    except (ValueError, OverflowError) as exc:
        return problem(400, str(exc), field)
    return reply(_clock())


@blueprint.post("/clock/unfreeze")
def unfreeze() -> Response:
    runtime().clock.unfreeze()
    return reply(_clock())
