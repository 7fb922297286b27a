"""The one source of "now": real time, optionally frozen or shifted, so tests can pin it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant; a naive value is taken as UTC."""
    value = datetime.fromisoformat(text.strip())
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"instant out of range: {text!r}") from None


def iso(value: datetime) -> str:
    """Render like Django REST framework does: ISO 8601 with a trailing Z for UTC."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# Mock time stays where date arithmetic (deadlines, epoch milliseconds, +N days) cannot overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def check_range(value: datetime) -> None:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"mock time must stay between {EARLIEST.year} and {LATEST.year}, not {value.isoformat()}")


class Clock:
    """Frozen when given an instant, otherwise real time plus an offset."""

    def __init__(self, frozen: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen
        self._offset = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    @property
    def offset(self) -> timedelta:
        """How far a running clock has been advanced past real time."""
        return self._offset

    def freeze(self, at: datetime | None = None) -> None:
        if at is not None:
            check_range(at)
        with self._lock:
            self._frozen = at or (datetime.now(UTC) + self._offset)

    def advance(self, delta: timedelta) -> None:
        """ValueError when the move would leave the supported range (later arithmetic would overflow)."""
        with self._lock:
            current = self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset
            try:
                check_range(current + delta)
            except OverflowError:
                raise ValueError(f"the clock cannot move by {delta}") from None
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def restorer(self) -> Callable[[], None]:
        """A function that puts the clock back as it is now (undoing a failed request's move)."""
        with self._lock:
            frozen, offset = self._frozen, self._offset

        def restore() -> None:
            with self._lock:
                self._frozen, self._offset = frozen, offset

        return restore

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)
