"""Limit/offset slicing shared by the vendors; each vendor shapes its own envelope around it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        if self.offset <= 0:
            return None
        return max(self.offset - self.limit, 0)


def paginate(items: Sequence[T], limit: int, offset: int) -> Page:
    return Page(list(items[offset : offset + limit]), len(items), limit, offset)


def with_query(base_url: str, args: list[tuple[str, str]], **updates: Any) -> str:
    """Rebuild a URL keeping the caller's other query arguments, as DRF's pagination does."""
    kept = [(k, v) for k, v in args if k not in updates]
    for key, value in updates.items():
        if value is not None:
            kept.append((key, str(value)))
    return f"{base_url}?{urlencode(kept)}" if kept else base_url
