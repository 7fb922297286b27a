"""Drift of our own bundled specs against variants of themselves, and against LaunchDarkly's whole spec.

Expectations come from the documents the tests build, not from the set of operations we serve
today (which grows).
"""

from __future__ import annotations

import copy
import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest

from mockserver.core.contract import load_spec
from mockserver.drift.compare import compare, operations, template
from mockserver.drift.shapes import Resolver

LD_FULL = Path(__file__).parent / "data" / "launchdarkly-openapi-v2.json.gz"


@pytest.fixture(scope="module")
def ld_full() -> dict[str, Any]:
    return json.loads(gzip.decompress(LD_FULL.read_bytes()))


def to_openapi_30(node: Any) -> Any:
    """Our 3.1 spec spelled as 3.0: ``type: [x, "null"]`` becomes ``type: x, nullable: true``."""
    if isinstance(node, dict):
        out = {k: to_openapi_30(v) for k, v in node.items() if k != "examples"}
        kinds = node.get("type")
        if isinstance(kinds, list) and "null" in kinds and len(kinds) == 2:
            out["type"] = next(k for k in kinds if k != "null")
            out["nullable"] = True
        if node.get("openapi", "").startswith("3.1") if isinstance(node.get("openapi"), str) else False:
            out["openapi"] = "3.0.3"
        return out
    if isinstance(node, list):
        return [to_openapi_30(v) for v in node]
    return node


@pytest.mark.parametrize("vendor", ["posthog", "launchdarkly"])
def test_our_spec_has_no_drift_from_itself_in_either_openapi_version(vendor: str) -> None:
    ours = load_spec(vendor)
    assert compare(vendor, ours, copy.deepcopy(ours)).findings == []
    assert compare(vendor, ours, to_openapi_30(ours)).findings == []


def _first_response_object(doc: dict[str, Any]) -> tuple[str, str, dict[str, Any], str]:
    """(operationId, status, the resolved response schema, one of its properties) of the first operation with one."""
    resolver = Resolver(doc)
    for op in operations(doc, resolver):
        for status, response in (op.node.get("responses") or {}).items():
            if not str(status).startswith("2"):
                continue
            media = (resolver.deref(response).get("content") or {}).get("application/json")
            schema = resolver.deref((media or {}).get("schema"))
            props = schema.get("properties") if isinstance(schema, dict) else None
            if props and "allOf" not in schema:
                return op.operation_id, str(status), schema, sorted(props)[0]
    raise AssertionError("no operation with a JSON object response")


@pytest.mark.parametrize("vendor", ["posthog", "launchdarkly"])
def test_a_response_field_removed_from_a_variant_of_our_spec_is_breaking(vendor: str) -> None:
    ours = load_spec(vendor)
    theirs = copy.deepcopy(ours)
    operation_id, status, schema, name = _first_response_object(theirs)
    del schema["properties"][name]
    report = compare(vendor, ours, theirs)
    hits = [f for f in report.findings if f.kind == "response_field_removed" and f.operation == operation_id]
    assert any(f.where == f"response {status} application/json" and f.field == name for f in hits), report.findings
    assert all(f.breaking for f in report.findings if f.kind == "response_field_removed")
    assert report.exit_status == 1


@pytest.mark.parametrize("vendor", ["posthog", "launchdarkly"])
def test_a_new_required_request_field_in_a_variant_of_our_spec_is_breaking(vendor: str) -> None:
    ours = load_spec(vendor)
    theirs = copy.deepcopy(ours)
    resolver = Resolver(theirs)
    for op in operations(theirs, resolver):
        body = resolver.deref(op.node.get("requestBody"))
        media = ((body or {}).get("content") or {}).get("application/json") if isinstance(body, dict) else None
        schema = resolver.deref((media or {}).get("schema"))
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            schema["properties"]["brandNewField"] = {"type": "string"}
            schema["required"] = [*schema.get("required", []), "brandNewField"]
            break
    else:
        pytest.skip("no operation with a JSON object request body")
    report = compare(vendor, ours, theirs)
    added = [f for f in report.findings if f.kind == "request_field_added" and f.field == "brandNewField"]
    assert added and all(f.breaking for f in added)
    assert op.operation_id in {f.operation for f in added}


