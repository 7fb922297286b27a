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
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
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
