"""Strict JSON for request bodies and state documents: one parser, the same refusals everywhere.

What a lenient parser lets through and a real API (or the next export) chokes on is refused with
a message saying why: bytes that are not UTF-8 (the stdlib would guess UTF-16/32), a byte-order
mark, ``NaN``/``Infinity``, numbers that overflow a double (``1e400``), lone UTF-16 surrogates
(``"\\ud800"``, which no UTF-8 encoder can write back), and nesting deeper than ``MAX_DEPTH``.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 100


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