@pytest.mark.parametrize("vendor", ["posthog", "launchdarkly"])
def test_an_enum_value_added_to_a_variant_of_our_spec_response_is_breaking(vendor: str) -> None:
    ours = load_spec(vendor)
    theirs = copy.deepcopy(ours)
    target = None
    for name, schema in theirs["components"]["schemas"].items():
        for prop, sub in (schema.get("properties") or {}).items():
            if (
                isinstance(sub, dict)
                and isinstance(sub.get("enum"), list)
                and all(isinstance(v, str | None) for v in sub["enum"])
            ):
                sub["enum"].append("brand-new-value")
                target = (name, prop)
                break
        if target:
            break
    assert target, "no string enum in the spec's components"
    found = [f for f in compare(vendor, ours, theirs).findings if f.schema == f"{target[0]}.{target[1]}"]
    assert found, f"the change to {target} is not reached from any operation"
    kinds = {(f.kind, f.breaking) for f in found}
    assert kinds <= {
        ("response_enum_value_added", True),
        ("request_enum_value_added", False),
        ("parameter_enum_value_added", False),
    }


def test_launchdarkly_full_spec_against_ours_finishes_quickly_and_matches_what_it_should(ld_full) -> None:
    ours = load_spec("launchdarkly")
    started = time.perf_counter()
    report = compare("launchdarkly", ours, ld_full, "launchdarkly-openapi-v2")
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"took {elapsed:.1f}s"
    json.dumps(report.to_json())  # the JSON report can always be written

    vendor_ops = operations(ld_full, Resolver(ld_full))
    routes = {(op.method, op.template) for op in vendor_ops}
    ids = {op.operation_id for op in vendor_ops}
    gone = {f.operation: f.kind for f in report.findings if f.kind in ("operation_removed", "operation_moved")}
    for op in operations(ours, Resolver(ours)):
        if (op.method, template(op.path)) in routes:
            assert op.label not in gone
        elif op.operation_id in ids:
            assert gone[op.label] == "operation_moved"
        else:
            assert gone[op.label] == "operation_removed"
    assert report.compared == len(operations(ours, Resolver(ours)))
    assert all(isinstance(f.breaking, bool) and f.kind and f.message for f in report.findings)


def test_launchdarkly_full_spec_against_itself_walks_every_operation_without_findings(ld_full) -> None:
    started = time.perf_counter()
    report = compare("launchdarkly", ld_full, copy.deepcopy(ld_full))
    assert report.findings == []
    assert report.compared == report.matched > 300
    assert time.perf_counter() - started < 20


def test_a_change_to_a_shared_launchdarkly_component_is_found_everywhere_it_is_used(ld_full) -> None:
    theirs = copy.deepcopy(ld_full)
    experiment = theirs["components"]["schemas"]["Experiment"]
    name = sorted(experiment["required"])[0]
    del experiment["properties"][name]
    report = compare("launchdarkly", ld_full, theirs)
    removed = [f for f in report.findings if f.kind == "response_field_removed"]
    assert removed and {f.schema for f in removed} == {f"Experiment.{name}"}
    assert {"getExperiment", "getExperiments", "createExperiment"} <= {f.operation for f in removed}
    assert all(f.breaking for f in removed)


# ---------------------------------------------------------------------------------------------
# More single changes to a copy of our own specs; each finds its own target in the document.


