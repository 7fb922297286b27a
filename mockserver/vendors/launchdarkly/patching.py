"""JSON Patch (RFC 6902) for metrics, metric groups and environments, limited to the fields each allows.

A ``test`` that fails is a conflict with what the caller last read; each resource says how it
answers that (``on_test_failure``), as the statuses LaunchDarkly documents differ per resource.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import jsonpatch
import jsonpointer

from mockserver.core.problems import Problem
from mockserver.vendors.launchdarkly.errors import invalid

OPS = ("add", "remove", "replace", "move", "copy", "test")


def operations(body: Any) -> list[dict[str, Any]]:
    ops = body["patch"] if isinstance(body, dict) and "patch" in body else body
    if not isinstance(ops, list) or not ops:
        raise invalid("The patch is empty; send a JSON Patch array with at least one operation")
    return ops


class Failed(Exception):
    """An operation that could not be applied, described without the document it ran on."""

    def __init__(self, index: int, op: dict[str, Any], reason: str, test: bool) -> None:
        super().__init__(f"patch[{index}] ({op.get('op')} {_pointer(op.get('path'))}): {reason}")
        self.test = test


def _pointer(path: Any) -> str:
    """A JSON Pointer as messages name it: the empty one is the whole document."""
    return str(path) if path else "the document root"


def run(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply ``ops`` in order to ``doc`` (changed in place), naming the operation that fails.

    jsonpatch's and jsonpointer's own messages embed the whole document (as a Python repr) and
    Python type names; an answer names the operation and the path instead. A malformed operation
    raises ``jsonpatch.InvalidJsonPatch``, as before.
    """
    for index, op in enumerate(ops):
        try:
            doc = jsonpatch.JsonPatch([op]).apply(doc, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            raise Failed(index, op, f"the value at {_pointer(op.get('path'))} is not the tested value", True) from None
        except (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException) as exc:
            raise Failed(index, op, _reason(doc, op, exc), False) from None
    return doc


def _reason(doc: Any, op: dict[str, Any], exc: Exception) -> str:
    if "own children" in str(exc):
        return "a value cannot be moved into itself"
    if op.get("op") in ("move", "copy"):
        try:
            jsonpointer.resolve_pointer(doc, op.get("from"))
        except (jsonpointer.JsonPointerException, TypeError):
            return f"{_pointer(op.get('from'))} does not exist"
    text = str(exc)
    if "valid sequence index" in text or "does not support indexing" in text:
        return f"{_pointer(op.get('path'))} does not name a member of an object or an index of an array"
    return f"{_pointer(op.get('path'))} does not exist"


def apply(
    doc: dict[str, Any],
    body: Any,
    editable: Iterable[str],
    what: str,
    on_test_failure: Callable[[str], Problem],
) -> dict[str, Any]:
    """The patched copy of ``doc``; only top-level fields in ``editable`` may change (``test`` may read any)."""
    allowed = set(editable)
    ops = operations(body)
    for index, op in enumerate(ops):
        if not isinstance(op, dict) or op.get("op") not in OPS:
            got = op.get("op") if isinstance(op, dict) else op
            raise invalid(f"patch[{index}]: unknown op {got!r}; use {', '.join(OPS)}")
        if not isinstance(op.get("path"), str):
            raise invalid(f"patch[{index}] needs a path (a JSON Pointer such as /name)")
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            raise invalid(f"patch[{index}]: op '{op['op']}' needs a value")
        if op["op"] in ("move", "copy") and not isinstance(op.get("from"), str):
            raise invalid(f"patch[{index}]: op '{op['op']}' needs from")
        if op["op"] == "test":
            continue
        for pointer in (op["path"], op.get("from") if op["op"] == "move" else None):
            if pointer is None:
                continue
            field = pointer.split("/")[1] if pointer.startswith("/") else ""
            if field not in allowed:
                raise invalid(
                    f"patch[{index}]: {pointer!r} cannot be changed on a {what}; editable: {', '.join(sorted(allowed))}"
                )
    try:
        patched = run(copy.deepcopy(doc), ops)
    except Failed as exc:
        if exc.test:
            raise on_test_failure(f"A test operation failed: {exc}") from None
        raise invalid(f"The patch cannot be applied to this {what}: {exc}") from None
    except (jsonpatch.InvalidJsonPatch, TypeError, ValueError) as exc:
        raise invalid(f"The patch cannot be applied to this {what}: {exc}") from None
    if not isinstance(patched, dict):
        raise invalid(f"The patch must leave the {what} an object")
    return patched
