"""PATCH a feature flag: JSON Patch, JSON merge patch or semantic patch, all ending in ``flags.commit``.

The Content-Type parameter ``domain-model=launchdarkly.semanticpatch`` selects semantic patch;
without it the body is a JSON Patch (an array, or ``{"patch": [...]}``) or a JSON merge patch
(``{"merge": {...}}``). A malformed JSON Patch is 400, one whose pointers or tests fail is 422.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonpatch

from mockserver.core import documents
from mockserver.vendors.launchdarkly import flag_dependents, flag_instructions, flag_rules, flags, patching
from mockserver.vendors.launchdarkly.errors import invalid, patch_failed

SEMANTIC_PARAMETER = "domain-model=launchdarkly.semanticpatch"
SEMANTIC_MEDIA = f"application/json; {SEMANTIC_PARAMETER}"
OPS = ("add", "remove", "replace", "move", "copy", "test")
_TOP = "|".join(flags.PATCHABLE)
_ENV = "|".join(flags.PATCHABLE_ENV)
PATCHABLE = re.compile(rf"^/(({_TOP})(/|$)|environments/[^/]+/({_ENV})(/|$))")


def is_semantic(content_type: str | None) -> bool:
    """Whether the Content-Type asks for a semantic patch (parameters compare case-insensitively)."""
    if not content_type:
        return False
    params = [p.strip().lower().replace(" ", "") for p in content_type.split(";")[1:]]
    return SEMANTIC_PARAMETER in params


def _operations(body: Any) -> list[dict[str, Any]]:
    ops = body["patch"] if isinstance(body, dict) else body
    if not ops:
        raise invalid("The patch is empty; send at least one operation")
    for index, op in enumerate(ops):
        if op.get("op") not in OPS:
            raise invalid(f"patch[{index}]: unknown op {op.get('op')!r}; use {', '.join(OPS)}")
        if op["op"] != "test":
            for pointer in (op["path"], op.get("from")):
                if pointer is not None and not PATCHABLE.match(pointer):
                    raise invalid(f"patch[{index}]: path {pointer!r} cannot be changed")
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            raise invalid(f"patch[{index}]: op '{op['op']}' needs a value")
        if op["op"] in ("move", "copy") and "from" not in op:
            raise invalid(f"patch[{index}]: op '{op['op']}' needs from")
    return ops


def json_patch(before: dict[str, Any], body: Any) -> dict[str, Any]:
    ops = _operations(body)
    try:
        doc = patching.run(copy.deepcopy(before), ops)
    except jsonpatch.InvalidJsonPatch as exc:
        raise invalid(f"Invalid JSON Patch: {exc}") from None
    except patching.Failed as exc:
        raise patch_failed(f"Unprocessable entity. Could not apply patch: {exc}") from None
    if not isinstance(doc, dict):
        raise invalid("The patch must leave the flag an object")
    return doc


def merge_patch(before: dict[str, Any], merge: dict[str, Any]) -> dict[str, Any]:
    doc = documents.merge_patch(before, merge)
    for name in sorted(set(doc) | set(before)):
        if name == "environments" or doc.get(name) == before.get(name):
            continue
        if name not in flags.PATCHABLE:
            raise invalid(f"merge: field '{name}' cannot be changed")
    environments = doc.get("environments")
    if isinstance(environments, dict):
        for env_key, config in environments.items():
            old = before["environments"].get(env_key)
            if not isinstance(config, dict) or old is None:
                continue
            for name in sorted(set(config) | set(old)):
                if config.get(name) != old.get(name) and name not in flags.PATCHABLE_ENV:
                    raise invalid(f"merge: environments.{env_key}.{name} cannot be changed")
    return doc


def apply(
    state: dict[str, Any], row: dict[str, Any], body: Any, content_type: str | None, now_ms: int, *, dry_run: bool
) -> dict[str, Any]:
    """Change the flag as the body says; return what is (or, for a dry run, would be) stored."""
    with flags.provisional_ids(state, keep=not dry_run):
        return _apply(state, row, body, content_type, now_ms, dry_run)


def _apply(
    state: dict[str, Any], row: dict[str, Any], body: Any, content_type: str | None, now_ms: int, dry_run: bool
) -> dict[str, Any]:
    flag_rules.check_depth(body)
    before = flags.document(row)
    if is_semantic(content_type):
        doc, delete = flag_instructions.run(state, row["projectKey"], copy.deepcopy(before), body)
        if delete:
            candidate = flags.commit(state, row, doc, now_ms, dry_run=True)
            if dry_run:
                flag_dependents.guard_delete(state, row)
            else:
                flags.delete(state, row)
            return candidate
        return flags.commit(state, row, doc, now_ms, dry_run=dry_run)
    if isinstance(body, dict) and "instructions" in body:
        raise invalid(
            f"This body is a semantic patch: send it with Content-Type: {SEMANTIC_MEDIA}; "
            "without that parameter a flag PATCH is read as a JSON Patch or a JSON merge patch"
        )
    merging = isinstance(body, dict) and "merge" in body
    doc = merge_patch(before, body["merge"]) if merging else json_patch(before, body)
    return flags.commit(state, row, doc, now_ms, dry_run=dry_run)
