"""The request journal as tests query it: which calls match, and why the others did not.

A call is matched on its method, path (a glob) or operationId, status, a subset of its JSON body,
its query parameters and its headers. A failed assertion lists the near misses, the calls that
matched some of what was asked, each with what differed, as WireMock does.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from mockserver.core.journal import path_matches

# pytest leaves this module's frames out of a failing test's traceback (--full-trace shows them):
# a refusal points at the test's own line.
__tracebackhide__ = True

if TYPE_CHECKING:
    from mockserver.client import Client

ANY: Any = type("AnyBody", (), {"__repr__": lambda self: "ANY"})()  # no body criterion
CRITERIA_TYPES: tuple[tuple[str, type | tuple[type, ...], str], ...] = (
    ("method", str, "an HTTP method (str)"),
    ("path", str, "a path glob (str)"),
    ("operation_id", str, "an operationId (str)"),
    ("status", int, "an HTTP status (int)"),
    ("query", Mapping, "a mapping of query parameters"),
    ("headers", Mapping, "a mapping of header names to values"),
)
CRITERIA = frozenset(("path", "operation_id", "status", "json", "query", "headers"))
GLOB_STARTS = ("/", "*", "?", "[")  # a journal path starts with /: a glob starting otherwise never matches
NEAR_MISSES = 5
LISTED = 20


def check_criteria(values: Mapping[str, Any]) -> None:
    """Refuse a criterion of the wrong type: compared as given it would never match, and
    ``assert_not_called`` would pass whatever was called."""
    __tracebackhide__ = True
    from mockserver.errors import UsageError, check_arg

    for name, kinds, what in CRITERIA_TYPES:
        value = values.get(name)
        if value is not None:
            check_arg(name, value, kinds, what)
    status = values.get("status")
    if isinstance(status, int) and not 100 <= status <= 599:
        raise UsageError("status", f"not an HTTP status: {status}")
    path = values.get("path")
    if isinstance(path, str) and not path.startswith(GLOB_STARTS):
        raise UsageError("path", f"a path glob starts with / (or a wildcard): {path!r:.80} never matches")
    headers = values.get("headers")
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            check_arg("headers", name, str, "header names (str)")
            check_arg(f"headers[{name!r}]", value, str, "a header value (str)")
    query = values.get("query")
    if isinstance(query, Mapping):
        for name in query:
            check_arg("query", name, str, "query parameter names (str)")


@dataclass(frozen=True)
class Expect:
    """What a call must look like; criteria left out match anything."""

    method: str | None = None
    path: str | None = None  # a glob: /api/projects/1/experiments/*
    operation_id: str | None = None
    status: int | None = None
    json: Any = ANY  # a subset of the JSON request body (objects: these keys; lists: these items)
    query: Mapping[str, Any] | None = None  # these parameters with these values
    headers: Mapping[str, str] | None = field(default=None)  # these headers (names in any case)

    def __post_init__(self) -> None:
        __tracebackhide__ = True
        check_criteria(vars(self))  # built directly; the helpers check before building (no __init__ frame)

    @classmethod
    def of(cls, method: str | None, path_or_operation_id: str | None, **criteria: Any) -> Expect:
        """``("GET", "/api/…")`` means a path glob, ``("GET", "experiments_list")`` an operationId."""
        __tracebackhide__ = True
        if method is not None and not isinstance(method, str):
            from mockserver.errors import UsageError

            raise UsageError("method", f"expected an HTTP method (str), got {method!r:.80}")
        if path_or_operation_id is not None and not isinstance(path_or_operation_id, str):
            from mockserver.errors import UsageError

            given = f"{path_or_operation_id!r:.80}"
            raise UsageError("path_or_operation_id", f"expected a path glob or an operationId (str), got {given}")
        unknown = sorted(set(criteria) - CRITERIA)
        if unknown:
            from mockserver.errors import UsageError

            raise UsageError(unknown[0], f"not a criterion; criteria are {', '.join(sorted(CRITERIA))}")
        if path_or_operation_id is not None:
            key = "path" if path_or_operation_id.startswith("/") else "operation_id"
            if criteria.get(key) is not None:
                from mockserver.errors import UsageError

                raise UsageError(key, f"given twice: {path_or_operation_id!r} and {key}={criteria[key]!r}")
            criteria[key] = path_or_operation_id
        check_criteria(criteria)
        return cls(method=method.upper() if method else None, **criteria)

    def server_filters(self) -> dict[str, Any]:
        """The criteria the control API filters on (the rest are checked here)."""
        wanted = {"method": self.method, "path": self.path, "operation_id": self.operation_id, "status": self.status}
        return {k: v for k, v in wanted.items() if v is not None}

    @property
    def criteria(self) -> int:
        given = (self.method, self.path or self.operation_id, self.status, self.query, self.headers)
        return sum(v is not None for v in given) + (self.json is not ANY)

    def mismatches(self, entry: Mapping[str, Any]) -> list[str]:
        """What differs between ``entry`` and this expectation (empty: it matches)."""
        found: list[str] = []
        if self.method and entry["method"] != self.method:
            found.append(f"method {entry['method']}, not {self.method}")
        if self.operation_id and entry["operation_id"] != self.operation_id:
            found.append(f"operation {entry['operation_id'] or 'none (unmatched path)'}, not {self.operation_id}")
        if self.path and not path_matches(self.path, entry["path"]):
            found.append(f"path {entry['path']}, not {self.path}")
        if self.status is not None and entry["status"] != self.status:
            why = "; ".join(entry.get("validation_errors") or []) or (entry.get("problem") or {}).get("detail")
            found.append(f"status {entry['status']}{f' ({_short(why)})' if why else ''}, not {self.status}")
        cut = self.json is not ANY and entry.get("request_body_truncated")
        if self.json is not ANY and not cut:
            difference = subset_difference(self.json, entry.get("request_body"), "body")
            if difference:
                found.append(difference)
        if self.query is not None:
            found.extend(_query_differences(self.query, entry.get("query") or ""))
        if self.headers is not None:
            found.extend(_header_differences(self.headers, entry.get("request_headers") or {}))
        if cut:
            if not found:
                from mockserver.errors import UsageError

                raise UsageError(
                    "json",
                    f"request #{entry.get('id')} matches every other criterion, but its body is over 64 KiB and "
                    "the journal keeps it cut: json= cannot be compared with it",
                )
            found.append("body cut at 64 KiB in the journal")
        return found

    def matches(self, entry: Mapping[str, Any]) -> bool:
        return not self.mismatches(entry)

    def describe(self) -> str:
        words = [self.method or "any method", self.path or self.operation_id or "any path"]
        if self.status is not None:
            words.append(f"answered {self.status}")
        if self.json is not ANY:
            words.append(f"with body ⊇ {_short(self.json, 200)}")
        if self.query is not None:
            words.append(f"with query {_short(dict(self.query), 200)}")
        if self.headers is not None:
            words.append(f"with headers {_short(dict(self.headers), 200)}")
        return " ".join(words)


def subset_difference(expected: Any, actual: Any, at: str) -> str | None:
    """The first place where ``actual`` does not hold ``expected``; None when it does.

    Objects: every expected key, recursively (others may be there too). Lists: the same length,
    item by item. Scalars: equal, and a boolean is not a number.
    """
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{at} is {_short(actual)}, not an object"
        for key, value in expected.items():
            if key not in actual:
                return f"{at}.{key} is missing"
            difference = subset_difference(value, actual[key], f"{at}.{key}")
            if difference:
                return difference
        return None
    if isinstance(expected, Sequence) and not isinstance(expected, str):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{at} is {_short(actual)}, not a list of {len(expected)}"
        for index, (want, have) in enumerate(zip(expected, actual, strict=True)):
            difference = subset_difference(want, have, f"{at}[{index}]")
            if difference:
                return difference
        return None
    if expected != actual or isinstance(expected, bool) != isinstance(actual, bool):
        return f"{at} is {_short(actual)}, not {_short(expected)}"
    return None


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query_differences(expected: Mapping[str, Any], raw: str) -> list[str]:
    given = parse_qs(raw, keep_blank_values=True)
    found = []
    for name, value in expected.items():
        wanted = [_query_text(v) for v in value] if isinstance(value, list | tuple) else [_query_text(value)]
        have = given.get(name)
        if have is None:
            found.append(f"query {name} is missing")
        elif have != wanted:
            found.append(f"query {name}={','.join(have)}, not {','.join(wanted)}")
    return found


def _header_differences(expected: Mapping[str, str], sent: Mapping[str, str]) -> list[str]:
    lowered = {name.lower(): value for name, value in sent.items()}
    found = []
    for name, value in expected.items():
        have = lowered.get(name.lower())
        if have is None:
            found.append(f"header {name} is missing")
        elif have != value:
            found.append(f"header {name}: {_short(have)}, not {_short(value)}")
    return found


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = jsonlib.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line(entry: Mapping[str, Any]) -> str:
    query = f"?{entry['query']}" if entry.get("query") else ""
    status = "dropped" if entry.get("dropped") else entry["status"]
    return (
        f"#{entry['id']} {entry['method']} {entry['path']}{query} -> {status} ({entry['operation_id'] or 'unmatched'})"
    )


def explain(expect: Expect, entries: list[dict[str, Any]], found: int, wanted: str) -> str:
    """The failure message: what was expected, the near misses and what was called."""
    lines = [f"expected {expect.describe()} to be called {wanted}; it was called {found} time(s)."]
    total = expect.criteria
    scored = []
    for entry in entries:
        differences = expect.mismatches(entry)
        if differences and (total <= 1 or len(differences) < total):
            scored.append((len(differences), -entry["id"], entry, differences))
    scored.sort(key=lambda item: item[:2])
    if scored:
        lines.append("Near misses (closest first):")
        for _, _, entry, differences in scored[:NEAR_MISSES]:
            lines.append(f"  {line(entry)}")
            lines.append(f"      {'; '.join(differences)}")
    if not entries:
        lines.append("No requests were recorded since the last reset.")
    else:
        more = len(entries) - LISTED
        lines.append(f"All {len(entries)} request(s) since the last reset, oldest first:")
        if more > 0:
            lines.append(f"  … {more} earlier")
        lines.extend(f"  {line(entry)}" for entry in entries[-LISTED:])
    return "\n".join(lines)


def _dropped_note(dropped: int, capacity: Any) -> str:
    """What a full journal means for an assertion, and the way out."""
    if not dropped:
        return ""
    return (
        f"\nThe journal dropped {dropped} older request(s) since the last reset (it keeps {capacity}): raise "
        "--journal-size, or clear it (requests.clear()) before the calls that are asserted on."
    )


class ContractRefused(AssertionError):
    """Requests the vendor's contract refuses were sent, whatever the code under test did with the 400."""


