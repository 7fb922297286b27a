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
import importlib.util
import json
import os
import re
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from mockserver.core.clock import Clock, iso, parse_instant
from mockserver.core.verify import first_problem

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime

FORMAT = "mockserver/state@1"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


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
                "required": ["key", "vendor", "scopes", "role"],
                "properties": {
                    "key": _STR,
                    "vendor": _STR,
                    "scopes": {"type": "array", "items": _STR},
                    "role": {"enum": ["reader", "writer", "admin"]},
                },
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
            "seed": _INT,
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


def _check(schema: dict[str, Any], value: Any, prefix: str = "") -> None:
    error = next(iter(jsonschema_rs.Draft202012Validator(schema).iter_errors(value)), None)
    if error is None:
        return
    path = list(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        path.append(kind.property)
        raise SnapshotError(_field(path, prefix), "this field is required")
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties) and kind.unexpected:
        path.append(kind.unexpected[0])
        raise SnapshotError(_field(path, prefix), "unknown field")
    raise SnapshotError(_field(path, prefix) or None, error.message)


def _check_keys(part: str, state: dict[str, Any]) -> None:
    """Tables are keyed by str(id); a mismatch would make the record unreachable."""
    for table, rows in state.items():
        if not isinstance(rows, dict):
            continue
        for key, row in rows.items():
            if isinstance(row, dict) and "id" in row and str(row["id"]) != key:
                raise SnapshotError(f"{part}.{table}.{key}.id", f"record stored under {key!r} has id {row['id']!r}")


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
            parse_instant(frozen)
        except ValueError:
            raise SnapshotError("clock.frozen_at", f"not an ISO 8601 instant: {frozen!r}") from None
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
    data.update(copy.deepcopy(given))
    for part, tables in (doc.get("clear") or {}).items():
        for table in tables:
            if not isinstance(data[part].get(table), dict | list):
                raise SnapshotError(f"clear.{part}", f"{part} has no table named {table!r}")
            data[part][table] = type(data[part][table])()
    for part, patch in (doc.get("patch") or {}).items():
        data[part] = merge_patch(data[part], patch)
        _check(part_schemas(runtime)[part], data[part], f"patch.{part}")
    for part in parts:
        _check_keys(part, data[part])
    for vendor in runtime.vendors:
        if vendor.verify is not None and vendor.name in data:
            found = first_problem(vendor.contract, vendor.verify(data[vendor.name]))
            if found is not None:
                raise SnapshotError(f"{vendor.name}.{found[0]}", found[1])
    return {part: data[part] for part in parts}


def install(runtime: Runtime, doc: dict[str, Any], seed: int | None = None) -> None:
    """Build then swap in; the clock follows the document's ``clock`` when it has one."""
    data = build(runtime, doc, seed)
    with runtime.store.lock:
        runtime.store.restore(data)
        if "clock" in doc:
            frozen = doc["clock"].get("frozen_at")
            if frozen is None:
                runtime.clock.unfreeze()
                offset = doc["clock"].get("offset_seconds")
                if offset:
                    runtime.clock.advance(timedelta(seconds=offset))
            else:
                runtime.clock.freeze(parse_instant(frozen))


def export(runtime: Runtime) -> dict[str, Any]:
    with runtime.store.lock:
        data = runtime.store.snapshot()
        clock: dict[str, Any] = {"frozen_at": iso(runtime.clock.now()) if runtime.clock.frozen else None}
        if not runtime.clock.frozen and runtime.clock.offset:
            clock["offset_seconds"] = runtime.clock.offset.total_seconds()
        return {"format": FORMAT, "seed": runtime.store.seed, "clock": clock, "data": data}


# ---------------------------------------------------------------------------------------------
# Fixtures: named documents shipped in fixtures/, or any path


def fixtures_dir() -> Path:
    """The installed ``mockserver.fixtures`` (a namespace package: look at its locations), else the checkout's."""
    try:
        found = importlib.util.find_spec("mockserver.fixtures")
    except ModuleNotFoundError:
        found = None
    for location in (found.submodule_search_locations or []) if found else []:
        if (Path(location) / "demo.json").is_file():
            return Path(location)
    return Path(__file__).resolve().parent.parent.parent / "fixtures"


def fixture_names() -> list[str]:
    return sorted(p.stem for p in fixtures_dir().glob("*.json"))


def read_fixture(name_or_path: str | os.PathLike[str]) -> dict[str, Any]:
    """A fixture by name (``demo``) or path; the error says which file and what is wrong."""
    text = str(name_or_path)
    path = fixtures_dir() / f"{text}.json" if _NAME.match(text) else Path(text)
    if not path.is_file():
        if _NAME.match(text):
            raise SnapshotError(None, f"no fixture named {text!r}; known fixtures: {', '.join(fixture_names())}")
        raise SnapshotError(None, f"fixture file {text} does not exist")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SnapshotError(None, f"fixture {path} is not valid JSON: {exc}") from None
    return doc


def load_fixture(runtime: Runtime, name_or_path: str, seed: int | None = None) -> dict[str, Any]:
    """Install a fixture; returns its document. Errors name the file and the field."""
    doc = read_fixture(name_or_path)
    try:
        install(runtime, doc, seed)
    except SnapshotError as exc:
        raise SnapshotError(exc.field, f"{exc.detail} (in fixture {name_or_path})") from None
    return doc


# ---------------------------------------------------------------------------------------------
# --state-file


class StateFile:
    """Writes the exported state after each change: temp file, fsync, os.replace.

    A reader (or a restart after ``kill -9``) sees either the previous complete file or the new
    complete file, never a torn one. Writes are skipped when nothing changed.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._last: bytes | None = None

    def load(self, runtime: Runtime) -> bool:
        """Install the file if it exists; False when there is none yet."""
        if not self.path.is_file():
            return False
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SnapshotError(None, f"state file {self.path} is not valid JSON: {exc}") from None
        try:
            install(runtime, doc)
        except SnapshotError as exc:
            raise SnapshotError(exc.field, f"{exc.detail} (in state file {self.path})") from None
        if isinstance(doc.get("seed"), int):
            runtime.store.seed = doc["seed"]  # the file records the seed the server was on: resume it
        return True

    def save(self, runtime: Runtime) -> bool:
        with self._lock:
            blob = json.dumps(export(runtime), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if blob == self._last:
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(blob)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(self.path.parent)
            self._last = blob
            return True


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
