"""/__admin/faults: rules that delay, fail or drop matching vendor requests."""

from __future__ import annotations

from mockserver.admin.operations import check_operation_id
from mockserver.core.faults import FaultError
from mockserver.core.problems import Problem
from mockserver.core.vendor import Call, Reply

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _undoable(call: Call) -> None:
    """Fault rules live beside the store: a failed request puts them back too."""
    tx = call.runtime.store.in_transaction
    if tx is not None:
        tx.log(call.runtime.faults.restorer(), None)


def add_fault(call: Call) -> Reply:
    _undoable(call)
    body = call.body
    method = body.get("method")
    if isinstance(method, str) and method.upper() not in HTTP_METHODS:
        raise Problem("bad_request", f"method must be one of {', '.join(HTTP_METHODS)}", attr="method")
    if body.get("operation_id") is not None:
        check_operation_id(call.runtime, body["operation_id"], method if isinstance(method, str) else None)
    try:
        rule = call.runtime.faults.add(body)
    except FaultError as exc:
        raise Problem("bad_request", exc.detail, attr=exc.field) from None
    return Reply(201, rule)


def list_faults(call: Call) -> Reply:
    return Reply(200, {"faults": call.runtime.faults.list()})


def clear_faults(call: Call) -> Reply:
    _undoable(call)
    call.runtime.faults.clear()
    return Reply(204)


def delete_fault(call: Call) -> Reply:
    fault_id = call.path["fault_id"]
    _undoable(call)
    if not call.runtime.faults.remove(fault_id):
        raise Problem("not_found", f"no fault {fault_id}")
    return Reply(204)


HANDLERS = {
    "addFault": add_fault,
    "listFaults": list_faults,
    "clearFaults": clear_faults,
    "deleteFault": delete_fault,
}
