"""Proxy-and-verify (``--upstream``): the pipeline's ``forward`` stage hands vendor requests to the
real service and checks what comes back against our contract.

A served operation goes to the upstream named for its vendor; its answer is checked with the
contract, every mismatch becomes a drift finding (in the journal's ``contract_violations`` as
``upstream drift: …`` and in ``upstream``, in ``Proxy.drift`` whole, and in an
``X-Mock-Upstream-Drift`` header), and with ``--record`` it is recorded into a state document by
the vendor's own layout. ``/__admin`` is never forwarded, nor CORS preflights (the guard answers
those first); an operation the mock does not serve is forwarded only with ``--upstream-fallback``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from mockserver.core.problems import Problem, kind_for_status
from mockserver.upstream import DriftLog, Forwarder, Observation, Recorder, UpstreamError, check_reply, parse_upstreams
from mockserver.web.render import header_safe

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime
    from mockserver.core.vendor import Vendor
    from mockserver.web.context import RequestContext

log = logging.getLogger("mockserver.upstream")
DRIFT_PREFIX = "upstream drift: "


@dataclass
class Proxy:
    forwarder: Forwarder
    drift: DriftLog
    recorder: Recorder | None
    fallback: bool

    @classmethod
    def from_settings(cls, runtime: Runtime) -> Proxy | None:
        settings = runtime.settings
        if not settings.upstream:
            return None
        upstreams = parse_upstreams(settings.upstream)  # ValueError naming the culprit
        vendors = {v.name: v for v in runtime.vendors}
        unknown = sorted(set(upstreams) - set(vendors))
        if unknown:
            raise ValueError(
                f"upstream names unknown vendor(s) {', '.join(unknown)}; vendors are: {', '.join(sorted(vendors))}"
            )
        recorder = None
        if settings.record:
            source = ", ".join(f"{name}={u.url}" for name, u in upstreams.items())
            layouts = {name: vendors[name].recording for name in upstreams if vendors[name].recording is not None}
            seed = runtime.store.seed
            base = runtime.store.seeded(seed, only=list(upstreams))
            recorder = Recorder(settings.record, source, base=base, seed=seed, vendor_layouts=layouts)
        return cls(
            Forwarder(upstreams, timeout=settings.upstream_timeout),
            DriftLog(settings.journal_size),
            recorder,
            settings.upstream_fallback,
        )

    def wants(self, ctx: RequestContext) -> bool:
        vendor = ctx.surface.vendor if ctx.surface is not None else None
        if vendor is None or vendor.name not in self.forwarder:
            return False
        return ctx.route is not None or self.fallback

    def relay(self, ctx: RequestContext) -> Response:
        """Forward the request; the answer goes back as the upstream gave it, drift noted beside it."""
        request = ctx.request
        vendor = ctx.surface.vendor  # type: ignore[union-attr]
        assert vendor is not None
        operation_id = ctx.operation_id
        ctx.routing_problem = None  # a fallback request: the upstream answers it, not our 404/405
        body = request.get_data(cache=True)  # over --max-body-bytes: the usual 413 in the vendor's envelope
        try:
            reply = self.forwarder.forward(
                vendor.name,
                request.method,
                request.path,
                request.query_string.decode("latin-1"),
                _client_headers(request.headers.items(), vendor),
                body,
            )
        except UpstreamError as exc:
            log.warning("%s %s: %s", request.method, request.path, exc.detail)
            ctx.upstream = {"url": self.forwarder.target(vendor.name, "/"), "error": exc.detail}
            problem = Problem(kind_for_status(exc.status), exc.detail, status=exc.status)
            problem.headers["X-Mock-Upstream"] = vendor.name
            raise problem from None
        problems: list[str] = []
        if operation_id is not None and request.method != "HEAD":
            parsed, problems = check_reply(vendor.contract, operation_id, reply.status, reply.content_type, reply.body)
            observation = Observation(
                vendor=vendor.name,
                operation_id=operation_id,
                method=request.method,
                path=request.path,
                path_args=dict(ctx.path_args),
                status=reply.status,
                body=parsed,
                problems=problems,
            )
            if problems:
                self.drift.add(observation, reply.url)
                ctx.violations = [DRIFT_PREFIX + p for p in problems]
                log.warning("upstream drift in %s %s: %s", vendor.name, operation_id, problems)
            if self.recorder is not None:
                try:
                    self.recorder.observe(observation)
                except OSError as exc:  # a full disk must not break the forwarded answer
                    log.error("could not write the recording: %s", exc)
        ctx.upstream = {"url": reply.url, "status": reply.status, "drift": problems}
        response = Response(reply.body, status=reply.status)
        response.headers.clear()
        for key, value in reply.headers:
            response.headers.add(key, value)
        response.headers["X-Mock-Upstream"] = vendor.name
        if problems:
            response.headers["X-Mock-Upstream-Drift"] = header_safe(" | ".join(problems))
        return response


def _client_headers(headers: object, vendor: Vendor) -> list[tuple[str, str]]:
    """What the caller sent, less the --no-auth placeholder credential (never sent upstream)."""
    placeholder = vendor.no_auth_header
    return [
        (k, v)
        for k, v in headers  # type: ignore[attr-defined]
        if not (placeholder and k.lower() == placeholder[0].lower() and v == placeholder[1])
    ]
