"""/__admin/faults: rules that delay, fail or drop matching vendor requests."""

from __future__ import annotations

from flask import Response

from mockserver.admin import blueprint, json_body, problem, reply, runtime
from mockserver.faults import FaultError

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@blueprint.post("/faults")
def add_fault() -> Response:
    body, error = json_body()
    if error:
        return error
    known = {op for vendor in runtime().vendors for op in vendor.contract.raw_operations}
    if body.get("operation_id") is not None and body["operation_id"] not in known:
        return problem(400, f"no vendor operation is called {body['operation_id']!r}", "operation_id")
    method = body.get("method")
    if isinstance(method, str) and method.upper() not in HTTP_METHODS:
        return problem(400, f"method must be one of {', '.join(HTTP_METHODS)}", "method")
    try:
        rule = runtime().faults.add(body)
    except FaultError as exc:
        return problem(400, exc.detail, exc.field)
    return reply(rule, 201)


@blueprint.get("/faults")
def list_faults() -> Response:
    return reply({"faults": runtime().faults.list()})


@blueprint.delete("/faults")
def clear_faults() -> Response:
    runtime().faults.clear()
    return reply(None, 204)


@blueprint.delete("/faults/<int:fault_id>")
def delete_fault(fault_id: int) -> Response:
    if not runtime().faults.remove(fault_id):
        return problem(404, f"no fault {fault_id}")
    return reply(None, 204)
