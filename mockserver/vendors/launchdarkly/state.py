"""The shape of LaunchDarkly's part of the state, as state documents are checked against it."""

from __future__ import annotations

from mockserver.core.tables import BOOL, INT, STR, keyed_table, part_schema

TABLES = {
    "projects": keyed_table(["environments"], {"environments": {"type": "object"}}),
    "flags": keyed_table(
        ["variations", "environments", "projectKey", "archived"],
        {
            "projectKey": STR,
            "kind": {"enum": ["boolean", "multivariate"]},
            "variations": {"type": "array", "items": {"type": "object", "required": ["value"]}},
            "environments": {"type": "object", "additionalProperties": {"type": "object"}},
            "archived": BOOL,
            "deprecated": BOOL,
            "temporary": BOOL,
            "tags": {"type": "array", "items": STR},
            "creationDate": INT,
            "_version": INT,
        },
    ),
    "metrics": keyed_table(["kind"], {"kind": STR}),
    "experiments": keyed_table(
        ["projectKey", "environmentKey", "iterations"],
        {"projectKey": STR, "environmentKey": STR, "iterations": {"type": "array"}},
    ),
}

SCHEMA = part_schema(TABLES, ["seed", "sequences"], {"seed": {"type": "integer"}, "sequences": {"type": "object"}})
