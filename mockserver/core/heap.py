"""The cyclic garbage collector and a large state: build it without the collector, then keep it out of its way.

The state is acyclic JSON data, freed by reference counting alone, yet CPython's cyclic collector
walks every container it tracks. Building a large structure (a parsed 100 MB state document, the
tracked copy of an imported state) triggers a full pass every time the survivors grow by a
quarter, each walking all that was built so far; and once built, every later full pass walks it
again (~0.3 s per pass with 10,000 experiments, seen as latency spikes). ``bulk()`` pauses
automatic collection while such a structure is built and then freezes it (``gc.freeze()``): full
passes skip frozen objects, and reference counting still frees them when they are dropped.

Freezing keeps whatever is alive at that moment out of every later pass, so garbage cycles are
collected first, before the build, while the heap holds nothing large that is not frozen already.
Only cycles that are alive then and die later (another thread's request in flight) are never
collected: a few objects per bulk build.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
SETTLE_AFTER_S = 0.003  # a full collection slower than this freezes its survivors (see settle_growth)
_depth = 0  # bulk builds under way, in any thread
_resume = False  # whether automatic collection was on when the first of them began


@contextmanager
def bulk(freeze: bool = True) -> Iterator[None]:
    """Build something large without automatic collection; freeze what is alive once it is built.

    Nested and concurrent builds share one pause: collection resumes, and the heap is frozen,
    when the last of them ends. Nothing is frozen after a failed build (its traceback holds
    cycles that must stay collectable).
    """
    global _depth, _resume
    with _lock:
        if _depth == 0:
            if freeze:
                gc.collect()
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    ok = False
    try:
        yield
        ok = True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if ok and freeze:
                    gc.freeze()
                if _resume:
                    gc.enable()


class _Settler:
    """Freeze the survivors of a full collection that took longer than ``threshold`` seconds."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.began = 0.0
        self.freezes = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self.began = time.perf_counter()
        elif time.perf_counter() - self.began > self.threshold:
            # Right after a full pass the younger generations are empty: what is frozen is exactly
            # what survived it, no garbage waiting to be collected.
            gc.freeze()
            self.freezes += 1


_settler: _Settler | None = None


def settle_growth(threshold: float = SETTLE_AFTER_S) -> None:
    """From now on, a full collection that was slow freezes what survived it (the serving process only).

    A server whose state grows by thousands of records (a load test creating experiments) gets full
    passes that walk all of it, each longer than the last: tens of ms, seen as the p99 of every
    write. Freezing after a slow pass means each object is walked by at most one slow pass, and
    later passes see only what was built since. The price is the one ``bulk`` pays: cycles alive
    at that moment that die later are never collected; passes are only slow after the heap grew
    by tens of thousands of objects, so that is a few objects per such growth, not per request.
    """
    global _settler
    with _lock:
        if _settler is None:
            _settler = _Settler(threshold)
            gc.callbacks.append(_settler)
        else:
            _settler.threshold = threshold


def stop_settling() -> None:
    global _settler
    with _lock:
        if _settler is not None:
            gc.callbacks.remove(_settler)
            _settler = None
