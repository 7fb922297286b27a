"""State documents: what GET /__admin/state exports, PUT imports, fixtures hold and --state-file keeps.

One format for all four, so a state captured with ``curl`` is a fixture and a fixture is a
state file. A document names the parts it replaces (``data``), may empty some tables
(``clear``) and patch the result (RFC 7386 JSON Merge Patch, ``patch``); every part it leaves
out of ``data`` comes from the seed::

    {"format": "mockserver/state@1", "description": "...", "seed": 42,
     "clock": {"frozen_at": "2026-06-01T12:00:00Z"},
     "data": {"posthog": {...}}, "clear": {"launchdarkly": ["experiments"]},
     "patch": {"posthog": {"approval_policies": {...}}}}

Everything is checked before anything is installed, so a bad document leaves the state as it
was and the error names the field (``data.posthog.experiments.3.team_id: ...``).
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import orjson

from mockserver.core.clock import Clock, check_range, iso, parse_instant
from mockserver.core.contract import schema_message
from mockserver.core.problems import Problem
from mockserver.core.settings import MAX_SEED
from mockserver.core.tracked import CLOCK_ROW, active
from mockserver.core.verify import first_problem

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime

FORMAT = "mockserver/state@1"


class SnapshotError(ValueError):
    """A document that cannot be loaded; ``field`` is the dotted path of the culprit."""

    def __init__(self, field: str | None, detail: str) -> None:
        super().__init__(f"{field}: {detail}" if field else detail)
        self.field = field
        self.detail = detail


# ---------------------------------------------------------------------------------------------
# Schemas: the fields the mock's rules read, typed; everything else is free-form JSON.

_STR = {"type": "string"}
_INT = {"type": "integer"}


ADMIN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["api_keys"],
    "properties": {
        "api_keys": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                # the rest of a key record is its vendor's grant (scopes, role…)
                "required": ["key", "vendor"],
                "properties": {"key": _STR, "vendor": _STR},
            },
        }
    },
}


def part_schemas(runtime: Runtime) -> dict[str, dict[str, Any]]:
    """The schema of every part of the state: the control API's own and each vendor's."""
    return {"admin": ADMIN_SCHEMA, **{v.name: v.state_schema for v in runtime.vendors}}


def document_schema(runtime: Runtime) -> dict[str, Any]:
    """The JSON Schema of a state document for this server (its control-API part and its vendors)."""
    schemas = part_schemas(runtime)
    parts = list(schemas)
    return {
        "type": "object",
        "required": ["format"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT},
            "description": _STR,
            "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
            "clock": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "frozen_at": {"type": ["string", "null"]},
                    # a running clock moved by /__admin/clock/advance: seconds ahead of real time
                    "offset_seconds": {"type": "number", "minimum": -1e11, "maximum": 1e11},
                },
            },
            "data": {
                "type": "object",
                "additionalProperties": False,
                "properties": schemas,
            },
            "clear": {
                "type": "object",
                "additionalProperties": False,
                "properties": {p: {"type": "array", "items": _STR} for p in parts},
            },
            "patch": {
                "type": "object",
                "additionalProperties": False,
                "properties": {p: {"type": "object"} for p in parts},
            },
        },
    }


def _field(path: list[str | int], prefix: str = "") -> str:
    joined = ".".join(str(p) for p in path)
    return f"{prefix}.{joined}".strip(".") if prefix else joined


_VALIDATORS: dict[bytes, Any] = {}


def _validator(schema: dict[str, Any]) -> Any:
    """Each schema compiled once: the document schema is the same for every import of a server."""
    key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    found = _VALIDATORS.get(key)
    if found is None:
        if len(_VALIDATORS) >= 64:
            _VALIDATORS.clear()
        found = _VALIDATORS[key] = jsonschema_rs.Draft202012Validator(schema)
    return found


def _check(schema: dict[str, Any], value: Any, prefix: str = "") -> None:
    validator = _validator(schema)
    if validator.is_valid(value):
        return
    error = next(iter(validator.iter_errors(value)))
    path = list(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        path.append(kind.property)
        raise SnapshotError(_field(path, prefix), "This field is required.")
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties) and kind.unexpected:
        path.append(kind.unexpected[0])
        raise SnapshotError(_field(path, prefix), "Unknown field.")
    raise SnapshotError(_field(path, prefix) or None, schema_message(error))


def _where(doc: dict[str, Any], field: str) -> str:
    """A refusal found in the built state, named where the document says it: under ``patch`` when
    the patch wrote that record (or replaced or removed its table), else under ``data`` (as the
    schema checks name theirs). Record keys may hold dots (LaunchDarkly's), so they are matched
    against the patch's own keys rather than split out of ``field``."""
    part, _, rest = field.partition(".")
    node: Any = (doc.get("patch") or {}).get(part)
    table, _, tail = rest.partition(".")
    if not isinstance(node, dict) or table not in node:
        return f"data.{field}"
    rows = node[table]
    if isinstance(rows, dict) and not any(tail == key or tail.startswith(f"{key}.") for key in rows):
        return f"data.{field}"
    return f"patch.{field}"


def _check_keys(part: str, state: dict[str, Any]) -> None:
    """Tables are keyed by str(id), or by a path of keys ending in the record's ``key``
    (``project/environment/key``); a mismatch would make the record unreachable, or reached under
    another name."""
    for table, rows in state.items():
        if not isinstance(rows, dict):
            continue
        for key, row in rows.items():
            if not isinstance(row, dict):
                continue
            if "id" in row:
                if str(row["id"]) != key:
                    raise SnapshotError(f"{part}.{table}.{key}.id", f"record stored under {key!r} has id {row['id']!r}")
            elif part != "admin" and isinstance(row.get("key"), str) and not _key_path_of(key, row["key"]):
                raise SnapshotError(f"{part}.{table}.{key}.key", f"record stored under {key!r} has key {row['key']!r}")


def _key_path_of(stored_under: str, key: str) -> bool:
    """A vendor record keyed by its own key or a path ending in it (``project/environment/key``).
    (API keys are stored under ``vendor:key``: the control API's own table, checked by its grants.)"""
    return stored_under == key or stored_under.endswith("/" + key)


def _check_grants(data: dict[str, Any], vendors: dict[str, Any]) -> None:
    """A key record's grant is checked by its vendor, as a registration through the API would be."""
    for key, record in (data.get("admin") or {}).get("api_keys", {}).items():
        vendor = vendors.get(record.get("vendor"))
        if vendor is None:
            raise SnapshotError(f"admin.api_keys.{key}.vendor", f"no vendor is called {record.get('vendor')!r}")
        try:
            vendor.grant(record)
        except Problem as problem:
            raise SnapshotError(f"admin.api_keys.{key}.{problem.attr}", problem.detail) from None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null removes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def patch_part(part: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 on a part, except that a record the patch adds is taken as given: its ``null``
    members are kept (a merge patch would drop them, and a required nullable field such as an
    experiment's ``start_date`` could not be written at all)."""
    out = merge_patch(part, patch)
    for table, rows in patch.items():
        if not isinstance(rows, dict) or not isinstance(out.get(table), dict):
            continue
        held = part.get(table) if isinstance(part.get(table), dict) else {}
        for key, row in rows.items():
            if isinstance(row, dict) and key not in held:
                out[table][key] = copy.deepcopy(row)
    return out


# ---------------------------------------------------------------------------------------------
# Building, installing and exporting


def parts_of(runtime: Runtime) -> list[str]:
    return list(runtime.store.seeders)


def build(runtime: Runtime, doc: Any, seed: int | None = None) -> dict[str, Any]:
    """The store data a document describes, fully checked; nothing is installed."""
    parts = parts_of(runtime)
    _check(document_schema(runtime), doc)
    frozen = (doc.get("clock") or {}).get("frozen_at")
    if frozen is not None:
        try:
            check_range(parse_instant(frozen))
        except ValueError as exc:
            raise SnapshotError("clock.frozen_at", f"not a usable ISO 8601 instant: {frozen!r} ({exc})") from None
    offset = (doc.get("clock") or {}).get("offset_seconds")
    if offset:
        try:
            Clock().advance(timedelta(seconds=offset))  # the same move on a scratch clock: in range?
        except (ValueError, OverflowError) as exc:
            raise SnapshotError("clock.offset_seconds", str(exc)) from None
    given = doc.get("data") or {}
    use_seed = doc.get("seed", runtime.store.seed if seed is None else seed)
    missing = [p for p in parts if p not in given]
    data = runtime.store.seeded(use_seed, only=missing) if missing else {}
    # The parts share their records with ``doc`` (a fixture's document is built again on every
    # reset): ``clear`` replaces tables in a copy of the part, ``patch`` builds new objects along
    # its paths, the checks below only read, and installing copies everything into the store.
    data.update({part: dict(value) for part, value in given.items()})
    for part, tables in (doc.get("clear") or {}).items():
        for table in tables:
            if not isinstance(data[part].get(table), dict | list):
                raise SnapshotError(f"clear.{part}", f"{part} has no table named {table!r}")
            data[part][table] = type(data[part][table])()
    for part, patch in (doc.get("patch") or {}).items():
        data[part] = patch_part(data[part], patch)
        _check(part_schemas(runtime)[part], data[part], f"patch.{part}")
    try:
        for part in parts:
            _check_keys(part, data[part])
        for vendor in runtime.vendors:
            if vendor.settle is not None and isinstance(data.get(vendor.name), dict):  # given, patched or seeded
                vendor.settle(data[vendor.name])
        _check_grants(data, {v.name: v for v in runtime.vendors})
        for vendor in runtime.vendors:
            if vendor.verify is not None and vendor.name in data:
                found = first_problem(vendor.contract, vendor.verify(data[vendor.name]))
                if found is not None:
                    raise SnapshotError(f"{vendor.name}.{found[0]}", found[1])
    except SnapshotError as exc:
        if exc.field is None:
            raise
        raise SnapshotError(_where(doc, exc.field), exc.detail) from None
    return {part: data[part] for part in parts}


def install(runtime: Runtime, doc: dict[str, Any], seed: int | None = None) -> None:
    """Build then swap in; the clock follows the document's ``clock`` when it has one, and the
    server's seed its ``seed``: the world in place is that seed's, so health, exports and later
    resets say and use it (an export loaded back is the same document, as a state file resumes).

    Inside a transaction the clock's move and the seed's are undone with the rest when the request fails.
    """
    data = build(runtime, doc, seed)
    with runtime.store.lock:
        runtime.store.restore(data)
        tx = active()
        if tx is not None:
            tx.log(runtime.clock.restorer(), CLOCK_ROW)
        if isinstance(doc.get("seed"), int):
            if tx is not None:
                old = runtime.store.seed
                tx.log(lambda: setattr(runtime.store, "seed", old), None)
            runtime.store.seed = doc["seed"]
        if "clock" in doc:
            frozen = doc["clock"].get("frozen_at")
            if frozen is None:
                runtime.clock.unfreeze()
                offset = doc["clock"].get("offset_seconds")
                if offset:
                    runtime.clock.advance(timedelta(seconds=offset))
            else:
                runtime.clock.freeze(parse_instant(frozen))


def clock_json(runtime: Runtime) -> dict[str, Any]:
    """The clock as a document records it: frozen at an instant, or running (maybe advanced)."""
    clock: dict[str, Any] = {"frozen_at": iso(runtime.clock.now()) if runtime.clock.frozen else None}
    if not runtime.clock.frozen and runtime.clock.offset:
        clock["offset_seconds"] = runtime.clock.offset.total_seconds()
    return clock


def export(runtime: Runtime, live: bool = False) -> dict[str, Any]:
    """The state as a document: a copy, or with ``live`` the store's own containers.

    A live document is only good while the store lock is held (the control API's handler encodes
    it before the lock lets a write in): 50,000 experiments export in the time orjson takes to
    encode them, instead of first copying a million containers.
    """
    with runtime.store.lock:
        data = dict(runtime.store.data) if live else runtime.store.snapshot()
        return {"format": FORMAT, "seed": runtime.store.seed, "clock": clock_json(runtime), "data": data}
