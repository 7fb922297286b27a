"""The console, the API docs and the published specs as control-API operations (specs/admin.yaml).

Plain handlers over ``assets``: they answer file bytes with their content type and the headers a
page needs (a strict Content-Security-Policy; no sniffing, no referrer, no caching).
"""

from __future__ import annotations

from mockserver.console import assets
from mockserver.core.problems import Problem
from mockserver.core.vendor import Call, Reply

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


def _send(call: Call, asset: assets.Asset | None, csp: str | None = None) -> Reply:
    if asset is None:
        raise Problem("not_found", f"no such file: {call.request.path}")
    headers = dict(SECURITY_HEADERS)
    if csp is not None:
        headers["Content-Security-Policy"] = csp
    return Reply(200, asset.body, headers, content_type=asset.content_type)


def root(call: Call) -> Reply:
    return Reply(302, None, {"Location": assets.CONSOLE_URL})


def console_page(call: Call) -> Reply:
    return _send(call, assets.console_file(""), assets.CONSOLE_CSP)


def console_file(call: Call) -> Reply:
    return _send(call, assets.console_file(call.path["name"]), assets.CONSOLE_CSP)


def docs_page(call: Call) -> Reply:
    return _send(call, assets.docs_file(""), assets.DOCS_CSP)


def docs_file(call: Call) -> Reply:
    return _send(call, assets.docs_file(call.path["name"]), assets.DOCS_CSP)


def spec_index(call: Call) -> Reply:
    return Reply(200, assets.spec_index())


def _server(call: Call) -> str:
    return call.request.base_url.split("/__admin", 1)[0]


def _fragments(call: Call) -> tuple[str, ...]:
    return tuple(v.admin_spec for v in call.runtime.vendors if v.admin_spec)


def spec_yaml(call: Call) -> Reply:
    return _send(call, assets.spec_document(call.path["name"], "yaml", _server(call), _fragments(call)))


def spec_json(call: Call) -> Reply:
    return _send(call, assets.spec_document(call.path["name"], "json", _server(call), _fragments(call)))


HANDLERS = {
    "root": root,
    "getConsole": console_page,
    "getConsoleFile": console_file,
    "getDocs": docs_page,
    "getDocsFile": docs_file,
    "listSpecs": spec_index,
    "getSpecYaml": spec_yaml,
    "getSpecJson": spec_json,
}
# Pages a browser loads before it can be asked for the admin token: nothing secret in them.
OPEN = frozenset(HANDLERS)
