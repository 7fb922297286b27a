"""Compare our contract for a vendor with the vendor's published one, as a client would feel it.

Our document is read as "what clients were written against" and the vendor's as "what the
service now documents". Every difference is classified from the client's side:

* in a request the client writes and the vendor reads: a new required field or parameter, a
  removed field, a removed enum value, a narrowed or changed type, null no longer accepted are
  breaking; an added optional field, a widened type, a new enum value are not;
* in a response the vendor writes and the client reads: a removed field, a field that may now
  be absent or null, a new enum value or alternative, a changed type are breaking; a new field
  or a narrower type are not.

Schemas are compared lazily from the operations we serve, each pair of (schema, schema,
direction) once: a recursive schema stops where the pair is already being compared, and a big
vendor document costs only what our operations reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlparse

from mockserver.drift.findings import Finding, Report
from mockserver.drift.shapes import Resolver, Shape, ref_name

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_PARAM = re.compile(r"{([^}]*)}")
_IGNORED_HEADERS = {"accept", "content-type", "authorization"}  # OpenAPI ignores these as parameters
MAX_DEPTH = 64  # of inline nesting; references are bounded by the pair memo


def template(path: str) -> str:
    """``/flags/{projectKey}/{key}`` -> ``/flags/{}/{}``: path parameter names do not matter on the wire."""
    return _PARAM.sub("{}", path)


def path_params(path: str) -> list[str]:
    return _PARAM.findall(path)


def base_path(doc: dict[str, Any]) -> str:
    """The path part of the first server URL (``https://host/api`` -> ``/api``), so paths compare whole."""
    servers = doc.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    url = servers[0].get("url")
    if not isinstance(url, str):
        return ""
    for name, var in (servers[0].get("variables") or {}).items():
        if isinstance(var, dict) and isinstance(var.get("default"), str):
            url = url.replace("{" + name + "}", var["default"])
    return urlparse(url).path.rstrip("/") if "://" in url else url.rstrip("/")


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str | None
    node: dict[str, Any]
    item: dict[str, Any]

    @property
    def template(self) -> str:
        return template(self.path)

    @property
    def label(self) -> str:
        return self.operation_id or f"{self.method} {self.path}"


def operations(doc: dict[str, Any], resolver: Resolver) -> list[Operation]:
    base = base_path(doc)
    out = []
    for path, raw_item in (doc.get("paths") or {}).items():
        if not isinstance(path, str) or path.startswith("x-"):
            continue
        item = resolver.deref(raw_item)
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            node = item.get(method)
            if isinstance(node, dict):
                op_id = node.get("operationId")
                out.append(
                    Operation(method.upper(), base + path, op_id if isinstance(op_id, str) else None, node, item)
                )
    return out


# ---------------------------------------------------------------------------------------------
# Schema pairs


@dataclass
class _Rel:
    """A finding inside a schema, relative to where that schema is used."""

    kind: str
    breaking: bool
    message: str
    at: tuple[str, ...]
    ours: Any = None
    theirs: Any = None
    origin: str | None = None  # our component schema the difference sits in
    origin_at: tuple[str, ...] = ()  # where inside that component


def _join(at: tuple[str, ...]) -> str | None:
    text = ""
    for part in at:
        text += part if part.startswith(("[", "{", "<")) and text else ("." + part if text else part)
    return text or None


def _number_covers(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    """Every value of a type in ``narrow`` is a value of a type in ``wide`` (integers are numbers)."""
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _same(a: frozenset[str], b: frozenset[str]) -> bool:
    return _number_covers(a, b) and _number_covers(b, a)


def _fmt_types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types)) or "nothing"


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


