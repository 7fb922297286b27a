"""Vendor requests in progress, so a reset or a state load never lands before one still running.

A request whose client gave up (a read timeout, in process or over HTTP) goes on in its thread as a
server's would: it sleeps through ``--latency`` or a fault's delay, then writes and is journaled.
Left alone, that write would land after the next test's reset, in a world it was never meant for.
``settle()`` cuts short the delays of every request that arrived before it and waits for them to
finish, so their writes land in the old world and the reset then wipes them.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time

log = logging.getLogger("mockserver")

# Hurried requests finish within milliseconds; past this the reset goes on without them (well
# within the control client's own 10 s timeout, so the reset still answers).
SETTLE_S = 3.0


class InFlight:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._active: set[int] = set()
        self._ids = itertools.count(1)
        self._hurry = threading.Event()  # set by the next settle(): the delays of requests seen so far end

    def enter(self) -> tuple[int, threading.Event]:
        """A request arrives: its token, and the event that cuts its delays short."""
        with self._cond:
            token = next(self._ids)
            self._active.add(token)
            return token, self._hurry

    def leave(self, token: int) -> None:
        with self._cond:
            self._active.discard(token)
            self._cond.notify_all()

    def settle(self, timeout: float = SETTLE_S) -> bool:
        """Hurry the requests in progress and wait until they have finished (newer ones are not
        waited for). False when one is still running after ``timeout`` seconds."""
        with self._cond:
            if not self._active:
                return True
            waiting = set(self._active)
            self._hurry.set()
            self._hurry = threading.Event()
            deadline = time.monotonic() + timeout
            while waiting & self._active:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning(
                        "%d request(s) still running after %g s; going on without them",
                        len(waiting & self._active),
                        timeout,
                    )
                    return False
                self._cond.wait(remaining)
            return True

    def __len__(self) -> int:
        with self._cond:
            return len(self._active)


def pause(seconds: float, hurry: threading.Event | None) -> None:
    """Sleep for a configured delay, ending early when a reset hurries the request along."""
    if hurry is None:
        time.sleep(seconds)
    else:
        hurry.wait(seconds)
