"""The shape of LaunchDarkly's part of the state, as state documents are checked against it."""

from __future__ import annotations

from mockserver.core.tables import STR, keyed_table, part_schema

TABLES = {
    "projects": keyed_table(["environments"], {"environments": {"type": "object"}}),
    "flags": keyed_table(["variations"], {"variations": {"type": "array"}}),
    "metrics": keyed_table(["kind"], {"kind": STR}),
    "experiments": keyed_table(
        ["projectKey", "environmentKey", "iterations"],
        {"projectKey": STR, "environmentKey": STR, "iterations": {"type": "array"}},
    ),
}

SCHEMA = part_schema(TABLES, ["seed", "sequences"], {"seed": {"type": "integer"}, "sequences": {"type": "object"}})

# Most records a table may hold: past it a create answers 400 (the README gives the memory cost).
LIMITS = {table: 100_000 for table in TABLES} | {"projects": 1000}
