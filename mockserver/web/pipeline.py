"""The one ordered pipeline every request walks, vendor and control API alike.

    journal → guard (Host, cross-site, CORS) → route → faults → forward (--upstream) → auth →
    parse (strict JSON and the contract) → handle (a store transaction: handler → response check →
    limits → persist)

Each stage is a method ``stage(ctx, call_next) -> Response``; ``Pipeline.ORDER`` is the order,
written once. A stage refuses by raising a Problem; the journal stage, outermost, renders it in
the surface's envelope, records the request and writes the access-log line. A request that fails
anywhere inside ``handle`` (a rule, the mock's own contract, a limit, the disk) leaves the state
as it was. Approved change requests are applied by ``replay``: the same stages from ``route`` on,
marked as an approval (no faults, journaled as what they are), inside the approving request's
transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from mockserver.core.contract import parse_json
from mockserver.core.inflight import pause
from mockserver.core.journal import capped_headers, environ_headers
from mockserver.core.jsonbody import BodyError, whole_numbers
from mockserver.core.problems import MockContractViolation, Problem, kind_for_status
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import Call, Reply
from mockserver.web.context import RequestContext
from mockserver.web.cors import CorsPolicy, is_preflight
from mockserver.web.drop import DROP_KEY
from mockserver.web.guard import AdminGuard, HostGuard
from mockserver.web.nearest import Nearest
from mockserver.web.proxy import Proxy
from mockserver.web.render import JSON_TYPE, dump_json, header_safe, json_response, render_plain, reply_response
from mockserver.web.routing import OVERRIDABLE, Route, Router

log = logging.getLogger("mockserver")
access_log = logging.getLogger("mockserver.access")
Stage = Callable[[RequestContext, Callable[[], Response]], Response]
READS = ("GET", "HEAD", "OPTIONS")
_MALFORMED_HOST = "the request's Host header is not a host name or address (with an optional port)"
# A refusal from these stages means the request broke the contract (unknown path, wrong method,
# missing or bad credentials, a schema failure); a refusal from ``handle`` is a rule saying no.
CONTRACT_STAGES = ("route", "auth", "parse")


class Pipeline:
    # The order, written once.
    ORDER = ("journal", "guard", "route", "faults", "forward", "auth", "parse", "handle")
    # An approved change request: already past the guard, and no fault may fire on it.
    REPLAY_ORDER = ("journal", "route", "auth", "parse", "handle")

    def __init__(
        self,
        runtime: Runtime,
        router: Router,
        cors: CorsPolicy,
        hosts: HostGuard,
        admin: AdminGuard,
        admin_open: frozenset[str],
        unchecked: frozenset[str],
        proxy: Proxy | None = None,
        settles: frozenset[str] = frozenset(),
    ) -> None:
        self.runtime = runtime
        self.router = router
        self.cors = cors
        self.hosts = hosts
        self.admin = admin
        self.admin_open = admin_open
        self.unchecked = unchecked
        self.settles = settles
        self.proxy = proxy
        self.nearest = {s.name: Nearest(r.path for r in router.operations() if r.surface is s) for s in router.surfaces}
        self.nearest_any = Nearest(r.path for r in router.operations() if r.surface.kind == "vendor")
        self._latency_rng = random.Random(f"{runtime.settings.seed}:latency")
        self.stages: tuple[Stage, ...] = tuple(getattr(self, name) for name in self.ORDER)
        self.replay_stages: tuple[Stage, ...] = tuple(getattr(self, name) for name in self.REPLAY_ORDER)

    # -- running --------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        ctx = RequestContext(request=request, runtime=self.runtime)
        request.environ["mockserver.ctx"] = ctx
        return self._run(self.stages, ctx)

    def _run(self, stages: tuple[Stage, ...], ctx: RequestContext, index: int = 0) -> Response:
        if index == len(stages):
            raise RuntimeError("the last stage answers")
        stage = stages[index]
        try:
            return stage(ctx, lambda: self._run(stages, ctx, index + 1))
        except Problem:
            if ctx.refused_by is None:  # the innermost stage that refused: contract, auth or a rule?
                ctx.refused_by = stage.__name__
            raise

    # -- 1. journal and access log --------------------------------------------------------------

    def journal(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        """Outermost: renders any refusal, records the request, writes the access-log line.

        Every request but the control API's is counted in progress until it is journaled, so a
        reset can wait for it (``InFlight.settle``)."""
        ctx.surface = self.router.surface_for(ctx.request.path)
        if ctx.is_admin or ctx.approval is not None:
            return self._journal(ctx, call_next)
        ctx.journal_epoch = self.runtime.journal.epoch
        ctx.in_flight, ctx.hurry = self.runtime.in_flight.enter()
        try:
            return self._journal(ctx, call_next)
        finally:
            self._landed(ctx)

    def _landed(self, ctx: RequestContext) -> None:
        """The request can no longer change the state or the journal: a reset need not wait for it."""
        if ctx.in_flight is not None:
            self.runtime.in_flight.leave(ctx.in_flight)
            ctx.in_flight = None

    def _journal(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        try:
            response = call_next()
        except Problem as problem:
            response = self.problem_response(ctx, problem)
        except HTTPException as exc:  # raised by werkzeug while reading the request
            cap = ctx.request.max_content_length or self.runtime.settings.max_body_bytes  # the route's own
            response = self.problem_response(ctx, _http_problem(exc, cap))
        except Exception as exc:  # a bug in the mock: a 500 reported to the test, never a 4xx
            self.runtime.record_server_error(exc)
            log.exception("unhandled error in %s %s", ctx.request.method, ctx.request.path)
            response = self.problem_response(ctx, Problem("server_error", "A server error occurred."))
        if ctx.response_headers:  # one pass: Headers.setdefault scans the list and raises per missing name
            present = {key.lower() for key, _value in response.headers.items()}
            for key, value in ctx.response_headers.items():
                if key.lower() not in present:
                    response.headers.add(key, value)
        if ctx.is_admin:
            if self.admin.origins and "Origin" in ctx.request.headers:
                self._admin_cors(ctx, response)
        elif self.cors.enabled:
            reason = self.cors.decorate(ctx.request, response)
            if reason and ctx.log_reason is None:
                ctx.log_reason = f"CORS: {reason}"
        self._record(ctx, response)
        return response

    def problem_response(self, ctx: RequestContext, problem: Problem) -> Response:
        ctx.problem = problem
        render = ctx.surface.render if ctx.surface is not None else render_plain
        status, body = render(problem)
        response = json_response(status, body, dict(problem.headers))
        nearest = problem.extra.get("nearest")
        if nearest:
            response.headers["X-Mock-Nearest-Path"] = nearest
        if ctx.fault_id is not None:
            response.headers["X-Mock-Fault"] = str(ctx.fault_id)
        return response

    def _record(self, ctx: RequestContext, response: Response) -> None:
        request = ctx.request
        elapsed = (time.perf_counter() - ctx.started) * 1000
        status = None if ctx.dropped else response.status_code
        problem = ctx.problem
        if ctx.is_admin:
            self._access(ctx, status, elapsed, journaled=False)
            return
        # A CORS preflight is journaled with its verdict: the first thing to look at when a browser
        # app "cannot reach" the mock.
        refusal = [problem.summary()] if problem is not None and problem.is_client_error else []
        if ctx.preflight and ctx.log_reason and "refused" in ctx.log_reason:
            refusal = [ctx.log_reason]
        if ctx.route is not None and status is not None:
            self.runtime.coverage.record(ctx.route.surface.name, ctx.route.operation_id, status)
        self.runtime.journal.record(
            {
                "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode("latin-1"),
                "vendor": ctx.surface.name if ctx.surface is not None and ctx.surface.kind == "vendor" else None,
                "operation_id": ctx.operation_id,
                "status": status,
                "latency_ms": round(elapsed, 3),
                "validation_errors": refusal,
                "preflight": ctx.preflight,
                "problem": problem.to_json() if problem is not None else None,
                "refused_by": ctx.refused_by if problem is not None else None,
                "contract_refusal": problem is not None
                and (ctx.refused_by in CONTRACT_STAGES or bool(problem.extra.get("request_shape"))),
                "contract_violations": list(ctx.violations),
                "nearest_path": response.headers.get("X-Mock-Nearest-Path"),
                "fault_id": ctx.fault_id,
                "dropped": ctx.dropped,
                "approval": ctx.approval,
                "upstream": ctx.upstream,
                "request_headers": capped_headers(environ_headers(request.environ)),
                "request_raw": _body_or_empty(request),
                "response_raw": b"" if ctx.dropped else response.get_data(),
            },
            ctx.journal_epoch,
        )
        self._access(ctx, status, elapsed, journaled=True)

    def _access(self, ctx: RequestContext, status: int | None, elapsed: float, journaled: bool) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        reason = ctx.log_reason
        if reason is None and ctx.problem is not None:
            reason = ctx.problem.summary()
        if ctx.fault_id is not None:
            reason = f"fault {ctx.fault_id}" + (f": {reason}" if reason else "")
        surface = ctx.surface.name if ctx.surface is not None else "-"
        access_log.info(
            "%s %s %s %.1fms %s %s%s",
            ctx.request.method,
            ctx.request.full_path.rstrip("?") if ctx.request.query_string else ctx.request.path,
            "dropped" if status is None else status,
            elapsed,
            surface,
            ctx.operation_id or ("preflight" if ctx.preflight else "-"),
            f" ({reason})" if reason else "",
            extra={
                "http": {
                    "method": ctx.request.method,
                    "path": ctx.request.path,
                    "status": status,
                    "ms": round(elapsed, 3),
                    "surface": surface,
                    "operation_id": ctx.operation_id,
                    "reason": reason,
                    "approval": ctx.approval,
                }
            },
        )

    # -- 2. guard: Host, cross-site control-API calls, CORS preflights --------------------------

    def guard(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        request = ctx.request
        # The header as sent (werkzeug reads a malformed one as empty). HTTP/1.1 requires one (RFC
        # 9112 §3.2: 400); an HTTP/1.0 request may come without, and cannot come from a browser
        # (which always names the host), so it is served as sent to the bound address: the
        # server's name, which werkzeug reads when no Host was sent (the journal shows none).
        environ = request.environ
        sent = environ.get("HTTP_HOST")
        if not sent and environ.get("SERVER_PROTOCOL") == "HTTP/1.0":
            environ["SERVER_NAME"] = self.hosts.stand_in()
        elif not sent or not request.host:
            refused = "the request has no Host header" if not sent else _MALFORMED_HOST
            ctx.log_reason = refused
            raise Problem("bad_request", refused)
        else:
            refused = self.hosts.why_refused(request.host)
            if refused is not None:
                ctx.log_reason = refused
                raise Problem("permission_denied", refused)
        if ctx.is_admin:
            self.admin.check_site(request)
            if is_preflight(request):
                ctx.preflight = True
                return self._admin_preflight(ctx)
            return call_next()
        if is_preflight(request):
            ctx.preflight = True
            if not self.cors.enabled:
                raise Problem("method_not_allowed", "CORS is off on this server (--cors-origins off)")
            response, reason = self.cors.preflight(request)
            ctx.log_reason = f"CORS preflight refused: {reason}" if reason else "CORS preflight"
            return response
        return call_next()

    def _admin_preflight(self, ctx: RequestContext) -> Response:
        origin = ctx.request.headers.get("Origin", "")
        response = Response(status=204)
        if origin.lower() in self.admin.origins:
            self._admin_cors(ctx, response)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization, X-Mockserver-Admin-Token"
        return response

    def _admin_cors(self, ctx: RequestContext, response: Response) -> None:
        origin = ctx.request.headers.get("Origin", "")
        if origin.lower() in self.admin.origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.vary.add("Origin")

    # -- 3. route -----------------------------------------------------------------------------

    def route(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        request = ctx.request
        method = request.method
        surface = ctx.surface
        vendor = surface.vendor if surface is not None else None
        override = vendor.method_override_header if vendor is not None else None
        if override and method == "POST" and request.headers.get(override):
            wanted = request.headers[override].strip().upper()
            if wanted not in OVERRIDABLE:
                raise Problem("bad_request", f"{override} must be one of {', '.join(OVERRIDABLE)}, not {wanted!r}")
            method = wanted
        try:
            ctx.route, ctx.path_args = self.router.match(request, method)
            ctx.surface = ctx.route.surface
        except MethodNotAllowed as exc:
            allowed = sorted(exc.valid_methods or [])
            if method == "OPTIONS":  # a plain OPTIONS (not a preflight): what may be sent here
                return Response(status=200, headers={"Allow": ", ".join(allowed)})
            ctx.routing_problem = Problem(
                "method_not_allowed", f'Method "{method}" not allowed.', headers={"Allow": ", ".join(allowed)}
            )
        except NotFound:
            nearest = (
                self.nearest[surface.name](request.path) if surface is not None else self.nearest_any(request.path)
            )
            ctx.routing_problem = Problem("not_found", "Not found.", extra={"nearest": nearest} if nearest else None)
        return call_next()

    # -- 4. faults (and --latency): vendor requests only ---------------------------------------

    def faults(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        if ctx.is_admin or ctx.approval is not None:
            return call_next()
        latency = self.runtime.settings.latency
        if latency is not None and ctx.surface is not None:
            pause(self._latency_rng.uniform(latency[0], latency[1]) / 1000, ctx.hurry)
        faults = self.runtime.faults
        if not faults:
            return call_next()
        hit = faults.match(ctx.request.method, ctx.request.path, ctx.operation_id, _FaultView(ctx.request))
        if hit is None:
            return call_next()
        ctx.fault_id = hit.rule_id
        if hit.delay_ms > 0:
            pause(hit.delay_ms / 1000, ctx.hurry)
        if hit.drop_connection:
            ctx.dropped = True
            ctx.request.environ[DROP_KEY] = True
            return Response(b"", status=503)
        if hit.status is None:
            return call_next()  # latency only: the request goes on as usual
        headers = {"X-Mock-Fault": str(hit.rule_id)}
        if hit.status == 429:
            headers["Retry-After"] = "1"
        ctx.log_reason = f"HTTP {hit.status}"  # _access adds which fault
        if hit.has_body:
            return json_response(hit.status, hit.body, headers)
        problem = Problem(kind_for_status(hit.status), f"Injected fault: HTTP {hit.status}.", status=hit.status)
        problem.headers.update(headers)
        raise problem

    # -- 5. forward: --upstream sends the request to the real service instead -----------------

    def forward(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        if self.proxy is None or not ctx.is_vendor or ctx.approval is not None or not self.proxy.wants(ctx):
            return call_next()
        # Upstream answers take up to --upstream-timeout and write no state here: a reset does not
        # wait for them, and the journal leaves out one that comes back after a reset.
        self._landed(ctx)
        return self.proxy.relay(ctx)

    # -- 6. auth --------------------------------------------------------------------------------

    def auth(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        if ctx.routing_problem is not None:
            ctx.refused_by = "route"  # found by the route stage, answered once faults had their chance
            raise ctx.routing_problem
        route = ctx.route
        assert route is not None
        if route.surface.kind == "admin":
            if route.operation_id not in self.admin_open and ctx.approval is None:
                self.admin.check_token(ctx.request)
        else:
            vendor = route.surface.vendor
            assert vendor is not None
            self._no_auth(ctx)
            ctx.identity = vendor.authenticate(ctx)
        return call_next()

    def _no_auth(self, ctx: RequestContext) -> None:
        """--no-auth: a vendor request that carries no key is given the vendor's full-access one."""
        vendor = ctx.surface.vendor if ctx.surface is not None else None
        if not self.runtime.settings.no_auth or vendor is None or vendor.no_auth_header is None:
            return
        name, value = vendor.no_auth_header
        request = ctx.request
        if name in request.headers or "personal_api_key" in request.args:
            return
        if b"personal_api_key" in _body_or_empty(request):
            return
        request.environ["HTTP_" + name.upper().replace("-", "_")] = value  # headers read the environ live

    # -- 7. parse: strict JSON and the contract -------------------------------------------------

    def parse(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        route = ctx.route
        assert route is not None
        request = ctx.request
        if route.surface.kind == "admin" and route.operation_id == "putState":
            cap = max(self.runtime.settings.max_state_bytes, self.runtime.settings.max_body_bytes)
            request.max_content_length = cap
        body = request.get_data(cache=True)
        if route.surface.kind == "admin" and route.operation_id in self.unchecked:
            return call_next()
        check = self.runtime.settings.request_validation
        try:
            ctx.valid = route.surface.contract.validate_request(
                route.operation_id, ctx.path_args, request.args, request.headers, request.content_type, body, check
            )
        except Problem as problem:
            raise self._explain(ctx, problem) from None
        return call_next()

    def _explain(self, ctx: RequestContext, problem: Problem) -> Problem:
        """A vendor's own wording for a contract refusal, where it has one."""
        vendor = ctx.surface.vendor if ctx.surface is not None else None
        if vendor is None or vendor.explain is None or problem.kind != "validation":
            return problem
        parsed: Any = None
        if problem.extra.get("location") == "body":
            try:
                parsed = parse_json(ctx.request.get_data(cache=True))
            except (BodyError, RecursionError):
                return problem
        return vendor.explain(ctx.operation_id or "", problem, parsed) or problem

    # -- 8. handle: one transaction around handler, response check, limits and persistence ------

    def handle(self, ctx: RequestContext, call_next: Callable[[], Response]) -> Response:
        route = ctx.route
        assert route is not None
        runtime = self.runtime
        if route.operation_id in self.settles and ctx.is_admin:
            self._settle(ctx)
        with runtime.store.transaction() as tx:
            mark = tx.savepoint()
            try:
                reply = self._check_response(ctx, self._call(ctx, route))
            except Problem as problem:
                if not problem.keep_writes:
                    tx.rollback(mark)
                    raise
                ctx.problem = problem
                status, body = route.surface.render(problem)
                reply = Reply(status, body, dict(problem.headers))
            changed = tx.changed_since(mark)
            if changed and ctx.approval is None:  # an applied approval is saved with the approving request
                try:
                    runtime.check_limits(changed)
                    self._persist(changed)
                except Problem:
                    tx.rollback(mark)
                    raise
            # Bodies share the state's nested values: encode them before the lock lets a write in.
            response = reply_response(reply.status, reply.body, reply.headers, reply.content_type)
        if ctx.violations and runtime.settings.response_validation == "warn":
            response.headers["X-Mock-Contract-Violations"] = header_safe(" | ".join(ctx.violations))
        return response

    def _settle(self, ctx: RequestContext) -> None:
        """Before the world is replaced, let the vendor requests in progress finish in it. Not from
        inside a transaction (an approval's replay): the requests waited for need the store's lock."""
        if ctx.approval is not None or self.runtime.store.in_transaction is not None:
            log.info("%s inside a transaction: requests in progress are not waited for", ctx.operation_id)
            return
        self.runtime.in_flight.settle()

    def _persist(self, changed: set[Any]) -> None:
        try:
            self.runtime.persist(changed)
        except Exception as exc:
            self.runtime.record_server_error(exc)
            log.exception("the state file could not be written")
            raise Problem("unavailable", f"The state could not be saved, so nothing was changed: {exc}") from None

    def _call(self, ctx: RequestContext, route: Route) -> Reply:
        valid = ctx.valid
        if route.surface.kind == "admin" and valid is not None and valid.has_body:
            valid = dataclasses.replace(valid, body=whole_numbers(valid.body))
        call = Call(
            self.runtime,
            ctx.request,
            valid,  # type: ignore[arg-type]
            ctx.identity,
            self.runtime.store.data[route.part],
            approved=ctx.approval is not None,
            replay=self.replay if route.surface.kind == "admin" else None,
        )
        return route.handler(call)

    def _check_response(self, ctx: RequestContext, reply: Reply) -> Reply:
        mode = self.runtime.settings.response_validation
        route = ctx.route
        assert route is not None
        if mode == "off" or route.operation_id in self.unchecked:
            return reply
        if reply.content_type is not None:  # raw bytes: their type must be documented, JSON is parsed
            mimetype = reply.content_type.split(";")[0].strip()
            body = parse_json(reply.body) if mimetype == JSON_TYPE else None
        else:
            mimetype, body = (JSON_TYPE if reply.body is not None else None), reply.body
        contract = route.surface.contract
        if reply.memo is None:
            problems = contract.response_problems(route.operation_id, reply.status, mimetype, body)
        else:  # the same body object as last time, until a write: the same verdict
            key = ("contract verdict", route.operation_id, reply.status, reply.memo)
            checked, problems = self.runtime.store.memo(
                key, lambda: (body, contract.response_problems(route.operation_id, reply.status, mimetype, body))
            )
            if checked is not body:
                problems = contract.response_problems(route.operation_id, reply.status, mimetype, body)
        if not problems:
            return reply
        ctx.violations = problems
        log.error("contract violation in %s: %s", route.operation_id, problems)
        if mode == "warn":
            return reply
        detail = f"The mock's {reply.status} response for {route.operation_id} breaks its contract: {problems[0]}"
        self.runtime.record_server_error(MockContractViolation(detail, problems))  # surfaces in the test
        raise Problem("contract_violation", detail, extra={"violations": problems})

    # -- approvals: a stored request applied inside the pipeline --------------------------------

    def replay(self, intent: Mapping[str, Any], user_id: int) -> Reply:
        """Apply an approved change request's original request, in the approving request's transaction.

        It walks route → auth → parse → handle with the approval marked: no fault fires on it, the
        journal records it as an approval, and its writes are undone alone when it fails.
        """
        body = intent.get("body")
        builder = EnvironBuilder(
            path=intent["path"],
            method=intent["method"],
            query_string=intent.get("query_string") or None,
            data=None if body is None else dump_json(body),
            content_type=JSON_TYPE if body is not None else None,
        )
        request = Request(builder.get_environ())
        try:  # a state document may hold any intent: only the vendor operation it names is replayed
            route, _args = self.router.match(request, intent["method"])
        except (NotFound, MethodNotAllowed):
            route = None
        if route is None or route.surface.kind != "vendor" or route.operation_id != intent.get("operation_id"):
            named = intent.get("operation_id")
            return Reply(400, {"detail": f"The intent is not a request of the vendor operation {named!r}"})
        ctx = RequestContext(request=request, runtime=self.runtime)
        ctx.approval = str(intent.get("change_request_id") or "approved")
        ctx.approved_by = user_id
        response = self._run(self.replay_stages, ctx)
        payload = response.get_data()
        parsed = parse_json(payload) if payload and response.mimetype == JSON_TYPE else None
        return Reply(response.status_code, parsed)


class _FaultView:
    """What a fault rule's ``match`` may look at, read only when a rule asks."""

    def __init__(self, request: Request) -> None:
        self._request = request

    @property
    def query(self) -> Mapping[str, str]:
        return self._request.args

    @property
    def headers(self) -> Any:
        return self._request.headers

    def json(self) -> Any:
        try:
            return parse_json(_body_or_empty(self._request))
        except (BodyError, RecursionError):
            return None


def _body_or_empty(request: Request) -> bytes:
    try:
        return request.get_data(cache=True)
    except HTTPException:
        return b""


def _http_problem(exc: HTTPException, max_body: int) -> Problem:
    if isinstance(exc, RequestEntityTooLarge):
        return Problem("too_large", f"Request body exceeds the limit of {max_body} bytes.")
    return Problem(kind_for_status(exc.code or 400), exc.description or exc.name, status=exc.code)
