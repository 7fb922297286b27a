"""/__admin/requests: the request journal, filterable, clearable."""

from __future__ import annotations

from flask import Response, request

from mockserver.admin import blueprint, reply, runtime


@blueprint.get("/requests")
def list_requests() -> Response:
    """Oldest first; ``limit`` keeps the newest N of the matches."""
    rt = runtime()
    args = request.args
    status = args.get("status")
    entries = rt.journal.entries(
        method=args.get("method"),
        path=args.get("path"),
        operation_id=args.get("operation_id"),
        status=int(status) if status is not None else None,
    )
    total = len(entries)
    limit = args.get("limit")
    if limit is not None:
        entries = entries[-int(limit) :] if int(limit) else []
    return reply({"requests": entries, "total": total, "capacity": rt.journal.capacity, "dropped": rt.journal.dropped})


@blueprint.delete("/requests")
def clear_requests() -> Response:
    runtime().journal.clear()
    return reply(None, 204)
