"""What PostHog handlers read off a call: team, user, body, the approval gate, DRF's list page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.core.pagination import paginate, with_query
from mockserver.core.vendor import Call, Reply
from mockserver.vendors.posthog import approvals

DEFAULT_LIMIT = 100


def team(call: Call) -> int:
    return call.identity.team_id


def user(call: Call) -> int:
    return call.identity.user_id


def body(call: Call) -> dict[str, Any]:
    """The JSON body without the credential PostHog also accepts there."""
    data = call.body if isinstance(call.body, dict) else {}
    return {k: v for k, v in data.items() if k != "personal_api_key"}


def gate(call: Call) -> approvals.Gate:
    """The approval gate for this request, carrying enough of it to replay once approved."""
    intent = {
        "operation_id": call.valid.operation.operation_id,
        "method": call.request.method,
        "path": call.request.path,
        "query_string": call.request.query_string.decode("latin-1"),
        "body": call.body if call.valid.has_body else None,
        "http_method": call.request.method,  # PostHog records it in every intent
    }
    return approvals.Gate(call.state, team(call), user(call), call.now, intent, call.approved)


def page(call: Call, rows: list[Any], render: Callable[[Any], Any]) -> dict[str, Any]:
    """DRF's LimitOffsetPagination: count, absolute next/previous links, results. As DRF, a limit
    below 1 falls back to the default and a negative offset to 0 (they are not refused)."""
    limit = call.query.get("limit", DEFAULT_LIMIT)
    limit = limit if limit > 0 else DEFAULT_LIMIT
    offset = max(call.query.get("offset", 0), 0)
    chunk = paginate(rows, limit, offset)
    results = [render(r) for r in chunk.items]
    base = call.request.base_url
    args = list(call.request.args.items(multi=True))
    nxt = with_query(base, args, limit=limit, offset=chunk.next_offset) if chunk.next_offset is not None else None
    prev = None
    if chunk.previous_offset is not None:
        prev = (
            with_query(base, args, limit=limit, offset=chunk.previous_offset)
            if chunk.previous_offset
            else with_query(base, [(k, v) for k, v in args if k != "offset"], limit=limit)
        )
    return {"count": chunk.total, "next": nxt, "previous": prev, "results": results}


def remembered_rows(call: Call, name: str, compute: Callable[[], list[Any]]) -> list[Any]:
    """A list's filtered and sorted rows until the next write, keyed by the query (paging aside)."""
    query = tuple(sorted((k, str(v)) for k, v in call.query.items() if k not in ("limit", "offset")))
    return call.runtime.store.memo((name, team(call), query), compute)


# The WSGI environ keys a request's URL is built from (cheaper to read than ``request.base_url``).
URL_ENVIRON = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING")


def remembered_page(call: Call, rows: Callable[[], list[Any]], render: Callable[[Any], Any], memo_key: Any) -> Reply:
    """A page that renders the same until the next write, remembered with its contract verdict.

    The key adds what the page's links are built from (the request's URL) to ``memo_key``.
    """
    key = (memo_key, *(call.request.environ.get(name) for name in URL_ENVIRON))
    return Reply(200, call.runtime.store.memo(key, lambda: page(call, rows(), render)), memo=key)
