"""Each kind of difference, found and classified for a client, on small hand-made documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.drift.helpers import base_doc, diff, one, only, variant

S = "components"


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["components"]["schemas"]


def get_op(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["paths"]["/things/{thingId}"]["get"]


def post_op(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["paths"]["/things"]["post"]


def test_identical_documents_have_no_findings() -> None:
    assert diff(base_doc(), base_doc()) == []


def test_openapi_30_and_31_spellings_of_nullable_are_the_same() -> None:
    assert diff(base_doc("3.1.0"), base_doc("3.0.3")) == []
    assert diff(base_doc("3.0.3"), base_doc("3.1.0")) == []


# (mutation of the vendor's copy, kind, breaking, where starts with, field)
CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, bool, str, str | None]] = [
    (
        "response field removed",
        lambda d: schemas(d)["Thing"]["properties"].pop("score"),
        "response_field_removed",
        True,
        "response 200",
        "score",
    ),
    (
        "response field added",
        lambda d: schemas(d)["Thing"]["properties"].update(color={"type": "string"}),
        "response_field_added",
        False,
        "response 200",
        "color",
    ),
    (
        "response field retyped",
        lambda d: schemas(d)["Thing"]["properties"].update(name={"type": "integer"}),
        "response_retyped",
        True,
        "response 200",
        "name",
    ),
    (
        "response number narrowed to integer",
        lambda d: schemas(d)["Thing"]["properties"].update(score={"type": "integer"}),
        "response_type_narrowed",
        False,
        "response 200",
        "score",
    ),
    (
        "response field may now be null (3.1 type list)",
        lambda d: schemas(d)["Thing"]["properties"].update(name={"type": ["string", "null"]}),
        "response_nullable_added",
        True,
        "response 200",
        "name",
    ),
    (
        "response field no longer null",
        lambda d: schemas(d)["Thing"]["properties"].update(note={"type": "string"}),
        "response_nullable_removed",
        False,
        "response 200",
        "note",
    ),
    (
        "response enum value added",
        lambda d: schemas(d)["Thing"]["properties"]["status"]["enum"].append("paused"),
        "response_enum_value_added",
        True,
        "response 200",
        "status",
    ),
    (
        "response enum value removed",
        lambda d: schemas(d)["Thing"]["properties"]["status"]["enum"].remove("stopped"),
        "response_enum_value_removed",
        False,
        "response 200",
        "status",
    ),
    (
        "response field may now be absent",
        lambda d: schemas(d)["Thing"]["required"].remove("name"),
        "response_field_optional",
        True,
        "response 200",
        "name",
    ),
    (
        "response field now always sent",
        lambda d: schemas(d)["Thing"]["required"].append("score"),
        "response_field_required",
        False,
        "response 200",
        "score",
    ),
    (
        "response format changed",
        lambda d: schemas(d)["Thing"]["properties"]["created"].update(format="date"),
        "response_format_changed",
        False,
        "response 200",
        "created",
    ),
    (
        "response array items retyped",
        lambda d: schemas(d)["Thing"]["properties"]["tags"].update(items={"type": "integer"}),
        "response_retyped",
        True,
        "response 200",
        "tags[]",
    ),
    (
        "response map values retyped",
        lambda d: schemas(d)["Thing"]["properties"]["labels"].update(additionalProperties={"type": "boolean"}),
        "response_retyped",
        True,
        "response 200",
        "labels{*}",
    ),
    (
        "request new required field",
        lambda d: (
            schemas(d)["ThingInput"]["properties"].update(owner={"type": "string"}),
            schemas(d)["ThingInput"]["required"].append("owner"),
        ),
        "request_field_added",
        True,
        "request body application/json",
        "owner",
    ),
    (
        "request new optional field",
        lambda d: schemas(d)["ThingInput"]["properties"].update(owner={"type": "string"}),
        "request_field_added",
        False,
        "request body application/json",
        "owner",
    ),
    (
        "request field removed",
        lambda d: schemas(d)["ThingInput"]["properties"].pop("size"),
        "request_field_removed",
        True,
        "request body application/json",
        "size",
    ),
    (
        "request field now required",
        lambda d: schemas(d)["ThingInput"]["required"].append("size"),
        "request_field_required",
        True,
        "request body application/json",
        "size",
    ),
    (
        "request field now optional",
        lambda d: schemas(d)["ThingInput"]["required"].remove("name"),
        "request_field_optional",
        False,
        "request body application/json",
        "name",
    ),
    (
        "request enum value removed",
        lambda d: schemas(d)["ThingInput"]["properties"]["kind"]["enum"].remove("large"),
        "request_enum_value_removed",
        True,
        "request body application/json",
        "kind",
    ),
    (
        "request enum value added",
        lambda d: schemas(d)["ThingInput"]["properties"]["kind"]["enum"].append("medium"),
        "request_enum_value_added",
        False,
        "request body application/json",
        "kind",
    ),
    (
        "request integer widened to number",
        lambda d: schemas(d)["ThingInput"]["properties"].update(size={"type": "number"}),
        "request_type_widened",
        False,
        "request body application/json",
        "size",
    ),
    (
        "request field retyped",
        lambda d: schemas(d)["ThingInput"]["properties"].update(size={"type": "string"}),
        "request_retyped",
        True,
        "request body application/json",
        "size",
    ),
    (
        "request null no longer accepted",
        lambda d: schemas(d)["ThingInput"]["properties"].update(note={"type": "string"}),
        "request_nullable_removed",
        True,
        "request body application/json",
        "note",
    ),
    (
        "request now accepts null",
        lambda d: schemas(d)["ThingInput"]["properties"].update(size={"type": ["integer", "null"]}),
        "request_nullable_added",
        False,
        "request body application/json",
        "size",
    ),
    (
        "request field in a recursive schema removed",
        lambda d: schemas(d)["ThingInput"]["properties"].pop("kind"),
        "request_field_removed",
        True,
        "request body application/json",
        "kind",
    ),
    (
        "required query parameter added",
        lambda d: get_op(d)["parameters"].append(
            {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        "parameter_added",
        True,
        "query parameter region",
        None,
    ),
    (
        "optional header parameter added",
        lambda d: get_op(d)["parameters"].append({"name": "X-Trace", "in": "header", "schema": {"type": "string"}}),
        "parameter_added",
        False,
        "header parameter X-Trace",
        None,
    ),
    (
        "query parameter removed",
        lambda d: get_op(d)["parameters"].pop(1),
        "parameter_removed",
        True,
        "query parameter limit",
        None,
    ),
    (
        "query parameter retyped",
        lambda d: get_op(d)["parameters"][1].update(schema={"type": "string"}),
        "parameter_retyped",
        True,
        "query parameter limit",
        None,
    ),
    (
        "query parameter now required",
        lambda d: get_op(d)["parameters"][1].update(required=True),
        "parameter_required",
        True,
        "query parameter limit",
        None,
    ),
    (
        "query parameter enum value removed",
        lambda d: get_op(d)["parameters"][0]["schema"]["enum"].remove("owner"),
        "parameter_enum_value_removed",
        True,
        "query parameter expand",
        None,
    ),
    (
        "error status added",
        lambda d: get_op(d)["responses"].update({"429": {"description": ""}}),
        "response_status_added",
        False,
        "response 429",
        None,
    ),
    (
        "success status added",
        lambda d: get_op(d)["responses"].update({"203": {"description": ""}}),
        "response_status_added",
        True,
        "response 203",
        None,
    ),
    (
        "error status removed",
        lambda d: get_op(d)["responses"].pop("404"),
        "response_status_removed",
        False,
        "response 404",
        None,
    ),
    (
        "the only success status replaced",
        lambda d: get_op(d)["responses"].update({"206": get_op(d)["responses"].pop("200")}),
        "response_status_removed",
        True,
        "response 200",
        None,
    ),
    (
        "request body now optional",
        lambda d: post_op(d)["requestBody"].update(required=False),
        "request_body_optional",
        False,
        "",
        None,
    ),
    (
        "request media type removed",
        lambda d: post_op(d)["requestBody"].update(
            content={"application/x-www-form-urlencoded": post_op(d)["requestBody"]["content"]["application/json"]}
        ),
        "request_media_type_removed",
        True,
        "request body application/json",
        None,
    ),
    (
        "response body no longer documented",
        lambda d: get_op(d)["responses"]["200"].pop("content"),
        "response_body_removed",
        True,
        "response 200",
        None,
    ),
]


@pytest.mark.parametrize(
    ("mutate", "kind", "breaking", "where", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_kind_of_change_is_found_and_classified(mutate, kind, breaking, where, field) -> None:
    theirs = variant(base_doc())
    mutate(theirs)
    found = diff(base_doc(), theirs)
    matching = [f for f in only(found, kind) if f.where.startswith(where) and f.field == field]
    assert matching, f"no {kind} at {where} {field}; found {[(f.kind, f.where, f.field) for f in found]}"
    assert all(f.breaking is breaking for f in matching)
    # Nothing else is reported for a single change (replacing a status or media type also adds one).
    assert {f.kind for f in found} - {kind} <= {"response_status_added", "request_media_type_added"}


def test_a_removed_response_field_is_reported_at_every_place_its_component_is_used() -> None:
    theirs = variant(base_doc())
    schemas(theirs)["Thing"]["properties"].pop("name")
    found = only(diff(base_doc(), theirs), "response_field_removed")
    assert {(f.operation, f.where, f.field) for f in found} == {
        ("getThing", "response 200 application/json", "name"),
        ("createThing", "response 201 application/json", "name"),
    }
    assert {f.schema for f in found} == {"Thing.name"}
    assert all(f.breaking for f in found)


def test_a_difference_inside_a_recursive_schema_stops_at_the_cycle() -> None:
    theirs = variant(base_doc())
    schemas(theirs)["Thing"]["properties"]["tags"]["items"] = {"type": "integer"}
    found = diff(base_doc(), theirs)
    # Thing.parts[] is Thing again: the difference is reported where Thing is first entered, once per use.
    assert {f.field for f in found} == {"tags[]"}


def test_mutually_recursive_schemas_terminate() -> None:
    ours = base_doc()
    schemas(ours)["A"] = {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}}
    schemas(ours)["B"] = {
        "type": "object",
        "properties": {"a": {"$ref": "#/components/schemas/A"}, "x": {"type": "string"}},
    }
    schemas(ours)["Thing"]["properties"]["a"] = {"$ref": "#/components/schemas/A"}
    theirs = variant(ours)
    schemas(theirs)["B"]["properties"]["x"] = {"type": "boolean"}
    found = diff(ours, theirs)
    assert {(f.kind, f.field) for f in found} == {("response_retyped", "a.b.x")}
    # A schema that is its own allOf, or a reference to itself, reads as "any" rather than looping.
    schemas(ours)["Loop"] = {"allOf": [{"$ref": "#/components/schemas/Loop"}]}
    schemas(ours)["Self"] = {"$ref": "#/components/schemas/Self"}
    schemas(ours)["Thing"]["properties"].update(
        loop={"$ref": "#/components/schemas/Loop"}, me={"$ref": "#/components/schemas/Self"}
    )
    assert diff(ours, variant(ours)) == []


def test_all_of_ref_and_inline_spellings_are_equivalent() -> None:
    theirs = variant(base_doc())
    thing = schemas(theirs)["Thing"]
    schemas(theirs)["ThingBase"] = {
        "type": "object",
        "required": ["id"],
        "properties": {k: thing["properties"][k] for k in ("id", "name")},
    }
    rest = {k: v for k, v in thing["properties"].items() if k not in ("id", "name")}
    schemas(theirs)["Thing"] = {
        "allOf": [
            {"$ref": "#/components/schemas/ThingBase"},
            {"type": "object", "required": ["name", "status"], "properties": rest},
        ]
    }
    # And the error schema written inline instead of by reference.
    get_op(theirs)["responses"]["404"]["content"]["application/json"]["schema"] = schemas(theirs)["Error"]
    assert diff(base_doc(), theirs) == []


def test_drf_style_enum_with_blank_and_null_branches_is_one_nullable_enum() -> None:
    ours = base_doc()
    schemas(ours)["Thing"]["properties"]["status"] = {
        "type": ["string", "null"],
        "enum": ["draft", "running", "", None],
    }
    theirs = variant(ours)
    schemas(theirs).update(
        StatusEnum={"type": "string", "enum": ["draft", "running"]},
        BlankEnum={"enum": [""]},
        NullEnum={"enum": [None]},
    )
    schemas(theirs)["Thing"]["properties"]["status"] = {
        "oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in ("StatusEnum", "BlankEnum", "NullEnum")]
    }
    assert diff(ours, theirs) == []
    # 3.0's nullable on an allOf wrapper around a reference is the same thing as well.
    ours30, theirs30 = base_doc("3.0.3"), base_doc("3.0.3")
    schemas(theirs30)["Note"] = {"type": "string"}
    schemas(theirs30)["Thing"]["properties"]["note"] = {
        "allOf": [{"$ref": "#/components/schemas/Note"}],
        "nullable": True,
    }
    assert diff(ours30, theirs30) == []


def test_alternatives_added_to_a_response_are_breaking_and_removed_from_a_request_too() -> None:
    ours = base_doc()
    schemas(ours).update(Cat={"type": "object", "properties": {"meow": {"type": "string"}}})
    schemas(ours).update(Dog={"type": "object", "properties": {"bark": {"type": "string"}}})
    pet = {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]}
    schemas(ours)["Thing"]["properties"]["pet"] = pet
    schemas(ours)["ThingInput"]["properties"]["pet"] = pet
    theirs = variant(ours)
    schemas(theirs).update(Fish={"type": "object", "properties": {"swim": {"type": "boolean"}}})
    schemas(theirs)["Thing"]["properties"]["pet"]["oneOf"].append({"$ref": "#/components/schemas/Fish"})
    schemas(theirs)["ThingInput"]["properties"]["pet"] = {
        "oneOf": [{"$ref": "#/components/schemas/Dog"}, {"$ref": "#/components/schemas/Fish"}]
    }
    found = diff(ours, theirs)
    added = one([f for f in found if f.where.startswith("response 200")], "response_alternative_added")
    assert added.breaking and added.theirs == "Fish"
    removed = one(found, "request_alternative_removed")
    assert removed.breaking and removed.ours == "Cat"
    assert only(found, "request_alternative_added")[0].breaking is False


def test_read_only_fields_do_not_count_in_requests() -> None:
    ours = base_doc()
    schemas(ours)["ThingInput"]["properties"]["id"] = {"type": "integer", "readOnly": True}
    theirs = variant(ours)
    del schemas(theirs)["ThingInput"]["properties"]["id"]
    assert diff(ours, theirs) == []


def test_operation_removed_moved_renamed_and_added() -> None:
    ours = base_doc()
    # Removed: gone by path and by operationId.
    theirs = variant(ours)
    del theirs["paths"]["/things"]
    removed = one(diff(ours, theirs), "operation_removed")
    assert removed.breaking and removed.operation == "createThing" and removed.method == "POST"

    # Moved: the same operationId on another path.
    theirs = variant(ours)
    theirs["paths"]["/v2/things"] = theirs["paths"].pop("/things")
    moved = one(diff(ours, theirs), "operation_moved")
    assert moved.breaking and moved.theirs == "POST /v2/things"

    # Path parameter names do not matter; a new operationId is a note.
    theirs = variant(ours)
    item = theirs["paths"].pop("/things/{thingId}")
    item["parameters"][0]["name"] = "id"
    item["get"]["operationId"] = "readThing"
    theirs["paths"]["/things/{id}"] = item
    found = diff(ours, theirs)
    assert {f.kind for f in found} == {"path_parameter_renamed", "operation_id_changed"}
    assert not any(f.breaking for f in found)

    # Added next to what we serve: a note; elsewhere in the vendor's API: not our business.
    theirs = variant(ours)
    theirs["paths"]["/things/{thingId}"]["delete"] = {
        "operationId": "deleteThing",
        "responses": {"204": {"description": ""}},
    }
    theirs["paths"]["/things/{thingId}/archive"] = {
        "post": {"operationId": "archiveThing", "responses": {"200": {"description": ""}}}
    }
    theirs["paths"]["/widgets"] = {"get": {"operationId": "listWidgets", "responses": {"200": {"description": ""}}}}
    added = only(diff(ours, theirs), "operation_added")
    assert {f.operation for f in added} == {"deleteThing", "archiveThing"}
    assert not any(f.breaking for f in added)

    # Deprecation is worth a note.
    theirs = variant(ours)
    get_op(theirs)["deprecated"] = True
    assert one(diff(ours, theirs), "operation_deprecated").breaking is False


def test_server_base_paths_are_part_of_the_path() -> None:
    ours = base_doc()
    ours["servers"] = [{"url": "/"}]
    ours["paths"] = {f"/api{p}": item for p, item in ours["paths"].items()}
    theirs = base_doc()
    theirs["servers"] = [{"url": "https://{region}.example.test/api", "variables": {"region": {"default": "eu"}}}]
    assert diff(ours, theirs) == []


def test_vendor_extensions_and_external_references_are_ignored() -> None:
    theirs = variant(base_doc())
    theirs["paths"]["x-internal"] = {"note": "not a path"}
    get_op(theirs)["x-rate-limit"] = {"requests": 10}
    get_op(theirs)["responses"]["x-note"] = "not a status"
    schemas(theirs)["Thing"]["x-go-type"] = "Thing"
    assert diff(base_doc(), theirs) == []
    schemas(theirs)["Thing"]["properties"]["labels"] = {"$ref": "other.yaml#/Labels"}
    found = diff(base_doc(), theirs)
    assert not any(f.breaking for f in found)


def test_request_body_added_and_removed() -> None:
    ours = base_doc()
    theirs = variant(ours)
    get_op(theirs)["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    assert one(diff(ours, theirs), "request_body_added").breaking is True
    theirs = variant(ours)
    del post_op(theirs)["requestBody"]
    assert one(diff(ours, theirs), "request_body_removed").breaking is True
