"""The shape of LaunchDarkly's part of the state, as state documents are checked against it."""

from __future__ import annotations

from typing import Any

from mockserver.core.tables import BOOL, INT, STR, keyed_table, part_schema
from mockserver.vendors.launchdarkly import flags
from mockserver.vendors.launchdarkly.ratelimit import SCOPES

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
    "metrics": keyed_table(
        ["kind"],
        {
            "kind": STR,
            "randomizationUnits": {"type": "array", "items": STR},
            "urls": {"type": "array", "items": {"type": "object", "properties": {"kind": STR}}},
        },
    ),
    "metric_groups": keyed_table(["kind", "metrics"], {"kind": STR, "metrics": {"type": "array"}}),
    "experiments": keyed_table(
        ["projectKey", "environmentKey", "iterations"],
        {"projectKey": STR, "environmentKey": STR, "iterations": {"type": "array"}},
    ),
    "context_kinds": keyed_table(["projectKey", "version"], {"projectKey": STR, "version": {"type": "integer"}}),
    "layers": keyed_table(["projectKey", "reservations"], {"projectKey": STR, "reservations": {"type": "object"}}),
    "holdouts": keyed_table(
        ["_id", "projectKey", "environmentKey", "experiments", "base"],
        {"projectKey": STR, "environmentKey": STR, "experiments": {"type": "array"}, "base": {"type": "object"}},
    ),
    "member_profiles": {
        "type": "object",
        "additionalProperties": {"type": "object", "required": ["_id", "email", "role"]},
    },
}
# Tables documents exported before they existed may lack; the rules treat a missing one as empty.
OPTIONAL = ("context_kinds", "layers", "holdouts", "member_profiles")

# Rate-limit rules and counting windows are read on every request: typed as the counting reads them.
RATE_LIMITS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "limit", "window_seconds", "scope"],
        "properties": {
            "id": INT,
            "limit": {"type": "integer", "minimum": 1},
            "window_seconds": {"type": "integer", "minimum": 1},
            "scope": {"enum": list(SCOPES)},
            "token": {"type": "string", "minLength": 1},
            "route": {"type": "string", "minLength": 1},
        },
    },
}
RATE_WINDOWS = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["start", "count"],
        "properties": {"start": INT, "count": {"type": "integer", "minimum": 0}},
    },
}

SCHEMA = part_schema(
    TABLES,
    ["seed", "sequences"],
    {
        "seed": {"type": "integer"},
        "sequences": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "settings": {"type": "object"},
        "members": {"type": "array"},
        "rate_limits": RATE_LIMITS,
        "rate_windows": RATE_WINDOWS,
        "legacy_resets": {"type": "object"},
    },
)
SCHEMA["required"] = [name for name in SCHEMA["required"] if name not in OPTIONAL]


def settle(part: dict[str, Any]) -> None:
    """What a document may leave out (or a patch may null) that requests read: no rate-limit rules
    or windows; a flag's settings in an environment of its project (those of a new flag, off)."""
    part.setdefault("rate_limits", [])
    part.setdefault("rate_windows", {})
    flags.fill_environments(part)


# Most records a table may hold: past it a create answers 400 (the README gives the memory cost).
LIMITS = {table: 100_000 for table in TABLES} | {"projects": 1000}
