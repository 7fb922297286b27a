"""/__admin/state and /__admin/fixtures: export, import and named scenarios."""

from __future__ import annotations

from typing import Any

from mockserver.core import documents, fixtures
from mockserver.core.documents import SnapshotError
from mockserver.core.problems import Problem
from mockserver.core.vendor import Call, Reply


def _summary(call: Call, doc: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    return {
        "status": "loaded",
        "fixture": name,
        "description": doc.get("description"),
        "seed": call.runtime.store.seed,
        "parts": documents.parts_of(call.runtime),
    }


def _refused(exc: SnapshotError) -> Problem:
    return Problem("bad_request", exc.detail, attr=exc.field)


def get_state(call: Call) -> Reply:
    return Reply(200, documents.export(call.runtime, live=True))  # checked and encoded under the store lock


def put_state(call: Call) -> Reply:
    """Replace the whole state; a document that fails its checks changes nothing."""
    try:
        documents.install(call.runtime, call.body)
    except SnapshotError as exc:
        raise _refused(exc) from None
    return Reply(200, _summary(call, call.body))


def state_schema(call: Call) -> Reply:
    return Reply(200, documents.document_schema(call.runtime))


def list_fixtures(call: Call) -> Reply:
    rows = []
    for name in fixtures.fixture_names():
        try:
            description = fixtures.read_fixture(name).get("description")
        except SnapshotError as exc:
            description = f"unreadable: {exc}"
        rows.append({"name": name, "description": description if isinstance(description, str) else None})
    return Reply(200, {"fixtures": rows})


def load_fixture(call: Call) -> Reply:
    name = call.path["name"]
    if name not in fixtures.fixture_names():
        raise Problem("not_found", f"no fixture named {name!r}; known fixtures: {', '.join(fixtures.fixture_names())}")
    try:
        doc = fixtures.load_fixture(call.runtime, name)
    except SnapshotError as exc:
        raise _refused(exc) from None
    return Reply(200, _summary(call, doc, name))


HANDLERS = {
    "getState": get_state,
    "putState": put_state,
    "getStateSchema": state_schema,
    "listFixtures": list_fixtures,
    "loadFixture": load_fixture,
}
