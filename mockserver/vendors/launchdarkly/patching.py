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
        patched = jsonpatch.JsonPatch(ops).apply(copy.deepcopy(doc))
    except jsonpatch.JsonPatchTestFailed as exc:
        raise on_test_failure(f"A test operation failed: {exc}") from None
    except (jsonpatch.InvalidJsonPatch, jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException) as exc:
        raise invalid(f"The patch cannot be applied to this {what}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise invalid(f"The patch cannot be applied to this {what}: {exc}") from None
    if not isinstance(patched, dict):
        raise invalid(f"The patch must leave the {what} an object")
    return patched
