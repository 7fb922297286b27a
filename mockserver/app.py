"""create_app(settings): the server's surfaces, routes and pipeline, wired once.

Flask provides the WSGI application, the request object and its context; everything a request
goes through is the pipeline (``mockserver.web.pipeline``), in the order written there.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from mockserver import admin
from mockserver.core.contract import Contract, shared_contract
from mockserver.core.runtime import Runtime
from mockserver.core.settings import Settings
from mockserver.web.cors import CorsPolicy, exact_origin
from mockserver.web.drop import DropConnection
from mockserver.web.guard import AdminGuard, HostGuard
from mockserver.web.pipeline import Pipeline
from mockserver.web.proxy import Proxy
from mockserver.web.render import render_admin
from mockserver.web.routing import Router, Surface
from mockserver.web.streamed import LengthenedBodies

ADMIN_PREFIX = "/__admin"
# What any browser client sends and reads, whatever the vendor; vendors add their own.
ALLOW_HEADERS = ("Authorization", "Content-Type", "X-Requested-With", "Accept")
EXPOSE_HEADERS = (
    "Retry-After",
    "ETag",
    "Location",
    "X-Mock-Nearest-Path",
    "X-Mock-Contract-Violations",
    "X-Mock-Fault",
)


class MockApp(Flask):
    """Flask with its dispatch replaced by the pipeline: no hooks, no view functions, no static route."""

    pipeline: Pipeline

    def create_url_adapter(self, request: Any) -> Any:
        return None  # routing is the pipeline's (its own map, built from the specs)

    def full_dispatch_request(self) -> Any:
        return self.pipeline(request._get_current_object())  # type: ignore[attr-defined]


def create_app(settings: Settings | None = None) -> MockApp:
    settings = settings or Settings()
    runtime = Runtime(settings)
    app = MockApp("mockserver", static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, DEBUG=False, TESTING=False)
    app.extensions["mockserver"] = runtime

    surfaces = []
    for vendor in runtime.vendors:
        surface = Surface(vendor.name, "vendor", vendor.prefixes, vendor.contract, vendor.render, vendor)
        surfaces.append((surface, {op: (handler, vendor.name) for op, handler in vendor.handlers.items()}))
    admin_surface, admin_handlers = _admin(runtime)
    surfaces.append((admin_surface, admin_handlers))
    router = Router.build(surfaces)

    cors = CorsPolicy.from_settings(
        settings.cors_origins,
        [h.strip() for h in settings.cors_headers.split(",") if h.strip()],
        [*EXPOSE_HEADERS, *(h for v in runtime.vendors for h in v.cors_expose_headers)],
        [*ALLOW_HEADERS, *(h for v in runtime.vendors for h in v.cors_allow_headers)],
        settings.cors_credentials,
    )
    app.pipeline = Pipeline(
        runtime,
        router,
        cors,
        HostGuard.from_settings(settings.host, settings.allowed_hosts),
        AdminGuard(runtime.admin_token, _origins(settings.admin_origins)),
        admin_open=admin.OPEN,
        unchecked=admin.UNCHECKED,
        settles=admin.SETTLES,
        proxy=Proxy.from_settings(runtime),
    )
    app.extensions["mockserver.proxy"] = app.pipeline.proxy
    app.extensions["mockserver.router"] = router
    app.wsgi_app = LengthenedBodies(DropConnection(app.wsgi_app), settings.body_cap)  # type: ignore[method-assign]
    return app


def _admin(runtime: Runtime) -> tuple[Surface, dict[str, Any]]:
    """The control API: its own operations, each vendor's, one merged contract."""
    fragments = tuple(v.admin_spec for v in runtime.vendors if v.admin_spec)
    contract: Contract = shared_contract("admin", fragments)
    handlers: dict[str, Any] = {op: (handler, "admin") for op, handler in admin.HANDLERS.items()}
    for vendor in runtime.vendors:
        handlers.update({op: (handler, vendor.name) for op, handler in vendor.admin_handlers.items()})
    if not runtime.settings.admin_api:  # --admin-api off: only health stays (orchestrators poll it)
        contract = Contract("admin", _only(contract.spec, admin.WITHOUT_ADMIN_API))
        handlers = {op: h for op, h in handlers.items() if op in admin.WITHOUT_ADMIN_API}
    return Surface("admin", "admin", (ADMIN_PREFIX,), contract, render_admin), handlers


def _only(spec: dict[str, Any], operations: frozenset[str]) -> dict[str, Any]:
    paths = {}
    for path, item in spec["paths"].items():
        kept = {k: v for k, v in item.items() if not isinstance(v, dict) or v.get("operationId") in operations}
        if any(isinstance(v, dict) and "operationId" in v for v in kept.values()):
            paths[path] = kept
    return {**spec, "paths": paths}


def _origins(text: str) -> frozenset[str]:
    """Exact origins; ``null`` too, which a browser sends for a page opened from a file."""
    words = [o.strip() for o in text.split(",") if o.strip()]
    return frozenset(w if w == "null" else exact_origin(w, "--admin-origins origin") for w in words)
