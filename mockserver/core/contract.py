"""Request and response checks against the bundled OpenAPI specs.

openapi-core is the reference engine: it loads each spec once (``Contract.openapi``) and the test
suite proves that the per-operation fast path below accepts and rejects exactly what openapi-core's
``validate_request`` / ``validate_response`` do. The fast path exists because openapi-core resolves
every ``$ref`` through jsonschema-path on every call (1.5-4 ms a request here); we resolve once per
operation and compile each schema with jsonschema-rs, keeping openapi-core's casting, media-type
matching and format semantics.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import json
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs

from mockserver.core import disk_cache, formats, jsonbody
from mockserver.core.problems import Problem

_INTEGER = re.compile(r"-?[0-9]{1,4000}\Z")  # ASCII digits only
_NUMBER = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
BOOLEAN_TRUE = ("y", "yes", "t", "true", "on", "1")
BOOLEAN_FALSE = ("n", "no", "f", "false", "off", "0")
_JSON_MEDIA = ("application/json",)


def specs_dir() -> Path:
    """The bundled specs: the installed ``mockserver.specs`` package, else the checkout's specs/."""
    try:
        found = importlib.util.find_spec("mockserver.specs")
    except ModuleNotFoundError:
        found = None
    for location in (found.submodule_search_locations or []) if found else []:
        if (Path(location) / "admin.yaml").is_file():
            return Path(location)
    return Path(__file__).resolve().parents[2] / "specs"


def load_spec(name: str) -> dict[str, Any]:
    return disk_cache.load_yaml(specs_dir() / f"{name}.yaml")


def merged_spec(name: str, fragments: Iterable[str]) -> dict[str, Any]:
    """A spec with fragment files (``specs/<fragment>.yaml``) merged in: their tags, paths and components."""
    spec = load_spec(name)
    for fragment in fragments:
        part = load_spec(fragment)
        spec.setdefault("tags", []).extend(t for t in part.get("tags", []) if t not in spec.get("tags", []))
        for path, item in part.get("paths", {}).items():
            if path in spec.get("paths", {}):
                raise ValueError(f"{fragment}.yaml redefines {path}, already in {name}.yaml")
            spec.setdefault("paths", {})[path] = item
        for section, members in part.get("components", {}).items():
            target = spec.setdefault("components", {}).setdefault(section, {})
            for key, value in members.items():
                if key in target:
                    raise ValueError(f"{fragment}.yaml redefines components/{section}/{key}")
                target[key] = value
    return spec


@functools.cache
def shared_contract(name: str, fragments: tuple[str, ...] = ()) -> Contract:
    """One Contract per spec per process: apps built in the same process share the compiled checks."""
    return Contract(name, merged_spec(name, fragments) if fragments else None)


# ---------------------------------------------------------------------------------------------
# Schema compilation


def _memoised(check: Any) -> Any:
    """A format check memoised: it is a pure function of the string. Responses repeat the same
    timestamps and UUIDs on every request, and each uncached check is a call back from jsonschema-rs
    into Python (~4 µs for a date-time)."""
    return functools.lru_cache(maxsize=16384)(check)


_ANNOTATION_ONLY = (
    "duration",
    "hostname",
    "iri",
    "iri-reference",
    "json-pointer",
    "relative-json-pointer",
    "uri",
    "uri-reference",
    "uri-template",
    "binary",
    "byte",
    "string",
)


@functools.cache
def _formats() -> dict[str, Any]:
    """Formats openapi-core asserts use its own checkers; every other format is an annotation only.

    The checks are ``core.formats``': the same as openapi-schema-validator's ``oas31_format_checker``,
    without the imports that would cost start-up a sixth of a second.
    """
    asserted = {name: _memoised(check) for name, check in formats.table().items()}
    return {**{name: (lambda _v: True) for name in _ANNOTATION_ONLY}, **asserted}


