"""LaunchDarkly's ``field operator value`` filters (metrics and metric groups).

Conditions are separated by commas or ``and`` and all must hold: ``eventKind equals custom``,
``tags contains ["a", "b"]``, ``query equals 'checkout'``, ``maintainerIds anyOf [id1, id2]``.
A value is a bare word, a quoted string, or a bracketed list of either.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from mockserver.vendors.launchdarkly.errors import invalid

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


class Condition(NamedTuple):
    field: str
    op: str
    values: list[str]


def _split(raw: str) -> list[str]:
    """Split on commas and ``and`` outside brackets and quotes."""
    parts: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(raw):
        char = raw[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth == 0:
            joined = _AND.match(raw, i)
            if char == "," or joined:
                parts.append(raw[start:i])
                i = joined.end() if joined else i + 1
                start = i
                continue
        i += 1
    parts.append(raw[start:])
    return [p.strip() for p in parts if p.strip()]


def _values(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("["):
        try:
            parsed = json.loads(raw.replace("'", '"'))
        except ValueError:
            inner = raw.strip("[]")
            parsed = [v.strip().strip("'\"") for v in inner.split(",") if v.strip()]
        if not isinstance(parsed, list):
            raise invalid(f"Invalid filter value {raw!r}")
        return [str(v).lower() if isinstance(v, bool) else str(v) for v in parsed]
    return [raw.strip("'\"")]


def parse(raw: str | None, fields: dict[str, tuple[str, ...]]) -> list[Condition]:
    """Conditions from a filter string; ``fields`` maps each supported field to its operators."""
    if raw is None:
        return []
    out = []
    for part in _split(raw):
        pieces = part.split(None, 2)
        if len(pieces) < 3:
            raise invalid(
                f"Invalid filter '{part}'; each filter is 'field operator value', e.g. eventKind equals custom"
            )
        field, op, value = pieces
        if field not in fields:
            raise invalid(f"Unsupported filter field '{field}'; use {', '.join(fields)}")
        if op not in fields[field]:
            raise invalid(f"Filter field '{field}' supports {', '.join(fields[field])}, not '{op}'")
        out.append(Condition(field, op, _values(value)))
    return out


def test(op: str, actual: Any, values: list[str]) -> bool:
    """One condition against a field's value (a scalar or a list)."""
    have = [
        str(a).lower() if isinstance(a, bool) else str(a) for a in (actual if isinstance(actual, list) else [actual])
    ]
    if op == "equals":
        return any(h in values for h in have)
    if op == "notEquals":
        return not any(h in values for h in have)
    if op == "anyOf":
        return any(h in values for h in have)
    if op == "contains":
        return all(v in have for v in values)
    return False


def fuzzy(values: list[str], *texts: str) -> bool:
    """``query``: any of the strings appears in the key or name, ignoring case."""
    return any(v.lower() in t.lower() for v in values for t in texts)
