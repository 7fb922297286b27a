"""Health, reset and API keys."""

from __future__ import annotations

from typing import Any

from mockserver.core import auth
from mockserver.core.problems import Problem
from mockserver.core.vendor import Call, Reply
from mockserver.version import __version__


def health(call: Call) -> Reply:
    """Liveness for orchestrators: nothing here is secret (no token, no key, no state)."""
    rt = call.runtime
    return Reply(
        200,
        {
            "status": "ok",
            "version": __version__,
            "seed": rt.store.seed,
            "vendors": [v.name for v in rt.vendors],
            "now": rt.clock.now().isoformat(),
        },
    )


def reset(call: Call) -> Reply:
    """State, clock, faults and journal back to the start; ``{"seed": 7}`` switches the seed."""
    body = call.body or {}
    call.runtime.reset(body.get("seed"))
    return Reply(200, {"status": "reset", "seed": call.runtime.store.seed})


def list_keys(call: Call) -> Reply:
    return Reply(200, {"keys": list(auth.registry(call.state).values())})


def add_key(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    vendors = {v.name: v for v in call.runtime.vendors}
    vendor = vendors.get(body.get("vendor"))  # type: ignore[arg-type]
    if vendor is None:
        raise Problem("bad_request", f"vendor must be one of: {', '.join(vendors)}", attr="vendor")
    key = body.get("key")
    if not isinstance(key, str) or not key.strip() or len(key) > 512:
        raise Problem("bad_request", "key must be a non-empty string of at most 512 characters", attr="key")
    grant = vendor.grant(body)
    record = auth.register(call.state, vendor.name, key, grant)
    return Reply(201, record)


def clear_keys(call: Call) -> Reply:
    auth.registry(call.state).clear()
    return Reply(204)


def server_errors(call: Call) -> Reply:
    """Errors raised inside the server (each answered a 500), numbered from 1 since start; ``after``
    keeps the newer ones. A test runner asks after each test, so a test that caused one fails."""
    rt = call.runtime
    after = call.query.get("after", 0)
    with rt._errors_lock:
        count = rt.server_error_count
        kept = list(rt.server_errors)
    first = count - len(kept) + 1
    rows = [
        {"number": first + i, "type": type(error).__name__, "message": str(error)[:2000]}
        for i, error in enumerate(kept)
        if first + i > after
    ]
    return Reply(200, {"count": count, "errors": rows})


HANDLERS = {
    "health": health,
    "listServerErrors": server_errors,
    "reset": reset,
    "listApiKeys": list_keys,
    "addApiKey": add_key,
    "clearApiKeys": clear_keys,
}