def refusal_report(entries: Sequence[Mapping[str, Any]]) -> str:
    """One paragraph per refused request: the call, the check that refused it, field and message."""
    lines = [f"{len(entries)} request(s) broke the vendor contract (the code under test may have swallowed the error):"]
    for entry in entries:
        problem = entry.get("problem") or {}
        why = "; ".join(entry.get("validation_errors") or []) or problem.get("detail") or "refused"
        lines.append(f"  {line(entry)}")
        lines.append(f"      refused by the {entry.get('refused_by') or 'contract'} check: {why}")
        if problem.get("attr"):
            lines.append(f"      field: {problem['attr']}")
        if entry.get("nearest_path"):
            lines.append(f"      nearest documented path: {entry['nearest_path']}")
    return "\n".join(lines)


class RequestLog:
    """The request journal of the server (cleared by every reset, so: of the current test).

    Entries are dicts as ``GET /__admin/requests`` lists them: method, path, query, operation_id,
    status, request_headers, request_body, response_body, problem, fault_id, …
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def _entries(self, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        __tracebackhide__ = True
        return self._listing(filters)["requests"]

    def _listing(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        __tracebackhide__ = True
        return self._client._call("GET", "/__admin/requests", params=dict(filters or {}))

    def all(
        self,
        method: str | None = None,
        path_or_operation_id: str | None = None,
        *,
        path: str | None = None,
        operation_id: str | None = None,
        status: int | None = None,
        json: Any = ANY,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Matching entries, oldest first, with the criteria of ``assert_called``.

        ``all("GET", "experiments_list")`` (an operationId) or ``all("GET", "/api/*/experiments/")``
        (a path glob); an unknown operationId is refused by the server.
        """
        __tracebackhide__ = True
        criteria = {"path": path, "operation_id": operation_id, "status": status, "json": json}
        criteria |= {"query": query, "headers": headers}
        return self._find(Expect.of(method, path_or_operation_id, **criteria))

    find = all

    def _find(self, expect: Expect) -> list[dict[str, Any]]:
        __tracebackhide__ = True
        return [entry for entry in self._entries(expect.server_filters()) if expect.matches(entry)]

    def calls(self, method: str | None, path_or_operation_id: str, **criteria: Any) -> list[dict[str, Any]]:
        __tracebackhide__ = True
        return self._find(Expect.of(method, path_or_operation_id, **criteria))

    def assert_called(
        self,
        method: str | None = None,
        path_or_operation_id: str | None = None,
        times: int | None = None,
        **criteria: Any,
    ) -> list[dict[str, Any]]:
        """At least once (or exactly ``times``); returns the matching entries.

        ``assert_called("POST", "experiments_create", status=201, json={"name": "x"})``; a leading
        ``/`` means a path glob, anything else an operationId. Other criteria: ``path=``,
        ``operation_id=``, ``status=``, ``json=`` (a subset of the body), ``query=``, ``headers=``.
        """
        __tracebackhide__ = True
        if times is not None:
            from mockserver.errors import UsageError, check_arg

            check_arg("times", times, int, "a number of calls (int)")
            if times < 0:
                raise UsageError("times", f"cannot be negative: {times}")
        expect = Expect.of(method, path_or_operation_id, **criteria)
        listing = self._listing(expect.server_filters())
        found = [entry for entry in listing["requests"] if expect.matches(entry)]
        dropped = listing.get("dropped") or 0
        wanted = "at least once" if times is None else f"{times} time(s)"
        if (times is None and not found) or (times is not None and len(found) != times):
            message = explain(expect, self._entries(), len(found), wanted)
            raise AssertionError(message + _dropped_note(dropped, listing.get("capacity")))
        if times is not None and dropped:  # the count (or the absence) cannot be told: calls may be lost
            raise AssertionError(
                f"cannot tell whether {expect.describe()} was called {wanted}: {len(found)} matching call(s) are "
                "in the journal, but older requests are gone." + _dropped_note(dropped, listing.get("capacity"))
            )
        return found

    def assert_called_once(
        self, method: str | None = None, path_or_operation_id: str | None = None, **criteria: Any
    ) -> dict[str, Any]:
        __tracebackhide__ = True
        return self.assert_called(method, path_or_operation_id, times=1, **criteria)[0]

    def assert_not_called(
        self, method: str | None = None, path_or_operation_id: str | None = None, **criteria: Any
    ) -> None:
        __tracebackhide__ = True
        self.assert_called(method, path_or_operation_id, times=0, **criteria)

    def contract_refusals(self, after: int | None = None) -> list[dict[str, Any]]:
        """Vendor requests the contract check refused (schema, unknown path or method, credentials),
        not the refusals of lifecycle rules; ``after`` an entry id, to see only later ones."""
        filters: dict[str, Any] = {"contract_refusal": "true"}
        if after is not None:
            filters["after"] = after
        return self._entries(filters)

    def assert_no_contract_refusals(self, after: int | None = None) -> None:
        """Raise ``ContractRefused`` listing every request the vendor contract refused."""
        __tracebackhide__ = True
        refused = self.contract_refusals(after)
        if refused:
            raise ContractRefused(refusal_report(refused))

    def clear(self) -> None:
        self._client._call("DELETE", "/__admin/requests")

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._entries())

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self._entries()[index]
