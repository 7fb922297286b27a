"""Schemas reduced to what a client can observe, whatever the spelling.

Two documents may say the same thing differently: OpenAPI 3.0's ``nullable: true`` and 3.1's
``type: [..., "null"]``; a ``$ref`` or the same schema inline; ``allOf`` of a base and an
extension; drf-spectacular's ``oneOf: [StatusEnum, BlankEnum, NullEnum]`` for an enum that may
be blank or null. A ``Shape`` is the one reading of each, so the comparison only sees real
differences. Sub-schemas stay raw and are read lazily, which keeps recursive schemas finite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

_SCALARS = (str, int, float, bool)


class Resolver:
    """Local ``$ref`` lookup in one document (external references cannot be followed and read as "any")."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self._shapes: dict[Any, tuple[Any, Shape]] = {}  # by reference, or by node identity

    def lookup(self, ref: str) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#"):
            return None
        node: Any = self.doc
        for raw in ref[1:].split("/")[1:]:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node

    def deref(self, node: Any) -> Any:
        """Follow a chain of plain references (sibling keywords are kept by ``shape``)."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                return {}
            seen.add(ref)
            target = self.lookup(ref)
            if target is None:
                return {}
            node = target
        return node

    def shape(self, node: Any) -> Shape:
        """The Shape of a raw schema node, memoised per node (documents do not change while compared)."""
        ref = node.get("$ref") if isinstance(node, dict) and len(node) == 1 else None
        key: Any = ref if isinstance(ref, str) else id(node)
        cached = self._shapes.get(key)
        if cached is not None and (cached[0] is node or isinstance(key, str)):
            return cached[1]
        result = _shape(self, node, frozenset())
        self._shapes[key] = (node, result)
        return result


def ref_name(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        return node["$ref"].rsplit("/", 1)[-1]
    return None


@dataclass
class Shape:
    types: frozenset[str] | None = None  # None: any type; "null" is in it when null is allowed
    format: str | None = None
    enum: tuple[Any, ...] | None = None  # the allowed non-null values, when the schema lists them
    properties: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Any = None
    additional: Any = None  # a schema for map values, True/False, or None when unsaid
    alternatives: list[Any] = field(default_factory=list)  # oneOf/anyOf branches that are not mere null/enum
    deprecated: bool = False
    name: str | None = None  # the component it came from, for messages

    @property
    def nullable(self) -> bool:
        return self.types is not None and "null" in self.types

    @property
    def value_types(self) -> frozenset[str] | None:
        return None if self.types is None else self.types - {"null"}

    @property
    def is_object(self) -> bool:
        return bool(self.properties) or (self.types is not None and "object" in self.types)


def _types_of(node: dict[str, Any]) -> frozenset[str] | None:
    declared = node.get("type")
    if isinstance(declared, str):
        types = {declared}
    elif isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        types = set(declared)
    else:
        types = set()
        if isinstance(node.get("properties"), dict):
            types.add("object")
        if "items" in node:
            types.add("array")
        values = node.get("enum") if isinstance(node.get("enum"), list) else None
        if "const" in node:
            values = [node["const"]]
        if values is not None:
            types |= {_json_type(v) for v in values}
        if not types:
            return None
    if node.get("nullable") is True:
        types.add("null")
    return frozenset(types)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _own(resolver: Resolver, node: dict[str, Any]) -> Shape:
    """The keywords of this node alone (no combinators)."""
    enum: tuple[Any, ...] | None = None
    if isinstance(node.get("enum"), list):
        enum = tuple(v for v in node["enum"] if v is not None)
    elif "const" in node:
        enum = () if node["const"] is None else (node["const"],)
    properties = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    required = node.get("required") if isinstance(node.get("required"), list) else []
    fmt = node.get("format")
    return Shape(
        types=_types_of(node),
        format=fmt if isinstance(fmt, str) else None,
        enum=enum,
        properties={k: v for k, v in properties.items() if isinstance(k, str)},
        required=frozenset(r for r in required if isinstance(r, str)),
        items=node.get("items"),
        additional=node.get("additionalProperties"),
        deprecated=node.get("deprecated") is True,
    )


def _intersect(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    both = a & b
    if ("number" in a and "integer" in b) or ("number" in b and "integer" in a):
        both |= {"integer"}
    return frozenset(both)


def _merge(base: Shape, part: Shape) -> Shape:
    """allOf: everything both say holds at once."""
    properties = dict(part.properties)
    properties.update(base.properties)  # the outer node's own word wins on a clash
    return Shape(
        types=_intersect(base.types, part.types),
        format=base.format or part.format,
        enum=base.enum if base.enum is not None else part.enum,
        properties=properties,
        required=base.required | part.required,
        items=base.items if base.items is not None else part.items,
        additional=base.additional if base.additional is not None else part.additional,
        alternatives=base.alternatives or part.alternatives,
        deprecated=base.deprecated or part.deprecated,
        name=base.name or part.name,
    )


def _is_null_only(shape: Shape) -> bool:
    return shape.types == frozenset({"null"}) and not shape.properties and not shape.enum


def _shape(resolver: Resolver, node: Any, seen: frozenset[str]) -> Shape:
    if node is True or node is None:
        return Shape()
    if node is False or not isinstance(node, dict):
        return Shape(types=frozenset())
    name = None
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return Shape(name=ref_name(node))  # a schema that is its own allOf: read the loop as "any"
        seen = seen | {ref}
        name = ref_name(node)
        target = resolver.lookup(ref)
        base = _shape(resolver, target, seen) if target is not None else Shape()
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if any(k in siblings for k in ("type", "properties", "allOf", "oneOf", "anyOf", "enum", "nullable", "items")):
            base = _merge(_shape(resolver, siblings, seen), base)
        base.name = name
        return base
    shape = _own(resolver, node)
    outer_nullable = node.get("nullable") is True
    for part in node.get("allOf") or []:
        shape = _merge(shape, _shape(resolver, part, seen))
    branches = [b for key in ("oneOf", "anyOf") for b in (node.get(key) or [])]
    if branches:
        shape = _fold_branches(resolver, shape, branches, seen)
    if outer_nullable and shape.types is not None:
        shape.types = shape.types | {"null"}
    return shape


def _fold_branches(resolver: Resolver, shape: Shape, branches: list[Any], seen: frozenset[str]) -> Shape:
    """Null branches become nullability; enum-only branches one enum; a single branch the schema itself."""
    read = [(b, _shape(resolver, b, seen)) for b in branches]
    nullable = any(_is_null_only(s) or (s.enum == () and s.types == frozenset({"null"})) for _b, s in read)
    rest = [(b, s) for b, s in read if not _is_null_only(s)]
    if rest and all(s.enum is not None and not s.properties for _b, s in rest):
        values: list[Any] = []
        types: set[str] = set()
        for _b, s in rest:
            values.extend(v for v in s.enum or () if v not in values)
            types |= set(s.types or ())
        merged = Shape(types=frozenset(types) or None, enum=tuple(values), name=rest[0][1].name)
        shape = _merge(shape, merged)
    elif len(rest) == 1:
        shape = _merge(shape, rest[0][1])
    elif rest:
        union: set[str] | None = set()
        for _b, s in rest:
            if s.types is None:
                union = None
                break
            union |= s.types
        shape = _merge(shape, Shape(types=frozenset(union) if union is not None else None))
        shape.alternatives = [b for b, _s in rest]
    if nullable:
        shape.types = (shape.types or frozenset()) | {"null"} if shape.types is not None else None
    return shape
