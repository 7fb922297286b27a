"""Small OpenAPI documents to mutate, and lookups over drift findings."""

from __future__ import annotations

import copy
from typing import Any

from mockserver.drift.compare import compare
from mockserver.drift.findings import Finding


def base_doc(version: str = "3.1.0") -> dict[str, Any]:
    """Two operations on one resource, with a query parameter, a request body and a few responses."""
    nullable_note = {"type": ["string", "null"]} if version.startswith("3.1") else {"type": "string", "nullable": True}
    return {
        "openapi": version,
        "info": {"title": "things", "version": "1"},
        "servers": [{"url": "https://api.example.test"}],
        "paths": {
            "/things": {
                "post": {
                    "operationId": "createThing",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingInput"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                        },
                        "400": {
                            "description": "",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                        },
                    },
                }
            },
            "/things/{thingId}": {
                "parameters": [{"name": "thingId", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {
                    "operationId": "getThing",
                    "parameters": [
                        {"name": "expand", "in": "query", "schema": {"type": "string", "enum": ["parts", "owner"]}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                        },
                        "404": {
                            "description": "",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                        },
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["id", "name", "status"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "score": {"type": "number"},
                        "status": {"type": "string", "enum": ["draft", "running", "stopped"]},
                        "note": nullable_note,
                        "created": {"type": "string", "format": "date-time"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "ThingInput": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "size": {"type": "integer"},
                        "kind": {"type": "string", "enum": ["small", "large"]},
                        "note": nullable_note,
                        "parent": {"$ref": "#/components/schemas/ThingInput"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
            }
        },
    }


def variant(doc: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(doc)


def diff(ours: dict[str, Any], theirs: dict[str, Any]) -> list[Finding]:
    return compare("test", ours, theirs, "memory").findings


def only(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def one(findings: list[Finding], kind: str) -> Finding:
    found = only(findings, kind)
    assert len(found) == 1, f"expected one {kind}, got {[(f.kind, f.where, f.field) for f in findings]}"
    return found[0]
