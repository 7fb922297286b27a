"""/__admin/requests: the request journal, filterable, clearable."""

from __future__ import annotations

from mockserver.admin.operations import check_operation_id
from mockserver.core.vendor import Call, Reply


def list_requests(call: Call) -> Reply:
    """Oldest first; ``limit`` keeps the newest N of the matches. An unknown operationId is refused
    (as fault rules refuse it): a typo would otherwise match nothing and pass an assertion."""
    journal = call.runtime.journal
    query = call.query
    wanted = query.get("operation_id")
    if wanted:
        check_operation_id(call.runtime, wanted, query.get("method"))
    entries = journal.entries(
        method=query.get("method"),
        path=query.get("path"),
        operation_id=query.get("operation_id"),
        status=query.get("status"),
        contract_refusal=query.get("contract_refusal"),
        after=query.get("after"),
    )
    total = len(entries)
    limit = query.get("limit")
    if limit is not None:
        entries = entries[-limit:] if limit else []
    return Reply(200, {"requests": entries, "total": total, "capacity": journal.capacity, "dropped": journal.dropped})


def clear_requests(call: Call) -> Reply:
    call.runtime.journal.clear()
    return Reply(204)


HANDLERS = {"listRequests": list_requests, "clearRequests": clear_requests}


def get_coverage(call: Call) -> Reply:
    contracts = {vendor.name: vendor.contract for vendor in call.runtime.vendors}
    return Reply(200, call.runtime.coverage.report(contracts))


def clear_coverage(call: Call) -> Reply:
    call.runtime.coverage.clear()
    return Reply(204)


HANDLERS = {**HANDLERS, "getCoverage": get_coverage, "clearCoverage": clear_coverage}
