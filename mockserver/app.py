"""create_app(settings): one straight line per request.

auth → contract check of the request → vendor handler (rules and state) → contract check of
the response. Auth comes first because the real services authenticate before they parse a body.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from typing import Any

import orjson
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mockserver.core.contract import parse_json
from mockserver.core.problems import MockContractViolation, Problem
from mockserver.core.runtime import Runtime
from mockserver.core.settings import Settings
from mockserver.core.vendor import Call, Reply, Vendor

log = logging.getLogger("mockserver")
_PARAM = re.compile(r"{([^}]+)}")
JSON_TYPE = "application/json"
REPLAY_FLAG = "mockserver.replay_user"


def flask_rule(spec_path: str) -> str:
    return _PARAM.sub(lambda m: f"<{m.group(1)}>", spec_path)


def dump_json(body: Any) -> bytes:
    """Compact UTF-8 JSON; orjson encodes a page of experiments ~10x faster than the stdlib.

    The stdlib takes what orjson refuses (integers beyond 64 bits that a client sent and a record
    kept), so any JSON-able body still renders.
    """
    try:
        return orjson.dumps(body)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _header_safe(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\r", " ").replace("\n", " ")


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    runtime = Runtime(settings)
    app = Flask("mockserver")
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, JSON_SORT_KEYS=False, DEBUG=False)
    app.extensions["mockserver"] = runtime

    for vendor in runtime.vendors:
        for operation_id, handler in vendor.handlers.items():
            method, path, _op, _item = vendor.contract.raw_operations[operation_id]
            app.add_url_rule(
                flask_rule(path),
                endpoint=f"{vendor.name}.{operation_id}",
                view_func=_view(runtime, vendor, operation_id, handler),
                methods=[method],
                strict_slashes=False,
            )

    from mockserver.admin import blueprint as admin_blueprint

    app.register_blueprint(admin_blueprint)
    from mockserver.console.views import blueprint as console_blueprint

    app.register_blueprint(console_blueprint)
    for vendor in runtime.vendors:
        if vendor.admin is not None:
            app.register_blueprint(vendor.admin)
    _install_hooks(app, runtime)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        vendor = runtime.vendor_for_path(request.path)
        if vendor is None:
            body = {"error": exc.name.lower().replace(" ", "_"), "detail": exc.description, "field": None}
            response = Response(dump_json(body), status=exc.code or 500, mimetype=JSON_TYPE)
            if isinstance(exc, NotFound) and not request.path.startswith("/__admin"):
                response.headers["X-Mock-Nearest-Path"] = _nearest(runtime.vendors, request.path)
            return response
        if isinstance(exc, MethodNotAllowed):
            problem = Problem("method_not_allowed", f'Method "{request.method}" not allowed.')
        elif isinstance(exc, RequestEntityTooLarge):
            problem = Problem("too_large", f"Request body exceeds the limit of {settings.max_body_bytes} bytes.")
        elif isinstance(exc, NotFound):
            problem = Problem("not_found", "Not found.", extra={"nearest": _nearest([vendor], request.path)})
        else:
            problem = Problem("validation", exc.description or exc.name)
        status, body = vendor.render(problem)
        response = Response(dump_json(body), status=status, mimetype=JSON_TYPE)
        nearest = problem.extra.get("nearest")
        if nearest:
            response.headers["X-Mock-Nearest-Path"] = nearest
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        runtime.record_server_error(exc)
        log.exception("unhandled error in %s %s", request.method, request.path)
        vendor = runtime.vendor_for_path(request.path)
        problem = Problem("server_error", "A server error occurred.")
        status, body = vendor.render(problem) if vendor else (500, {"error": "server_error"})
        return Response(dump_json(body), status=status, mimetype=JSON_TYPE)

    return app


def _install_hooks(app: Flask, runtime: Runtime) -> None:
    """Journal, admin contract, CORS/latency/no-auth, faults (before_request runs in this order)."""
    from mockserver import faults, frontend, journal
    from mockserver.admin import validation

    journal.install(app, runtime)
    validation.install(app, runtime)
    frontend.install(app, runtime)
    faults.install(app, runtime)

    @app.after_request
    def _persist(response: Response) -> Response:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            runtime.persist()
        return response

    app.wsgi_app = faults.DropConnection(app.wsgi_app)  # type: ignore[method-assign]


def _shape(path: str) -> str:
    """A path with its ids and template parameters folded to {} so only the fixed words compare."""
    return "/".join("{}" if seg.startswith("{") or seg.isdigit() else seg for seg in path.strip("/").split("/"))


def _nearest(vendors: list[Vendor], path: str) -> str:
    """The documented path most like an unmatched one (a typo in a word, a missing or extra segment)."""
    wanted = _shape(path)
    paths = {spec_path for v in vendors for _m, spec_path, _o, _i in v.contract.raw_operations.values()}
    return max(sorted(paths), key=lambda candidate: difflib.SequenceMatcher(None, wanted, _shape(candidate)).ratio())


def _view(runtime: Runtime, vendor: Vendor, operation_id: str, handler):
    contract = vendor.contract
    mode = runtime.settings.response_validation
    check_requests = runtime.settings.request_validation

    def view(**path_args: str) -> Response:
        # Bodies are rendered straight from the state, sharing its nested values instead of deep
        # copies; they are checked and encoded before the lock lets a write change those values.
        with runtime.store.lock:
            reply = _answer(path_args)
            problems: list[str] = []
            if mode != "off":
                problems = contract.response_problems(
                    operation_id, reply.status, JSON_TYPE if reply.body is not None else None, reply.body
                )
                g.mock_violations = problems
                if problems and mode == "strict":
                    log.error("contract violation in %s: %s", operation_id, problems)
                    detail = f"The mock's {reply.status} response for {operation_id} breaks its contract: {problems[0]}"
                    runtime.record_server_error(MockContractViolation(detail, problems))  # surfaces in the test
                    status, body = vendor.render(Problem("contract_violation", detail, extra={"violations": problems}))
                    reply = Reply(status, body)
            data = b"" if reply.body is None else dump_json(reply.body)
        response = Response(data, status=reply.status, mimetype=JSON_TYPE if reply.body is not None else None)
        if reply.body is None:
            response.headers.pop("Content-Type", None)
        if vendor.headers is not None:
            vendor.headers(runtime, request, reply)  # may add to reply.headers, copied next
        for key, value in reply.headers.items():
            response.headers[key] = value
        if problems and mode == "warn":
            response.headers["X-Mock-Contract-Violations"] = _header_safe(" | ".join(problems))[:4000]
        return response

    def _answer(path_args: dict[str, str]) -> Reply:
        try:
            identity = vendor.authenticate(runtime, request, operation_id, path_args)
            body = request.get_data(cache=True)
            valid = contract.validate_request(
                operation_id, path_args, request.args, request.headers, request.content_type, body, check_requests
            )
            with runtime.store.lock:
                call = Call(
                    runtime,
                    request,
                    valid,
                    identity,
                    runtime.store.data[vendor.name],
                    approved=REPLAY_FLAG in request.environ,
                )
                try:
                    return handler(call)
                finally:
                    if request.method not in ("GET", "HEAD", "OPTIONS"):
                        runtime.store.touch()
        except Problem as problem:
            problem = _explain(problem) or problem
            g.mock_problem = problem  # for the request journal
            status, payload = vendor.render(problem)
            return Reply(status, payload, dict(problem.headers))
        except RequestEntityTooLarge:
            status, payload = vendor.render(
                Problem("too_large", f"Request body exceeds the limit of {runtime.settings.max_body_bytes} bytes.")
            )
            return Reply(status, payload)

    def _explain(problem: Problem) -> Problem | None:
        if vendor.explain is None or problem.kind != "validation":
            return None
        body: Any = None
        if problem.extra.get("location") == "body":
            try:
                body = parse_json(request.get_data(cache=True))
            except (ValueError, RecursionError):
                return None
        return vendor.explain(operation_id, problem, body)

    view.__name__ = f"{vendor.name}_{operation_id}"
    return view