_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _rewrite(node: Any) -> Any:
    """Point component refs at $defs and turn integer formats into bounds jsonschema-rs enforces."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                out[key] = "#/$defs/" + value.rsplit("/", 1)[1]
            elif key in ("discriminator", "xml", "externalDocs", "example"):
                continue  # OpenAPI-only keywords carry no validation in openapi-core either
            else:
                out[key] = _rewrite(value)
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt in _INT_BOUNDS and _types(node) & {"integer", "number"}:
            low, high = _INT_BOUNDS[fmt]
            out.setdefault("minimum", low)
            out.setdefault("maximum", high)
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        return set()
    return {declared} if isinstance(declared, str) else set(declared)


class SchemaCompiler:
    """Compiles schemas of one spec into jsonschema-rs validators (Draft 2020-12, as OAS 3.1)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self._defs = _rewrite(spec.get("components", {}).get("schemas", {}))

    def resolve(self, node: Any) -> Any:
        """Follow a top-level $ref (#/components/...) in the spec."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def compile(self, schema: Mapping[str, Any]) -> jsonschema_rs.Draft202012Validator:
        root = dict(_rewrite(schema))
        root["$defs"] = self._defs
        return jsonschema_rs.Draft202012Validator(root, validate_formats=True, formats=_formats())


# ---------------------------------------------------------------------------------------------
# Compiled operations


@dataclass
class Param:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    validator: Any
    default: Any = None
    has_default: bool = False

    def cast(self, raw: str) -> Any:
        """openapi-core's casting for simple-style parameters."""
        kinds = _types(self.schema)
        if len(kinds) != 1:
            return raw
        (kind,) = kinds
        if kind == "integer":
            if not _INTEGER.match(raw):  # int() would take other scripts' digits, " 1" and "1_0"
                raise ValueError("not an integer")
            return int(raw)
        if kind == "number":
            if not _NUMBER.match(raw):
                raise ValueError("not a number")
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError("not a finite number")
            return value
        if kind == "boolean":
            lowered = raw.lower()
            if lowered in BOOLEAN_TRUE:
                return True
            if lowered in BOOLEAN_FALSE:
                return False
            raise ValueError("not a boolean format")
        return raw


@dataclass
class Media:
    mime: str
    validator: Any | None


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    tags: list[str]
    params: list[Param]
    body_required: bool
    body_media: dict[str, Media] | None
    responses: dict[str, dict[str, Media] | None]
    spec: dict[str, Any] = field(repr=False)


@dataclass
class ValidRequest:
    operation: Operation
    path: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, Any]
    body: Any
    has_body: bool


def _find_media(content: Mapping[str, Media], mimetype: str | None) -> Media | None:
    """openapi-core's media-type lookup: the full value, then the bare type, then ranges."""
    if mimetype is None:
        return None
    base = mimetype.split(";")[0].lower().rstrip()
    for candidate in (mimetype, base):
        if candidate in content:
            return content[candidate]
    if base:
        for key, media in content.items():
            if fnmatch.fnmatch(base, key):
                return media
    return None


def parse_json(raw: bytes) -> Any:
    """Strict JSON (see ``mockserver.core.jsonbody``): what the vendors' parsers refuse, we refuse."""
    return jsonbody.parse(raw)


def _error_path(error: Any) -> list[str | int]:
    path = list(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        path.append(kind.property)
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties) and kind.unexpected:
        path.append(kind.unexpected[0])
    return path


_CODE_BY_KIND = {
    "required": "required",
    "enum": "invalid_choice",
    "const": "invalid_choice",
    "maxLength": "max_length",
    "minLength": "min_length",
    "maximum": "max_value",
    "minimum": "min_value",
    "additionalProperties": "unexpected_field",
}


def schema_message(error: Any) -> str:
    """The validator's message, except that a value outside an enum names every allowed value (the
    validator names two and counts the rest, which leaves the reader guessing)."""
    kind = type(error.kind).__name__
    options = getattr(error.kind, "options", None)
    if kind == "Enum" and isinstance(options, list) and len(options) <= 12:
        allowed = ", ".join(json.dumps(option) for option in options)
        return f"{json.dumps(error.instance)} is not one of {allowed}"
    if kind in ("OneOfNotValid", "AnyOf"):
        # "not valid under any of the schemas listed": the one alternative of the value's own type
        # says what is wrong with it (3600001 is greater than the maximum of 3600000).
        here = list(error.instance_path)
        fitting = [
            errors
            for errors in getattr(error.kind, "context", None) or []
            if errors and not any(type(e.kind).__name__ == "Type" and list(e.instance_path) == here for e in errors)
        ]
        if len(fitting) == 1 and list(fitting[0][0].instance_path) == here:  # about this value, not a member
            return schema_message(fitting[0][0])
    return error.message


