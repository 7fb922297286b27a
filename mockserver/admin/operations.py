"""Operation ids named in control-API calls (journal filters, fault rules): one check, one message."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from mockserver.core.problems import Problem

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime


def check_operation_id(runtime: Runtime, wanted: str, method: str | None = None) -> None:
    """Refuse an operationId no vendor serves, or one named with a method it is not served by: either
    would match nothing (and pass an assertion or never fire). The refusal suggests the near names,
    and says how a path glob is written."""
    served = {op: found[:2] for vendor in runtime.vendors for op, found in vendor.contract.raw_operations.items()}
    known = set(served)
    if wanted in known:
        verb, path = served[wanted]
        if method is not None and method.upper() not in (verb, "HEAD" if verb == "GET" else ""):
            said = f"{wanted} is {verb} {path}: a {method} request never matches it"
            raise Problem("bad_request", said, attr="method")
        return
    message = f"no vendor operation is called {wanted!r}"
    close = difflib.get_close_matches(wanted, sorted(known), n=3, cutoff=0.6)
    if close:
        message += f"; did you mean {' or '.join(repr(name) for name in close)}?"
    if "/" in wanted or "*" in wanted:
        message += " (a path glob starts with /)"
    raise Problem("bad_request", message, attr="operation_id")
