"""/__admin/clock: freeze at an instant, advance by a duration, back to real time."""

from __future__ import annotations

import re
from datetime import timedelta

from mockserver.core.clock import iso, parse_instant
from mockserver.core.problems import Problem
from mockserver.core.tracked import CLOCK_ROW
from mockserver.core.vendor import Call, Reply

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


def _clock(call: Call) -> Reply:
    clock = call.runtime.clock
    return Reply(200, {"now": iso(clock.now()), "frozen": clock.frozen})


def _undoable(call: Call) -> None:
    """A clock move is part of the request's transaction: a failed request puts the clock back."""
    tx = call.runtime.store.in_transaction
    if tx is not None:
        tx.log(call.runtime.clock.restorer(), CLOCK_ROW)


def get_clock(call: Call) -> Reply:
    return _clock(call)


def freeze(call: Call) -> Reply:
    """Freeze at ``at`` (ISO 8601), or at the current mock time when absent."""
    body = call.body or {}
    at = None
    if body.get("at") is not None:
        try:
            at = parse_instant(body["at"])
        except ValueError:
            raise Problem("bad_request", f"at must be an ISO 8601 instant, not {body['at']!r}", attr="at") from None
    _undoable(call)
    try:
        call.runtime.clock.freeze(at)
    except ValueError as exc:
        raise Problem("bad_request", str(exc), attr="at") from None
    return _clock(call)


def advance(call: Call) -> Reply:
    """Move the clock by ``seconds`` or ``duration``; a frozen clock stays frozen."""
    body = call.body or {}
    if ("seconds" in body) == ("duration" in body):
        raise Problem("bad_request", "give exactly one of seconds or duration", attr="seconds")
    field = "seconds" if "seconds" in body else "duration"
    _undoable(call)
    try:
        delta = timedelta(seconds=body["seconds"]) if field == "seconds" else parse_duration(body["duration"])
        call.runtime.clock.advance(delta)
    except OverflowError:  # Python's own words ("int too large to convert to C int") say nothing here
        raise Problem("bad_request", f"{body[field]!r:.40} moves the clock beyond year 9999", attr=field) from None
    except ValueError as exc:
        raise Problem("bad_request", str(exc), attr=field) from None
    return _clock(call)


def unfreeze(call: Call) -> Reply:
    _undoable(call)
    call.runtime.clock.unfreeze()
    return _clock(call)


HANDLERS = {
    "getClock": get_clock,
    "freezeClock": freeze,
    "advanceClock": advance,
    "unfreezeClock": unfreeze,
}