class SchemaDiff:
    """Compares schema pairs of two documents, remembering every pair it has seen."""

    def __init__(self, ours: Resolver, theirs: Resolver) -> None:
        self.ours = ours
        self.theirs = theirs
        self._memo: dict[tuple[Any, Any, str], list[_Rel]] = {}
        self._active: set[tuple[Any, Any, str]] = set()

    @staticmethod
    def _key(node: Any) -> Any:
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and len(node) == 1:
            return ("ref", node["$ref"])
        return ("node", id(node))

    def compare(self, ours: Any, theirs: Any, direction: str, depth: int = 0) -> list[_Rel]:
        key = (self._key(ours), self._key(theirs), direction)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        if key in self._active or depth > MAX_DEPTH:
            return []  # a cycle: this pair is being compared further up
        self._active.add(key)
        try:
            result = list(self._pair(ours, theirs, direction, depth))
        finally:
            self._active.discard(key)
        name = ref_name(ours) if key[0][0] == "ref" else None
        if name:
            result = [r if r.origin else replace(r, origin=name, origin_at=r.at) for r in result]
        self._memo[key] = result
        return result

    def _pair(self, o_node: Any, t_node: Any, direction: str, depth: int) -> Iterator[_Rel]:
        o, t = self.ours.shape(o_node), self.theirs.shape(t_node)
        request = direction == "request"
        ot, tt = o.value_types, t.value_types
        if ot and tt and not _same(ot, tt):
            compatible = _number_covers(tt, ot) if request else _number_covers(ot, tt)
            if compatible:
                kind = "type_widened" if request else "type_narrowed"
                yield _Rel(
                    kind, False, f"type {_fmt_types(ot)} is now {_fmt_types(tt)}", (), _fmt_types(ot), _fmt_types(tt)
                )
            else:
                yield _Rel(
                    "retyped",
                    True,
                    f"type {_fmt_types(ot)} is now {_fmt_types(tt)}",
                    (),
                    _fmt_types(ot),
                    _fmt_types(tt),
                )
                if not ot & tt:
                    return  # a different kind of value altogether: what is inside no longer compares
        yield from self._nullability(o, t, request)
        if o.format and t.format and o.format != t.format:
            yield _Rel("format_changed", False, f"format {o.format} is now {t.format}", (), o.format, t.format)
        yield from self._enum(o, t, request)
        yield from self._objects(o, t, direction, depth)
        if isinstance(o.additional, dict) and isinstance(t.additional, dict):
            yield from self._nested(o.additional, t.additional, direction, depth, ("{*}",))
        if o.items is not None and t.items is not None:
            yield from self._nested(o.items, t.items, direction, depth, ("[]",))
        if o.alternatives and t.alternatives:
            yield from self._alternatives(o, t, direction, depth)

    def _nested(self, o: Any, t: Any, direction: str, depth: int, at: tuple[str, ...]) -> Iterator[_Rel]:
        for rel in self.compare(o, t, direction, depth + 1):
            yield replace(rel, at=at + rel.at)

    @staticmethod
    def _nullability(o: Shape, t: Shape, request: bool) -> Iterator[_Rel]:
        if o.types is None or t.types is None:
            return
        if t.nullable and not o.nullable:
            if request:
                yield _Rel("nullable_added", False, "now accepts null", (), False, True)
            else:
                yield _Rel("nullable_added", True, "may now be null", (), False, True)
        elif o.nullable and not t.nullable:
            if request:
                yield _Rel("nullable_removed", True, "no longer accepts null", (), True, False)
            else:
                yield _Rel("nullable_removed", False, "is no longer null", (), True, False)

    @staticmethod
    def _enum(o: Shape, t: Shape, request: bool) -> Iterator[_Rel]:
        if o.enum is not None and t.enum is not None:
            for value in o.enum:
                if value not in t.enum:
                    what = "no longer accepted" if request else "no longer sent"
                    yield _Rel("enum_value_removed", request, f"enum value {value!r} {what}", (), _plain(value), None)
            for value in t.enum:
                if value not in o.enum:
                    what = "now accepted" if request else "may now be sent"
                    yield _Rel("enum_value_added", not request, f"enum value {value!r} {what}", (), None, _plain(value))
        elif o.enum is not None and t.types is not None and "object" not in t.types:
            yield _Rel("enum_lifted", False, "values are no longer restricted to a list", (), list(map(_plain, o.enum)))
        elif t.enum is not None and o.types is not None and "object" not in o.types:
            values = list(map(_plain, t.enum))
            yield _Rel("enum_imposed", request, f"values are now restricted to {values}", (), None, values)

    def _visible(self, resolver: Resolver, node: Any, request: bool) -> bool:
        """readOnly fields are not part of a request, writeOnly ones not of a response."""
        for candidate in (node, resolver.deref(node)):
            if isinstance(candidate, dict) and candidate.get("writeOnly" if not request else "readOnly") is True:
                return False
        return True

    def _objects(self, o: Shape, t: Shape, direction: str, depth: int) -> Iterator[_Rel]:
        request = direction == "request"
        if not o.properties and not t.properties:
            return
        if not t.properties or not o.properties:
            if not (o.is_object and t.is_object):
                return
            if not t.properties:
                yield _Rel("fields_undocumented", False, "its fields are no longer documented (a free-form object)", ())
                return
            yield _Rel("fields_documented", False, "its fields are now documented", ())
            if request:
                for name in sorted(t.required & set(t.properties)):
                    if self._visible(self.theirs, t.properties[name], True):
                        yield _Rel("field_added", True, "new required field", (name,), None, "required")
            return
        for name, o_prop in o.properties.items():
            if not self._visible(self.ours, o_prop, request):
                continue
            t_prop = t.properties.get(name)
            if t_prop is None or not self._visible(self.theirs, t_prop, request):
                what = "field no longer accepted" if request else "field no longer sent"
                yield _Rel("field_removed", True, what, (name,), "present", None)
                continue
            was, now = name in o.required, name in t.required
            if was != now:
                if now:
                    msg = "field is now required" if request else "field is now always sent"
                    yield _Rel("field_required", request, msg, (name,), False, True)
                else:
                    msg = "field is now optional" if request else "field may now be absent"
                    yield _Rel("field_optional", not request, msg, (name,), True, False)
            yield from self._nested(o_prop, t_prop, direction, depth, (name,))
        for name, t_prop in t.properties.items():
            if name in o.properties or not self._visible(self.theirs, t_prop, request):
                continue
            needed = request and name in t.required
            msg = ("new required field" if needed else "new optional field") if request else "new field"
            yield _Rel("field_added", needed, msg, (name,), None, "required" if needed else "optional")

    def _alternatives(self, o: Shape, t: Shape, direction: str, depth: int) -> Iterator[_Rel]:
        request = direction == "request"
        theirs_left = list(enumerate(t.alternatives))
        pairs: list[tuple[int, Any, Any]] = []
        unmatched: list[tuple[int, Any]] = []
        for index, branch in enumerate(o.alternatives):
            name = ref_name(branch)
            found = next((i for i, (_n, b) in enumerate(theirs_left) if name and ref_name(b) == name), None)
            if found is None:
                unmatched.append((index, branch))
            else:
                pairs.append((index, branch, theirs_left.pop(found)[1]))
        for index, branch in unmatched:
            inline = next((i for i, (_n, b) in enumerate(theirs_left) if ref_name(b) is None), None)
            if ref_name(branch) is None and inline is not None:  # inline branches pair up in order
                pairs.append((index, branch, theirs_left.pop(inline)[1]))
            else:
                label = ref_name(branch) or f"#{index + 1}"
                yield _Rel("alternative_removed", request, f"alternative {label} is gone", (), label, None)
        for index, branch in theirs_left:
            label = ref_name(branch) or f"#{index + 1}"
            yield _Rel("alternative_added", not request, f"new alternative {label}", (), None, label)
        for index, o_branch, t_branch in pairs:
            label = f"<{ref_name(o_branch) or f'#{index + 1}'}>"
            yield from self._nested(o_branch, t_branch, direction, depth, (label,))


