"""The documented path most like one that matched nothing: the hint in 404s and the journal."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable

MAX_PATH = 512  # longer paths are cut: the hint's cost stays flat whatever the client sends
MAX_SEGMENTS = 16


def _shape(path: str) -> str:
    """A path with its ids and template parameters folded to {} so only the fixed words compare."""
    segments = path.strip("/").split("/")[:MAX_SEGMENTS]
    return "/".join("{}" if seg.startswith("{") or seg.isdigit() else seg[:64] for seg in segments)


class Nearest:
    def __init__(self, paths: Iterable[str]) -> None:
        self._candidates = sorted({(_shape(p), p) for p in paths})

    def __call__(self, path: str) -> str | None:
        return self._best(path[:MAX_PATH]) if self._candidates else None

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one instance per app, bounded
    def _best(self, path: str) -> str:
        wanted = _shape(path)
        best = max(self._candidates, key=lambda c: difflib.SequenceMatcher(None, wanted, c[0], autojunk=False).ratio())
        return best[1]