def _response_props(doc: dict[str, Any]) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    """(operationId, the response object schema, a required string property, its schema)."""
    resolver = Resolver(doc)
    for op in operations(doc, resolver):
        for status, response in (op.node.get("responses") or {}).items():
            if not str(status).startswith("2"):
                continue
            media = (resolver.deref(response).get("content") or {}).get("application/json")
            schema = resolver.deref((media or {}).get("schema"))
            if not isinstance(schema, dict) or "allOf" in schema:
                continue
            for name in sorted(schema.get("required") or []):
                prop = (schema.get("properties") or {}).get(name)
                if isinstance(prop, dict) and prop.get("type") == "string" and "enum" not in prop:
                    return op.operation_id, schema, name, prop
    raise AssertionError("no required string property in any JSON response")


def _retype(doc: dict[str, Any]) -> tuple[str, str, bool]:
    op, _schema, _name, prop = _response_props(doc)
    prop["type"] = "integer"
    return op, "response_retyped", True


def _nullable(doc: dict[str, Any]) -> tuple[str, str, bool]:
    op, _schema, _name, prop = _response_props(doc)
    prop["type"] = ["string", "null"]
    return op, "response_nullable_added", True


def _optional(doc: dict[str, Any]) -> tuple[str, str, bool]:
    op, schema, name, _prop = _response_props(doc)
    schema["required"].remove(name)
    return op, "response_field_optional", True


def _drop_operation(doc: dict[str, Any]) -> tuple[str, str, bool]:
    op = operations(doc, Resolver(doc))[-1]
    del doc["paths"][op.path][op.method.lower()]
    return op.operation_id, "operation_removed", True


def _required_query(doc: dict[str, Any]) -> tuple[str, str, bool]:
    op = next(o for o in operations(doc, Resolver(doc)) if o.method == "GET")
    op.node.setdefault("parameters", []).append(
        {"name": "brand_new", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    return op.operation_id, "parameter_added", True


def _error_status(doc: dict[str, Any]) -> tuple[str, str, bool]:
    op = operations(doc, Resolver(doc))[0]
    op.node["responses"]["418"] = {"description": "teapot"}
    return op.operation_id, "response_status_added", False


def _request_enum(doc: dict[str, Any]) -> tuple[str, str, bool]:
    """Drop one value of an enum somewhere in a request body (a value clients may send today)."""
    resolver = Resolver(doc)

    def walk(node: Any, depth: int) -> bool:
        node = resolver.deref(node)
        if not isinstance(node, dict) or depth > 6:
            return False
        values = node.get("enum")
        if isinstance(values, list) and len([v for v in values if v is not None]) > 1:
            values.remove(next(v for v in reversed(values) if v is not None))
            return True
        writable = [p for p in (node.get("properties") or {}).values() if not (resolver.deref(p) or {}).get("readOnly")]
        children = [*writable, node.get("items")]
        children += [*(node.get("oneOf") or []), *(node.get("anyOf") or []), *(node.get("allOf") or [])]
        return any(walk(child, depth + 1) for child in children if child is not None)

    for op in operations(doc, resolver):
        body = resolver.deref(op.node.get("requestBody"))
        media = ((body or {}).get("content") or {}).get("application/json") if isinstance(body, dict) else None
        if media and walk(media.get("schema"), 0):
            return op.operation_id, "request_enum_value_removed", True
    pytest.skip("no enum in any request body")


MUTATIONS = [_retype, _nullable, _optional, _drop_operation, _required_query, _error_status, _request_enum]


@pytest.mark.parametrize("mutate", MUTATIONS, ids=[m.__name__.strip("_") for m in MUTATIONS])
@pytest.mark.parametrize("vendor", ["posthog", "launchdarkly"])
def test_single_changes_to_our_spec(vendor: str, mutate) -> None:
    ours = load_spec(vendor)
    theirs = copy.deepcopy(ours)
    operation_id, kind, breaking = mutate(theirs)
    report = compare(vendor, ours, theirs)
    hits = [f for f in report.findings if f.kind == kind and f.operation == operation_id]
    assert hits, [(f.kind, f.operation, f.where, f.field) for f in report.findings]
    assert all(f.breaking is breaking for f in report.findings if f.kind == kind)
    assert report.exit_status == (1 if any(f.breaking for f in report.findings) else 0)