def _schema_problem(error: Any, location: str, prefix: list[str | int] | None = None) -> Problem:
    path = (prefix or []) + _error_path(error)
    kind_name = type(error.kind).__name__
    kind_key = kind_name[0].lower() + kind_name[1:]
    code = _CODE_BY_KIND.get(kind_key, "invalid")
    message = schema_message(error)
    if code == "required":
        message = "This field is required."
    elif code == "unexpected_field":
        message = f"Unexpected field: '{path[-1]}'."
    elif error.instance is None and kind_key in ("type", "oneOfNotValid", "anyOf"):
        code, message = "null", "This field may not be null."
    return Problem(
        "validation",
        message,
        attr=_join(path),
        code=code,
        extra={"location": location, "path": path, "schema_message": error.message},
    )


def _join(path: Iterable[str | int]) -> str | None:
    parts = [str(p) for p in path]
    return "__".join(parts) if parts else None


class Contract:
    """One spec: its compiled operations, and the openapi-core app built from the same document."""

    def __init__(self, name: str, spec: dict[str, Any] | None = None) -> None:
        self.name = name
        self.spec = spec if spec is not None else load_spec(name)
        self._compiler = SchemaCompiler(self.spec)
        self._lock = threading.Lock()
        self._compiled: dict[str, Operation] = {}
        self.raw_operations: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {}
        for path, item in self.spec.get("paths", {}).items():
            for method, op in item.items():
                if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                    self.raw_operations[op["operationId"]] = (method.upper(), path, op, item)

    @cached_property
    def openapi(self) -> Any:
        """openapi-core's app for this spec (spec validation runs in the unit tests instead)."""
        from jsonschema_path import SchemaPath
        from openapi_core import Config, OpenAPI

        return OpenAPI(SchemaPath.from_dict(self.spec), config=Config(spec_validator_cls=None))

    def operation(self, operation_id: str) -> Operation:
        compiled = self._compiled.get(operation_id)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(operation_id) or self._compile(operation_id)
                self._compiled[operation_id] = compiled
        return compiled

    def _compile(self, operation_id: str) -> Operation:
        method, path, op, item = self.raw_operations[operation_id]
        resolve = self._compiler.resolve
        params: list[Param] = []
        seen: set[tuple[str, str]] = set()
        for raw in [*op.get("parameters", []), *item.get("parameters", [])]:
            prm = resolve(raw)
            key = (prm["name"], prm["in"])
            if key in seen:
                continue
            seen.add(key)
            schema = prm.get("schema", {})
            params.append(
                Param(
                    name=prm["name"],
                    location=prm["in"],
                    required=bool(prm.get("required", False)),
                    schema=resolve(schema),
                    validator=self._compiler.compile(schema),
                    default=schema.get("default"),
                    has_default="default" in schema,
                )
            )
        body_media = None
        body_required = False
        if "requestBody" in op:
            body = resolve(op["requestBody"])
            body_required = bool(body.get("required", False))
            body_media = self._media(body.get("content", {}))
        responses: dict[str, dict[str, Media] | None] = {}
        for status, raw_response in op.get("responses", {}).items():
            response = resolve(raw_response)
            responses[str(status)] = self._media(response["content"]) if "content" in response else None
        return Operation(
            operation_id=operation_id,
            method=method,
            path=path,
            tags=list(op.get("tags", [])),
            params=params,
            body_required=body_required,
            body_media=body_media,
            responses=responses,
            spec=op,
        )

    def _media(self, content: Mapping[str, Any]) -> dict[str, Media]:
        out: dict[str, Media] = {}
        for mime, media in content.items():
            schema = media.get("schema")
            out[mime] = Media(mime, self._compiler.compile(schema) if schema is not None else None)
        return out

    # -- requests -------------------------------------------------------------------------------

    def validate_request(
        self,
        operation_id: str,
        path_args: Mapping[str, str],
        query: Any,
        headers: Mapping[str, str],
        mimetype: str | None,
        body: bytes,
        check: bool = True,
    ) -> ValidRequest:
        """Check one request; raise a Problem, the first one, as openapi-core orders them.

        With ``check=False`` parameters are still cast and the body parsed (handlers need them), but no
        schema is consulted: the baseline the validation benchmark compares against.
        """
        op = self.operation(operation_id)
        values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}, "cookie": {}}
        sources: dict[str, Any] = {"path": path_args, "query": query, "header": headers, "cookie": {}}
        for prm in op.params:
            source = sources[prm.location]
            if prm.name not in source:
                if prm.has_default:
                    values[prm.location][prm.name] = prm.default
                elif prm.required:
                    raise _param_error(prm, f"{prm.name} {prm.location} parameter is required", "required")
                continue
            raw = source[prm.name]
            if prm.location == "query" and raw == "":
                raise _param_error(prm, f"{prm.name} query parameter may not be empty.", "blank")
            try:
                value = prm.cast(raw)
            except (ValueError, TypeError):
                kind = "/".join(sorted(_types(prm.schema)))
                raise _param_error(prm, f"{prm.name} must be a valid {kind}.", "invalid") from None
            error = _first_error(prm.validator, value) if check else None
            if error is not None:
                code = _schema_problem(error, prm.location).code or "invalid"
                raise _param_error(prm, f"{prm.name}: {schema_message(error)}", code)
            values[prm.location][prm.name] = value

        parsed: Any = None
        has_body = False
        if op.body_media is not None:
            media = _find_media(op.body_media, mimetype)
            if not body:
                if op.body_required:
                    raise Problem(
                        "validation", "A request body is required.", code="required", extra={"location": "body"}
                    )
            elif media is None:
                raise Problem(
                    "unsupported_media_type",
                    f'Unsupported media type "{mimetype or ""}" in request.',
                    extra={"location": "body", "media_type": mimetype or ""},
                )
            else:
                try:
                    parsed = parse_json(body) if _is_json(media.mime) else body
                except (ValueError, RecursionError) as exc:
                    raise Problem("parse_error", f"JSON parse error - {exc}", extra={"location": "body"}) from None
                has_body = True
                if media.validator is not None and check:
                    error = _first_error(media.validator, parsed)
                    if error is not None:
                        raise _schema_problem(error, "body")
        return ValidRequest(op, values["path"], values["query"], values["header"], parsed, has_body)

    # -- responses ------------------------------------------------------------------------------

    def response_problems(self, operation_id: str, status: int, mimetype: str | None, body: Any) -> list[str]:
        """Everything wrong with a response we are about to send, as readable strings."""
        op = self.operation(operation_id)
        code = str(status)
        content = (
            op.responses[code]
            if code in op.responses
            else op.responses.get(code[0] + "XX", op.responses.get("default", "missing"))
        )
        if content == "missing":
            return [f"status {status} is not documented for {operation_id}"]
        if content is None:
            return []
        media = _find_media(content, mimetype)
        if media is None:
            return [f"content type {mimetype!r} is not documented for {operation_id} {status}"]
        if media.validator is None or media.validator.is_valid(body):  # the common case, a third cheaper
            return []
        return [f"{_join(_error_path(err)) or '<body>'}: {err.message}" for err in media.validator.iter_errors(body)][
            :10
        ]


def _param_error(prm: Param, message: str, code: str) -> Exception:
    return Problem("validation", message, attr=prm.name, code=code, extra={"location": prm.location})


def _first_error(validator: Any, value: Any) -> Any:
    """The first schema error; a value the validator cannot even read is rejected, never waved through."""
    try:
        return next(iter(validator.iter_errors(value)), None)
    except (ValueError, TypeError, OverflowError) as exc:
        raise Problem("validation", f"Value cannot be validated: {exc}", code="invalid") from None


def _is_json(mime: str) -> bool:
    base = mime.split(";")[0].strip().lower()
    return base in _JSON_MEDIA or base.endswith("+json")
