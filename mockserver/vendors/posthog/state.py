"""The shape of PostHog's part of the state, as state documents are checked against it."""

from __future__ import annotations

from typing import Any

from mockserver.core.store import MAX_ID
from mockserver.core.tables import BOOL, INT, STAMP, STR, id_table, part_schema
from mockserver.vendors.posthog.approvals import ACTION_KEYS

# PostgreSQL integer ids, as the API's paths take them: a record past them could not be reached.
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

# What the flag rules read of a flag's filters: release groups and variants are objects.
FLAG_FILTERS = {
    "type": "object",
    "properties": {
        "groups": {"type": ["array", "null"], "items": {"type": "object"}},
        "multivariate": {
            "type": ["object", "null"],
            "properties": {"variants": {"type": ["array", "null"], "items": {"type": "object"}}},
        },
    },
}

TABLES = {
    "projects": id_table(["name"], {"id": ID, "name": STR}),
    "users": id_table(["email"], {"id": ID, "email": STR}),
    "flags": id_table(
        ["team_id", "key", "filters", "active", "deleted"],
        {"id": ID, "team_id": INT, "key": STR, "filters": FLAG_FILTERS, "active": BOOL, "deleted": BOOL},
    ),
    "holdouts": id_table(
        ["team_id", "name", "filters"], {"id": ID, "team_id": INT, "name": STR, "filters": {"type": "array"}}
    ),
    "saved_metrics": id_table(
        ["team_id", "name", "query"], {"id": ID, "team_id": INT, "name": STR, "query": {"type": "object"}}
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
            "id": ID,
            "team_id": INT,
            "name": STR,
            "feature_flag_id": {"type": ["integer", "null"]},
            "start_date": STAMP,
            "end_date": STAMP,
            "archived": BOOL,
            "deleted": {"type": ["boolean", "null"]},  # nullable in PostHog (a PATCH may set null)
            "metrics": {"type": ["array", "null"]},
            "metrics_secondary": {"type": ["array", "null"]},
            # links to saved metrics: each names its saved metric by id (the rules look it up)
            "saved_metrics": {
                "type": ["array", "null"],
                "items": {"type": "object", "required": ["saved_metric"], "properties": {"saved_metric": INT}},
            },
            "created_at": STR,
        },
    ),
    "cohorts": id_table(
        ["team_id", "name", "filters", "deleted", "is_static"],
        {"id": ID, "team_id": INT, "name": STR, "filters": {"type": "object"}, "deleted": BOOL, "is_static": BOOL},
    ),
    "actions": id_table(
        ["team_id", "name", "deleted", "steps"],
        {
            "id": ID,
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
    "timeseries_requests": id_table(  # keyed by uuid; what timeseries_results reads of each
        ["experiment_id", "fingerprint", "created_at"],
        {"id": STR, "experiment_id": ID, "metric_uuid": STAMP, "fingerprint": STR, "created_at": STR},
    ),
    "approval_policies": id_table(
        ["project_id", "action_key", "quorum", "users", "roles", "enabled"],
        {
            "id": ID,
            "project_id": INT,
            "action_key": {"enum": list(ACTION_KEYS)},
            "quorum": {"type": "integer", "minimum": 1},
            "users": {"type": "array", "items": INT},
            "roles": {"type": "array", "items": STR},
            "enabled": BOOL,
            "allow_self_approve": BOOL,
            "expires_after_days": {"type": "integer", "minimum": 1, "maximum": 365},
            "created_at": STR,
            "updated_at": STR,
        },
    ),
    # Every field the approval rules read is required and typed: a loaded request must be decidable.
    "change_requests": id_table(
        [
            "team_id",
            "action_key",
            "resource_type",
            "state",
            "intent",
            "policy_snapshot",
            "created_by_id",
            "created_at",
            "updated_at",
            "expires_at",
            "approvals",
        ],
        {
            "id": STR,
            "team_id": INT,
            "action_key": {"enum": list(ACTION_KEYS)},
            "resource_type": STR,
            "resource_id": {"type": ["string", "null"]},
            "state": {"enum": ["pending", "approved", "applied", "rejected", "failed", "expired"]},
            "intent": {
                "type": "object",
                "required": ["operation_id", "method", "path"],
                "properties": {"operation_id": STR, "method": STR, "path": STR, "query_string": STR},
            },
            "policy_snapshot": {
                "type": "object",
                "required": ["quorum", "users", "roles"],
                "properties": {
                    "quorum": {"type": "integer", "minimum": 1},
                    "users": {"type": "array", "items": INT},
                    "roles": {"type": "array", "items": STR},
                    "allow_self_approve": BOOL,
                },
            },
            "created_by_id": INT,
            "applied_by_id": {"type": ["integer", "null"]},
            "created_at": STR,
            "updated_at": STR,
            "expires_at": STR,
            "approvals": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "created_by_id", "decision", "reason", "created_at"],
                    "properties": {"created_by_id": INT, "decision": {"enum": ["approved", "rejected"]}, "reason": STR},
                },
            },
        },
    ),
}

SCHEMA = part_schema(
    TABLES,
    ["seed", "sequences", "organization"],
    {
        "seed": INT,
        "organization": {"type": "object"},
        "sequences": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
    },
)

# The id sequence of each table whose records the API creates with the next id.
SEQUENCES = {
    "experiments": "experiment",
    "flags": "flag",
    "holdouts": "holdout",
    "saved_metrics": "saved_metric",
    "cohorts": "cohort",
    "actions": "action",
    "approval_policies": "approval_policy",
    "projects": "project",
    "users": "user",
}


def settle_sequences(part: dict[str, Any]) -> None:
    """A sequence below an id its table already holds is raised to it: the next create would
    otherwise take that id and replace the record (a document's sequences may be stale or hand-set)."""
    # JSON does not tell 2 from 2.0: a whole float would become ids like 3.0, stored under "3.0".
    sequences = part["sequences"] = {
        name: int(value) if isinstance(value, float) and value.is_integer() else value
        for name, value in (part.get("sequences") or {}).items()
    }

    def at_least(sequence: str, ids: list[int]) -> None:
        if ids and max(ids) > sequences.get(sequence, 0):
            sequences[sequence] = max(ids)

    for table, sequence in SEQUENCES.items():
        rows = (part.get(table) or {}).values()
        at_least(sequence, [row["id"] for row in rows if isinstance(row, dict) and type(row.get("id")) is int])
    experiments = (part.get("experiments") or {}).values()
    links = [
        row["saved_metrics"]
        for row in experiments
        if isinstance(row, dict) and isinstance(row.get("saved_metrics"), list)
    ]
    at_least(
        "saved_metric_link",
        [link["id"] for group in links for link in group if isinstance(link, dict) and type(link.get("id")) is int],
    )


# Most records a table may hold: past it a create answers 400 (the README gives the memory cost).
LIMITS = {table: 100_000 for table in TABLES if table not in ("projects", "users")} | {"projects": 1000}
