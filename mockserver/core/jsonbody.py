"""Strict JSON for request bodies and state documents: one parser, the same refusals everywhere.

What a lenient parser lets through and a real API (or the next export) chokes on is refused with
a message saying why: bytes that are not UTF-8 (the stdlib would guess UTF-16/32), a byte-order
mark, ``NaN``/``Infinity``, numbers that overflow a double (``1e400``), lone UTF-16 surrogates
(``"\\ud800"``, which no UTF-8 encoder can write back), and nesting deeper than ``MAX_DEPTH``.

Most bodies are parsed by orjson, which refuses all of that by itself except nesting up to 1,024
levels and integers beyond 64 bits (it reads them as floats): one compiled schema, walked in Rust,
catches those two. Anything orjson or that schema turns down goes through the standard library's
parser and the checks below, which give the refusal its message and keep big integers exact. A
100 MB state document is parsed in a third of the time the checks alone took in Python.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import jsonschema_rs
import orjson

from mockserver.core import heap

MAX_DEPTH = 100
BULK_BYTES = 8 * 2**20  # a body this large is parsed as a bulk build (see ``mockserver.core.heap``)


class BodyError(ValueError):
    """A body that is not strict JSON; the message is meant for the client."""


def _constant(name: str) -> Any:
    raise BodyError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BodyError(f"number {text[:40]} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_float)


def parse(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in ``raw``, or BodyError saying what is wrong with it."""
    if isinstance(raw, bytes) and raw.startswith(b"\xef\xbb\xbf"):
        raise BodyError("a byte-order mark is not allowed; send UTF-8 without BOM")
    if len(raw) < BULK_BYTES:
        return _parse(raw, max_depth)
    with heap.bulk():  # a state document: a million containers, kept out of the collector's passes
        return _parse(raw, max_depth)


def _parse(raw: bytes | str, max_depth: int) -> Any:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # refused: the strict parser below says why
    else:
        if _plain_enough(max_depth).is_valid(value):
            return value
    return _parse_strictly(raw, max_depth)


@functools.cache
def _plain_enough(max_depth: int) -> Any:
    """What an orjson result must satisfy to be the strict parser's result too.

    Containers at most ``max_depth`` deep (level ``i`` holds members valid at ``i + 1``; the last
    level holds no containers), and every number inside the 64-bit integer range: orjson turns a
    bigger integer into a float, which only the standard library's parser keeps exact. A float that
    large takes the slow path too, which reads it the same.
    """
    scalar = {"type": ["string", "number", "boolean", "null"]}
    bounds = {"exclusiveMinimum": -(2**63), "exclusiveMaximum": 2**63}
    levels: dict[str, Any] = {}
    for i in range(max_depth):
        deeper = {"$ref": f"#/$defs/l{i + 1}"}
        levels[f"l{i}"] = {"items": deeper, "additionalProperties": deeper, **bounds}
    levels[f"l{max_depth}"] = {**scalar, **bounds}
    return jsonschema_rs.Draft202012Validator({"$defs": levels, "$ref": "#/$defs/l0"})


def _parse_strictly(raw: bytes | str, max_depth: int) -> Any:
    if isinstance(raw, bytes):
        if raw.startswith(b"\xef\xbb\xbf"):
            raise BodyError("a byte-order mark is not allowed; send UTF-8 without BOM")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyError(f"body is not UTF-8: invalid byte at position {exc.start}") from None
    else:
        text = raw
    try:
        value = _DECODER.decode(text)
    except BodyError:
        raise
    except RecursionError:
        raise BodyError(f"nesting is deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise BodyError(str(exc)) from None
    check(value, max_depth)
    return value


def check(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``max_depth`` and strings no UTF-8 encoder can write."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise BodyError(f"nesting is deeper than {max_depth} levels")
            for key, member in item.items():
                _check_text(key)
                if isinstance(member, dict | list):
                    stack.append((member, depth + 1))
                elif isinstance(member, str):
                    _check_text(member)
        elif isinstance(item, list):
            if depth > max_depth:
                raise BodyError(f"nesting is deeper than {max_depth} levels")
            for member in item:
                if isinstance(member, dict | list):
                    stack.append((member, depth + 1))
                elif isinstance(member, str):
                    _check_text(member)
        elif isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BodyError("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)") from None


def whole_numbers(body: Any) -> Any:
    """A control-API body with each whole float among its top-level members (and in their lists of
    plain values) as the int it equals: JSON does not tell 2 from 2.0, and those members are the
    control API's own fields (a fault's status, a seed, a user id, a quorum), which must not carry
    a float into code that formats or compares them as ints. Nested objects are data (a fault's
    body, a state document's records) and are left exactly as sent."""
    if not isinstance(body, dict):
        return body
    return {key: _whole(value) for key, value in body.items()}


def _whole(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if isinstance(value, list) and not any(isinstance(item, dict | list) for item in value):
        return [_whole(item) for item in value]
    return value
