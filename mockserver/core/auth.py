"""API keys registered through the control API, kept in the state's ``admin`` part.

By default any key is accepted with every permission, as a mock should be easy to point at. A
registered key carries only what it was registered with: its vendor's grant (PostHog scopes, a
LaunchDarkly role…), which that vendor alone interprets. ``--strict-auth`` refuses keys that were
never registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def registry(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return state["api_keys"]


def register(state: dict[str, Any], vendor: str, key: str, grant: Mapping[str, Any]) -> dict[str, Any]:
    record = {"key": key, "vendor": vendor, **grant}
    registry(state)[f"{vendor}:{key}"] = record
    return record


def lookup(state: dict[str, Any], vendor: str, key: str, strict: bool) -> dict[str, Any] | None:
    """The key's record; an unregistered key gets an empty grant (everything) unless ``strict``."""
    found = registry(state).get(f"{vendor}:{key}")
    if found is not None:
        return dict(found, registered=True)
    if strict:
        return None
    return {"key": key, "vendor": vendor, "registered": False}


def scope_granted(granted: list[str] | tuple[str, ...], required: str) -> bool:
    """PostHog's rule: ``*`` grants all and ``<object>:write`` also grants ``<object>:read``."""
    if "*" in granted or required in granted:
        return True
    obj, _, action = required.partition(":")
    return action == "read" and f"{obj}:write" in granted
