"""JSON Schema builders for the tables a vendor keeps in the state.

A state document (export, import, fixture, state file) is checked against the schema each vendor
declares with these: the fields its rules read are typed, everything else is free-form JSON.
"""

from __future__ import annotations

from typing import Any

INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
STAMP = {"type": ["string", "null"]}


def id_table(required: list[str], properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """A table of records keyed by ``str(id)``."""
    props = {"id": {"type": ["integer", "string"]}, **(properties or {})}
    return {
        "type": "object",
        "additionalProperties": {"type": "object", "required": ["id", *required], "properties": props},
    }


def keyed_table(required: list[str], properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """A table of records keyed by a path of keys (``project/environment/key``)."""
    props = {"key": STR, "name": STR, **(properties or {})}
    return {
        "type": "object",
        "additionalProperties": {"type": "object", "required": ["key", "name", *required], "properties": props},
    }


def part_schema(tables: dict[str, Any], required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """A vendor's whole part of the state: its tables plus the other top-level members it needs,
    and nothing else (a misspelt table in a patch would otherwise be kept and never read)."""
    return {
        "type": "object",
        "required": [*required, *tables],
        "properties": {**properties, **tables},
        "additionalProperties": False,
    }
