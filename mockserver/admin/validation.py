"""The control API keeps its own contract (specs/admin.yaml), checked like the vendors'.

Admin routes are ordinary Flask views; these hooks find each request's operation by its URL
rule, validate it with the same compiled fast path the vendors use, and check the response on
the way out. Errors use the admin envelope ``{"error", "detail", "field"}``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from mockserver.core.contract import Contract
from mockserver.core.problems import Problem

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime

log = logging.getLogger("mockserver")
PREFIX = "/__admin"
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    500: "server_error",
}


def envelope(status: int, detail: str, field: str | None = None, error: str | None = None) -> Response:
    body = {"error": error or _ERROR_CODES.get(status, "error"), "detail": detail, "field": field}
    return Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")


STATE_MAX_BYTES = 256 * 1024 * 1024  # PUT /__admin/state: a state with ~100,000 experiments


def spec_path(rule: str) -> str:
    """``/__admin/faults/<int:fault_id>`` -> ``/__admin/faults/{fault_id}``."""
    return _CONVERTER.sub(lambda m: "{" + m.group(1) + "}", rule)


def install(app: Flask, runtime: Runtime) -> None:
    contract = Contract("admin")
    by_route = {(path, method): op_id for op_id, (method, path, _op, _item) in contract.raw_operations.items()}
    mode = runtime.settings.response_validation

    def operation_id() -> str | None:
        rule = request.url_rule
        if rule is None or not request.path.startswith(PREFIX):
            return None
        return by_route.get((spec_path(rule.rule), request.method))

    def exempt(op_id: str | None) -> bool:
        # Health is what orchestrators poll during start-up: it must not wait for the first schema
        # compile (~0.2 s of imports). Its shape is still checked by the test suite's spec checks.
        return op_id == "health"

    @app.before_request
    def _check_admin_request() -> Response | None:
        if not request.path.startswith(PREFIX) or request.method == "OPTIONS":
            return None
        op_id = operation_id()
        if exempt(op_id):
            return None
        if op_id == "putState":  # an export must import back whatever its size
            request.max_content_length = max(STATE_MAX_BYTES, runtime.settings.max_body_bytes)
        if op_id is None:
            if request.url_rule is not None:
                log.error("admin route %s %s is missing from specs/admin.yaml", request.method, request.url_rule)
                return envelope(
                    500,
                    f"{request.method} {request.url_rule} is not in specs/admin.yaml",
                    error="mock_contract_violation",
                )
            return None
        args = {k: str(v) for k, v in (request.view_args or {}).items()}
        try:
            contract.validate_request(
                op_id, args, request.args, request.headers, request.content_type, request.get_data(cache=True)
            )
        except Problem as problem:
            status = 415 if problem.kind == "unsupported_media_type" else 400
            path = problem.extra.get("path")
            field = ".".join(str(p) for p in path) if path else problem.attr
            return envelope(status, problem.detail, field)
        return None

    @app.after_request
    def _check_admin_response(response: Response) -> Response:
        if mode == "off" or not request.path.startswith(PREFIX) or request.method == "OPTIONS":
            return response
        op_id = operation_id()
        if op_id is None or exempt(op_id):
            return response
        body = None
        if response.mimetype == "application/json" and response.data:
            body = json.loads(response.get_data())
        problems = contract.response_problems(
            op_id, response.status_code, response.mimetype or None if response.data else None, body
        )
        if not problems:
            return response
        log.error("admin contract violation in %s: %s", op_id, problems)
        if mode == "strict":
            return envelope(
                500,
                f"The mock's {response.status_code} response for {op_id} breaks its contract: {problems[0]}",
                error="mock_contract_violation",
            )
        response.headers["X-Mock-Contract-Violations"] = " | ".join(problems)[:4000]
        return response
