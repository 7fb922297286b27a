"""LaunchDarkly collections: limit/offset pages with self, first, last, next and prev links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from mockserver.core.pagination import Page, paginate
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid


def _href(path: str, args: list[tuple[str, str]], **updates: Any) -> str:
    kept = [(k, v) for k, v in args if k not in updates] + [(k, str(v)) for k, v in updates.items()]
    return f"{path}?{urlencode(kept)}" if kept else path


def page(
    rows: Sequence[Any], path: str, args: list[tuple[str, str]], limit: int, offset: int, max_limit: int | None = None
) -> tuple[Page, dict[str, Any]]:
    """The page and its links; paging links appear once there is more than one page."""
    if limit < 1 or offset < 0:
        raise invalid("limit must be at least 1 and offset at least 0")
    if max_limit is not None and limit > max_limit:
        raise invalid(f"limit may be at most {max_limit}")
    found = paginate(rows, limit, offset)
    args = [(k, v) for k, v in args if k not in ("limit", "offset")]
    links = {"self": m.link(_href(path, args, limit=limit, offset=offset))}
    if found.total > limit or offset:
        last = max(0, (found.total - 1) // limit * limit)
        links["first"] = m.link(_href(path, args, limit=limit, offset=0))
        links["last"] = m.link(_href(path, args, limit=limit, offset=last))
        if found.next_offset is not None:
            links["next"] = m.link(_href(path, args, limit=limit, offset=found.next_offset))
        if found.previous_offset is not None:
            links["prev"] = m.link(_href(path, args, limit=limit, offset=found.previous_offset))
    return found, links
