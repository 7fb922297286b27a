"""Test clients that check every response against the bundled specs with plain openapi-core.

The server's own fast path is not trusted here: each response is re-validated by openapi-core's
``validate_response`` against the operation the request matched (found by openapi-core too).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound, PathsNotFound
from openapi_core.testing import MockRequest, MockResponse

from mockserver.core.contract import Contract


@functools.cache
def _surfaces() -> list[Any]:
    """Every surface a default server has (each vendor found by the registry, and the control API
    with its vendors' fragments merged): their contracts are what responses are checked against."""
    from mockserver.app import create_app

    return list(create_app().extensions["mockserver.router"].surfaces)


def contract_for(path: str) -> Contract | None:
    for surface in _surfaces():
        if surface.owns(path):
            return surface.contract
    return None


def canonical(path: str, contract: Contract) -> str:
    """Specs spell paths with a trailing slash where the vendor does; requests may omit it."""
    spec_paths = contract.spec["paths"]
    if any(p.endswith("/") and p != "/" for p in spec_paths) and not path.endswith("/"):
        return path + "/"
    return path


@dataclass
class Checked:
    status_code: int
    headers: Any
    content: bytes
    method: str
    path: str

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class SpecViolation(AssertionError):
    pass


def check(method: str, path: str, query: str, status: int, content_type: str | None, body: bytes) -> None:
    contract = contract_for(path)
    if contract is None:
        return
    request = MockRequest("http://localhost", method.lower(), canonical(path, contract), args=_args(query))
    response = MockResponse(body, status_code=status, content_type=content_type or "")
    try:
        contract.openapi.validate_response(request, response)
    except (PathNotFound, PathsNotFound, OperationNotFound):
        # Unmatched routes answer the vendor's 404/405 envelope, outside any operation.
        if status not in (404, 405):
            raise SpecViolation(f"{method} {path} answered {status} but matches no documented operation") from None
    except OpenAPIError as exc:
        cause = exc.__cause__
        detail = getattr(cause, "schema_errors", None)
        message = "; ".join(str(e.message) for e in detail) if detail else repr(cause or exc)
        raise SpecViolation(
            f"{method} {path} -> {status} breaks {contract.name}.yaml: {message}\n{body[:500]!r}"
        ) from None


def _args(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query, keep_blank_values=True))


class _Client:
    """Shared request shaping and spec checks; subclasses only send."""

    headers: dict[str, str]

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        content_type: str | None = None,
        check_spec: bool = True,
    ) -> Checked:
        merged = {**self.headers, **(headers or {})}
        parts = urlsplit(url)
        query = parts.query or (urlencode(params) if params else "")
        if json_body is not None:
            data, content_type = json.dumps(json_body).encode(), "application/json"
        status, response_headers, content, mimetype = self._send(method, parts.path, query, merged, data, content_type)
        result = Checked(status, response_headers, content, method, parts.path)
        if check_spec:
            check(method, parts.path, query, status, mimetype, content)
        return result

    def _send(self, method, path, query, headers, data, content_type) -> tuple[int, Any, bytes, str | None]:
        raise NotImplementedError

    def __getattr__(self, verb: str):
        if verb in ("get", "post", "put", "patch", "delete"):
            return lambda url, **kw: self.request(verb.upper(), url, **kw)
        raise AttributeError(verb)


class FlaskClient(_Client):
    """Flask test client (no socket) with spec checks."""

    def __init__(self, app: Any, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.client = app.test_client()
        self.headers = dict(headers or {})

    def _send(self, method, path, query, headers, data, content_type):
        kwargs: dict[str, Any] = {"headers": headers, "query_string": query, "data": data}
        if content_type:
            kwargs["content_type"] = content_type
        response = self.client.open(path, method=method, **kwargs)
        return response.status_code, response.headers, response.get_data(), response.mimetype or None


class HttpClient(_Client):
    """Real HTTP on loopback (requests), same interface and checks."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.headers = dict(headers or {})

    def _send(self, method, path, query, headers, data, content_type):
        if content_type:
            headers = {**headers, "Content-Type": content_type}
        url = self.base_url + path + (f"?{query}" if query else "")
        response = self.session.request(method, url, headers=headers, data=data, timeout=10)
        mimetype = (response.headers.get("Content-Type") or "").split(";")[0] or None
        return response.status_code, response.headers, response.content, mimetype


def iter_ops(contract: Contract) -> Iterator[tuple[str, str, str]]:
    for op_id, (method, path, _op, _item) in contract.raw_operations.items():
        yield op_id, method, path
