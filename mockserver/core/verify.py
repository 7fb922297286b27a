"""Can a state be served? Render every record and check it against the operation that would serve it.

A loaded snapshot, fixture or state file passes its JSON Schema yet may still hold a value a rule
or serializer cannot work with (a string where parameters go, an iteration without a status…).
Rendering each record once before installing turns that into a 400 naming the record, instead of a
server that answers 500 to every later read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mockserver.core.contract import Contract

# (field that names the record, operationId that serves it, render the body it would answer with);
# no operationId: a record only the control API serves, rendered to prove it can be, not contract-checked.
Check = tuple[str, str | None, Callable[[], Any]]


def first_problem(contract: Contract, checks: Iterable[Check]) -> tuple[str, str] | None:
    for field, operation_id, render in checks:
        try:
            body = render()
        except Exception as exc:  # a broken record: any error at all means it cannot be served
            text = str(exc)
            if isinstance(exc, ValueError) and text.startswith("Invalid isoformat string: "):
                return field, f"cannot be served: a date-time is not ISO 8601 ({text.split(': ', 1)[1]})"
            return field, f"cannot be served ({type(exc).__name__}: {exc})"
        if operation_id is None:
            continue
        problems = contract.response_problems(operation_id, 200, "application/json", body)
        if problems:
            return field, problems[0]
    return None
