"""Operation ids named in control-API calls (journal filters, fault rules): one check, one message."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from mockserver.core.problems import Problem

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime


def check_operation_id(runtime: Runtime, wanted: str) -> None:
    """Refuse an operationId no vendor serves: a typo would match nothing (and pass an assertion or
    never fire). The refusal suggests the near names, and says how a path glob is written."""
    known = {op for vendor in runtime.vendors for op in vendor.contract.raw_operations}
    if wanted in known:
        return
    message = f"no vendor operation is called {wanted!r}"
    close = difflib.get_close_matches(wanted, sorted(known), n=3, cutoff=0.6)
    if close:
        message += f"; did you mean {' or '.join(repr(name) for name in close)}?"
    if "/" in wanted or "*" in wanted:
        message += " (a path glob starts with /)"
    raise Problem("bad_request", message, attr="operation_id")