# ---------------------------------------------------------------------------------------------
# Operations


def _media_base(mime: str) -> str:
    return mime.split(";")[0].strip().lower()


def _content(resolver: Resolver, node: Any) -> dict[str, Any]:
    content = node.get("content") if isinstance(node, dict) else None
    if not isinstance(content, dict):
        return {}
    return {_media_base(k): resolver.deref(v) for k, v in content.items() if isinstance(k, str)}


def _params(resolver: Resolver, op: Operation) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(op.item.get("parameters") or []), *(op.node.get("parameters") or [])]:  # operation wins
        prm = resolver.deref(raw)
        if not isinstance(prm, dict) or not isinstance(prm.get("name"), str) or not isinstance(prm.get("in"), str):
            continue
        name = prm["name"]
        if prm["in"] == "header":
            if name.lower() in _IGNORED_HEADERS:
                continue
            name = name.lower()
        out[(prm["in"], name)] = prm
    return out


def _param_schema(resolver: Resolver, prm: dict[str, Any]) -> Any:
    if "schema" in prm:
        return prm["schema"]
    for media in _content(resolver, prm).values():
        if isinstance(media, dict):
            return media.get("schema")
    return None


def _is_success(status: str) -> bool:
    return status[:1] in ("2", "3")


class OperationDiff:
    def __init__(self, ours_doc: dict[str, Any], theirs_doc: dict[str, Any]) -> None:
        self.ours = Resolver(ours_doc)
        self.theirs = Resolver(theirs_doc)
        self.schemas = SchemaDiff(self.ours, self.theirs)

    def run(self, report: Report) -> None:
        ours_ops = operations(self.ours.doc, self.ours)
        theirs_ops = operations(self.theirs.doc, self.theirs)
        by_route: dict[tuple[str, str], Operation] = {}
        by_id: dict[str, Operation] = {}
        for op in theirs_ops:
            by_route.setdefault((op.method, op.template), op)
            if op.operation_id:
                by_id.setdefault(op.operation_id, op)
        matched: set[int] = set()
        report.compared = len(ours_ops)
        for o in ours_ops:
            t = by_route.get((o.method, o.template))
            found = report.findings
            if t is None and o.operation_id and o.operation_id in by_id:
                t = by_id[o.operation_id]
                found.append(
                    self._finding(
                        o,
                        "operation_moved",
                        True,
                        f"the vendor now serves {o.operation_id} as {t.method} {t.path}",
                        ours=f"{o.method} {o.path}",
                        theirs=f"{t.method} {t.path}",
                    )
                )
            if t is None:
                found.append(
                    self._finding(o, "operation_removed", True, "the vendor no longer documents this operation")
                )
                continue
            matched.add(id(t))
            report.matched += 1
            found.extend(self._operation(o, t))
        served = {o.template for o in ours_ops}
        prefixes = tuple(p.rstrip("/") + "/" for p in served)
        for t in theirs_ops:
            if id(t) in matched or not (t.template in served or t.template.startswith(prefixes)):
                continue
            report.unserved += 1
            report.findings.append(
                Finding(
                    "operation_added",
                    False,
                    "the vendor documents this operation; the mock does not serve it",
                    t.label,
                    t.method,
                    t.path,
                )
            )

    def _finding(self, op: Operation, kind: str, breaking: bool, message: str, **extra: Any) -> Finding:
        return Finding(kind, breaking, message, op.label, op.method, op.path, **extra)

    def _operation(self, o: Operation, t: Operation) -> Iterator[Finding]:
        if o.operation_id and t.operation_id and o.operation_id != t.operation_id:
            yield self._finding(
                o,
                "operation_id_changed",
                False,
                f"the vendor calls it {t.operation_id}",
                ours=o.operation_id,
                theirs=t.operation_id,
            )
        if t.node.get("deprecated") is True and o.node.get("deprecated") is not True:
            yield self._finding(o, "operation_deprecated", False, "the vendor marks this operation deprecated")
        yield from self._parameters(o, t)
        yield from self._request_body(o, t)
        yield from self._responses(o, t)

    def _schema(self, o: Operation, area: str, where: str, ours: Any, theirs: Any, direction: str) -> Iterator[Finding]:
        if ours is None or theirs is None:
            return
        for rel in self.schemas.compare(ours, theirs, direction):
            origin = None
            if rel.origin:
                origin = f"{rel.origin}.{_join(rel.origin_at)}" if rel.origin_at else rel.origin
            yield self._finding(
                o,
                f"{area}_{rel.kind}",
                rel.breaking,
                rel.message,
                where=where,
                field=_join(rel.at),
                ours=rel.ours,
                theirs=rel.theirs,
                schema=origin,
            )

    def _parameters(self, o: Operation, t: Operation) -> Iterator[Finding]:
        ours, theirs = _params(self.ours, o), _params(self.theirs, t)
        # Path parameters line up by position; their names are the documents' own business.
        o_path, t_path = path_params(o.path), path_params(t.path)
        if o.template == t.template and o_path != t_path:
            yield self._finding(
                o,
                "path_parameter_renamed",
                False,
                f"the vendor names the path parameters {t_path}",
                ours=o_path,
                theirs=t_path,
            )
        renames = dict(zip(t_path, o_path, strict=False)) if o.template == t.template else {}
        theirs = {(("path", renames.get(n, n)) if loc == "path" else (loc, n)): p for (loc, n), p in theirs.items()}
        for key, prm in ours.items():
            loc = key[0]
            where = f"{loc} parameter {prm['name']}"
            other = theirs.get(key)
            if other is None:
                if loc != "path":
                    yield self._finding(o, "parameter_removed", True, "the vendor no longer documents it", where=where)
                continue
            was, now = prm.get("required") is True, other.get("required") is True
            if not was and now:
                yield self._finding(o, "parameter_required", True, "now required", where=where, ours=False, theirs=True)
            elif was and not now and loc != "path":
                yield self._finding(
                    o, "parameter_optional", False, "now optional", where=where, ours=True, theirs=False
                )
            yield from self._schema(
                o, "parameter", where, _param_schema(self.ours, prm), _param_schema(self.theirs, other), "request"
            )
        for key, prm in theirs.items():
            if key in ours or key[0] == "path":
                continue
            required = prm.get("required") is True
            where = f"{key[0]} parameter {prm['name']}"
            msg = "new required parameter" if required else "new optional parameter"
            yield self._finding(
                o, "parameter_added", required, msg, where=where, theirs="required" if required else "optional"
            )

    def _request_body(self, o: Operation, t: Operation) -> Iterator[Finding]:
        ob, tb = self.ours.deref(o.node.get("requestBody")), self.theirs.deref(t.node.get("requestBody"))
        if not isinstance(ob, dict) and not isinstance(tb, dict):
            return
        if not isinstance(tb, dict):
            yield self._finding(o, "request_body_removed", True, "the vendor no longer documents a request body")
            return
        if not isinstance(ob, dict):
            required = tb.get("required") is True
            yield self._finding(
                o,
                "request_body_added",
                required,
                "the vendor documents a request body" + (" and requires it" if required else ""),
            )
            return
        was, now = ob.get("required") is True, tb.get("required") is True
        if now and not was:
            yield self._finding(
                o, "request_body_required", True, "the request body is now required", ours=False, theirs=True
            )
        elif was and not now:
            yield self._finding(
                o, "request_body_optional", False, "the request body is now optional", ours=True, theirs=False
            )
        o_media, t_media = _content(self.ours, ob), _content(self.theirs, tb)
        for mime, media in o_media.items():
            where = f"request body {mime}"
            if mime not in t_media:
                yield self._finding(
                    o, "request_media_type_removed", True, "the vendor no longer accepts it", where=where
                )
                continue
            yield from self._schema(
                o, "request", where, (media or {}).get("schema"), (t_media[mime] or {}).get("schema"), "request"
            )
        for mime in t_media:
            if mime not in o_media:
                yield self._finding(
                    o, "request_media_type_added", False, "the vendor also accepts it", where=f"request body {mime}"
                )

    def _responses(self, o: Operation, t: Operation) -> Iterator[Finding]:
        ours = {
            str(k): self.ours.deref(v)
            for k, v in (o.node.get("responses") or {}).items()
            if not str(k).startswith("x-")
        }
        theirs = {
            str(k): self.theirs.deref(v)
            for k, v in (t.node.get("responses") or {}).items()
            if not str(k).startswith("x-")
        }
        # A client handles the success statuses it knows: losing all of them is breaking, losing one of several is not.
        kept_success = any(_is_success(s) and s in theirs for s in ours)
        for status, response in ours.items():
            where = f"response {status}"
            other = theirs.get(status)
            if other is None:
                breaking = _is_success(status) and not kept_success
                yield self._finding(
                    o,
                    "response_status_removed",
                    breaking,
                    f"the vendor no longer documents status {status}",
                    where=where,
                    ours=status,
                )
                continue
            o_media, t_media = _content(self.ours, response), _content(self.theirs, other)
            if o_media and not t_media:
                yield self._finding(
                    o, "response_body_removed", _is_success(status), "the vendor documents no body", where=where
                )
            elif t_media and not o_media:
                yield self._finding(o, "response_body_added", False, "the vendor documents a body", where=where)
            for mime, media in o_media.items():
                if mime not in t_media:
                    if t_media:
                        yield self._finding(
                            o,
                            "response_media_type_removed",
                            _is_success(status),
                            f"the vendor no longer answers {mime}",
                            where=f"{where} {mime}",
                        )
                    continue
                yield from self._schema(
                    o,
                    "response",
                    f"{where} {mime}",
                    (media or {}).get("schema"),
                    (t_media[mime] or {}).get("schema"),
                    "response",
                )
            for mime in t_media:
                if mime not in o_media and o_media:
                    yield self._finding(
                        o,
                        "response_media_type_added",
                        False,
                        f"the vendor may also answer {mime}",
                        where=f"{where} {mime}",
                    )
        for status in theirs:
            if status not in ours:
                success = _is_success(status)
                msg = f"the vendor documents status {status}" + (" (a new success outcome)" if success else "")
                yield self._finding(o, "response_status_added", success, msg, where=f"response {status}", theirs=status)


def compare(vendor: str, ours: dict[str, Any], theirs: dict[str, Any], source: str = "") -> Report:
    """Every difference between our contract and the vendor's document, from a client's point of view."""
    report = Report(vendor=vendor, source=source, openapi=str(theirs.get("openapi", "")))
    OperationDiff(ours, theirs).run(report)
    return report
