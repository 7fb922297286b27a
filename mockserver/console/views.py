"""A thin Flask blueprint over ``assets``: the console, the API docs and the published specs.

``GET /`` points at the console. The /__admin routes here are documented in specs/admin.yaml and
checked like the rest of the control API.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request

from mockserver.admin import problem, reply
from mockserver.console import assets

blueprint = Blueprint("console", __name__)


def _send(asset: assets.Asset | None, csp: str | None = None) -> Response:
    if asset is None:
        return problem(404, f"no such file: {request.path}")
    response = Response(asset.body, status=200, content_type=asset.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    if csp is not None:
        response.headers["Content-Security-Policy"] = csp
    return response


@blueprint.get("/")
def root() -> Response:
    return redirect(assets.CONSOLE_URL, 302)


@blueprint.get("/__admin/ui", strict_slashes=False)
def console_page() -> Response:
    return _send(assets.console_file(""), assets.CONSOLE_CSP)


@blueprint.get("/__admin/ui/<name>")
def console_file(name: str) -> Response:
    return _send(assets.console_file(name), assets.CONSOLE_CSP)


@blueprint.get("/__admin/docs", strict_slashes=False)
def docs_page() -> Response:
    return _send(assets.docs_file(""), assets.DOCS_CSP)


@blueprint.get("/__admin/docs/<name>")
def docs_file(name: str) -> Response:
    return _send(assets.docs_file(name), assets.DOCS_CSP)


@blueprint.get("/__admin/specs")
def spec_index() -> Response:
    return reply(assets.spec_index())


@blueprint.get("/__admin/specs/<name>.yaml")
def spec_yaml(name: str) -> Response:
    return _send(assets.spec_document(name, "yaml", request.host_url.rstrip("/")))


@blueprint.get("/__admin/specs/<name>.json")
def spec_json(name: str) -> Response:
    return _send(assets.spec_document(name, "json", request.host_url.rstrip("/")))
