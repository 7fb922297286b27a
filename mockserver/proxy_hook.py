"""Proxy-and-verify on the Flask side: one ``before_request`` that hands vendor requests to
``mockserver.upstream`` when ``--upstream`` names that vendor.

It runs after the journal, frontend and fault hooks (so injected faults still apply and the
journal records the forwarded call) and before any vendor handler: a served operation goes to
the real service, its answer is checked against our contract, every mismatch becomes a drift
finding (the request journal shows it in ``contract_violations`` as ``upstream drift: ...``;
``Proxy.drift``, in ``app.extensions``, keeps each finding whole, and ``g.mock_upstream`` holds
the upstream URL, status and drift for a journal that wants its own field), and with
``--record`` the answer is recorded.
``/__admin`` is never forwarded, nor CORS preflights; an operation the mock does not serve is
forwarded only with ``--upstream-fallback``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g, request

from mockserver.core.problems import Problem, kind_for_status
from mockserver.upstream import DriftLog, Forwarder, Observation, Recorder, UpstreamError, check_reply, parse_upstreams

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime
    from mockserver.core.vendor import Vendor

log = logging.getLogger("mockserver.upstream")
EXTENSION = "mockserver.proxy"
DRIFT_PREFIX = "upstream drift: "


@dataclass
class Proxy:
    forwarder: Forwarder
    drift: DriftLog
    recorder: Recorder | None
    fallback: bool


def install(app: Flask, runtime: Runtime) -> Proxy | None:
    settings = runtime.settings
    if not settings.upstream:
        return None
    upstreams = parse_upstreams(settings.upstream)
    known = {v.name for v in runtime.vendors}
    unknown = sorted(set(upstreams) - known)
    if unknown:
        raise ValueError(
            f"upstream names unknown vendor(s) {', '.join(unknown)}; vendors are: {', '.join(sorted(known))}"
        )
    source = ", ".join(f"{name}={u.url}" for name, u in upstreams.items())
    proxy = Proxy(
        forwarder=Forwarder(upstreams, timeout=settings.upstream_timeout),
        drift=DriftLog(settings.journal_size),
        recorder=_recorder(runtime, settings.record, source, list(upstreams)) if settings.record else None,
        fallback=settings.upstream_fallback,
    )
    app.extensions[EXTENSION] = proxy

    @app.before_request
    def _forward() -> Response | None:
        if request.path.startswith("/__admin") or request.method == "OPTIONS":
            return None
        vendor = runtime.vendor_for_path(request.path)
        if vendor is None or vendor.name not in proxy.forwarder:
            return None
        endpoint = request.url_rule.endpoint if request.url_rule is not None else ""
        served = endpoint.startswith(f"{vendor.name}.")
        if not served and not proxy.fallback:
            return None  # the mock answers (its 404 or 405) as usual
        return _relay(proxy, vendor, endpoint.partition(".")[2] if served else None)

    return proxy


def _recorder(runtime: Runtime, path: str, source: str, vendors: list[str]) -> Recorder:
    """Recordings start from the seeded parts of the recorded vendors (projects, people, settings)."""
    seed = runtime.store.seed
    return Recorder(path, source, base=runtime.store.seeded(seed, only=vendors), seed=seed)


def _client_headers(vendor: Vendor) -> list[tuple[str, str]]:
    from mockserver.frontend import NO_AUTH_KEYS

    placeholder = NO_AUTH_KEYS.get(vendor.name)
    return [(k, v) for k, v in request.headers.items() if not (k.lower() == "authorization" and v == placeholder)]


def _relay(proxy: Proxy, vendor: Vendor, operation_id: str | None) -> Response:
    body = request.get_data(cache=True)  # over --max-body-bytes: the usual 413 in the vendor's envelope
    try:
        reply = proxy.forwarder.forward(
            vendor.name,
            request.method,
            request.path,
            request.query_string.decode("latin-1"),
            _client_headers(vendor),
            body,
        )
    except UpstreamError as exc:
        log.warning("%s %s: %s", request.method, request.path, exc.detail)
        status, payload = vendor.render(Problem(kind_for_status(exc.status), exc.detail, status=exc.status))
        g.mock_upstream = {"url": proxy.forwarder.target(vendor.name, "/"), "error": exc.detail}
        response = Response(json.dumps(payload, separators=(",", ":")), status=status, mimetype="application/json")
        response.headers["X-Mock-Upstream"] = vendor.name
        return response

    problems: list[str] = []
    if operation_id is not None and request.method != "HEAD":
        parsed, problems = check_reply(vendor.contract, operation_id, reply.status, reply.content_type, reply.body)
        obs = Observation(
            vendor=vendor.name,
            operation_id=operation_id,
            method=request.method,
            path=request.path,
            path_args=dict(request.view_args or {}),
            status=reply.status,
            body=parsed,
            problems=problems,
        )
        if problems:
            proxy.drift.add(obs, reply.url)
            g.mock_violations = [DRIFT_PREFIX + p for p in problems]
            log.warning("upstream drift in %s %s: %s", vendor.name, operation_id, problems)
        if proxy.recorder is not None:
            try:
                proxy.recorder.observe(obs)
            except OSError as exc:  # a full disk must not break the forwarded answer
                log.error("could not write the recording: %s", exc)
    g.mock_upstream = {"url": reply.url, "status": reply.status, "drift": problems}
    return _response(vendor, reply, problems)


def _header_safe(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\r", " ").replace("\n", " ")


def _response(vendor: Vendor, reply: Any, problems: list[str]) -> Response:
    response = Response(reply.body, status=reply.status)
    response.headers.clear()
    for key, value in reply.headers:
        response.headers.add(key, value)
    response.headers["X-Mock-Upstream"] = vendor.name
    if problems:
        response.headers["X-Mock-Upstream-Drift"] = _header_safe(" | ".join(problems))[:4000]
    return response
