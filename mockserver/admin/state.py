"""/__admin/state and /__admin/fixtures: export, import and named scenarios."""

from __future__ import annotations

from flask import Response

from mockserver.admin import blueprint, json_body, problem, reply, runtime, snapshot


def _summary(doc: dict, name: str | None = None) -> dict:
    rt = runtime()
    return {
        "status": "loaded",
        "fixture": name,
        "description": doc.get("description"),
        "seed": rt.store.seed,
        "parts": snapshot.parts_of(rt),
    }


@blueprint.get("/state")
def get_state() -> Response:
    return reply(snapshot.export(runtime()))


@blueprint.put("/state")
def put_state() -> Response:
    """Replace the whole state; a document that fails its checks changes nothing."""
    body, error = json_body()
    if error:
        return error
    try:
        snapshot.install(runtime(), body)
    except snapshot.SnapshotError as exc:
        return problem(400, exc.detail, exc.field)
    return reply(_summary(body))


@blueprint.get("/state/schema")
def state_schema() -> Response:
    return reply(snapshot.document_schema(runtime()))


@blueprint.get("/fixtures")
def list_fixtures() -> Response:
    rows = []
    for name in snapshot.fixture_names():
        try:
            description = snapshot.read_fixture(name).get("description")
        except snapshot.SnapshotError as exc:
            description = f"unreadable: {exc}"
        rows.append({"name": name, "description": description if isinstance(description, str) else None})
    return reply({"fixtures": rows})


@blueprint.post("/fixtures/<name>/load")
def load_fixture(name: str) -> Response:
    try:
        doc = snapshot.load_fixture(runtime(), name)
    except snapshot.SnapshotError as exc:
        status = 404 if exc.field is None and "no fixture named" in exc.detail else 400
        return problem(status, exc.detail, exc.field)
    return reply(_summary(doc, name))
