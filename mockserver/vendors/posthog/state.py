"""The shape of PostHog's part of the state, as state documents are checked against it."""

from __future__ import annotations

from mockserver.core.tables import BOOL, INT, STAMP, STR, id_table, part_schema

TABLES = {
    "projects": id_table(["name"], {"id": INT, "name": STR}),
    "users": id_table(["email"], {"id": INT, "email": STR}),
    "flags": id_table(
        ["team_id", "key", "filters", "active", "deleted"],
        {"id": INT, "team_id": INT, "key": STR, "filters": {"type": "object"}, "active": BOOL, "deleted": BOOL},
    ),
    "holdouts": id_table(
        ["team_id", "name", "filters"], {"id": INT, "team_id": INT, "name": STR, "filters": {"type": "array"}}
    ),
    "saved_metrics": id_table(
        ["team_id", "name", "query"], {"id": INT, "team_id": INT, "name": STR, "query": {"type": "object"}}
    ),
    "experiments": id_table(
        [
            "team_id",
            "name",
            "feature_flag_id",
            "start_date",
            "end_date",
            "archived",
            "deleted",
            "metrics",
            "metrics_secondary",
            "created_at",
        ],
        {
            "id": INT,
            "team_id": INT,
            "name": STR,
            "feature_flag_id": {"type": ["integer", "null"]},
            "start_date": STAMP,
            "end_date": STAMP,
            "archived": BOOL,
            "deleted": BOOL,
            "metrics": {"type": ["array", "null"]},
            "metrics_secondary": {"type": ["array", "null"]},
            "created_at": STR,
        },
    ),
    "cohorts": id_table(
        ["team_id", "name", "filters", "deleted", "is_static"],
        {"id": INT, "team_id": INT, "name": STR, "filters": {"type": "object"}, "deleted": BOOL, "is_static": BOOL},
    ),
    "actions": id_table(
        ["team_id", "name", "deleted", "steps"],
        {
            "id": INT,
            "team_id": INT,
            "name": {"type": ["string", "null"]},
            "deleted": BOOL,
            "steps": {"type": "array", "items": {"type": "object"}},
        },
    ),
    # An event a project has ingested (or that was defined through the API): what metrics may name.
    "event_definitions": id_table(
        ["team_id", "name"],
        {"id": STR, "team_id": INT, "name": STR, "created_at": STAMP, "last_seen_at": STAMP},
    ),
    "timeseries_requests": {"type": "object"},
    "approval_policies": id_table(
        ["project_id", "action_key", "quorum", "users", "roles", "enabled"],
        {
            "id": INT,
            "project_id": INT,
            "action_key": STR,
            "quorum": {"type": "integer", "minimum": 1},
            "users": {"type": "array", "items": INT},
            "roles": {"type": "array", "items": STR},
            "enabled": BOOL,
        },
    ),
    "change_requests": id_table(
        ["team_id", "action_key", "state", "intent"],
        {"id": STR, "team_id": INT, "action_key": STR, "state": STR, "intent": {"type": "object"}},
    ),
}

SCHEMA = part_schema(
    TABLES,
    ["seed", "sequences", "organization"],
    {
        "seed": INT,
        "organization": {"type": "object"},
        "sequences": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
    },
)

# Most records a table may hold: past it a create answers 400 (the README gives the memory cost).
LIMITS = {table: 100_000 for table in TABLES if table not in ("projects", "users")} | {"projects": 1000}
