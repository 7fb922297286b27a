"""API keys registered through the admin API, shared by every vendor.

By default any key is accepted with every permission, as a mock should be easy to point at.
A registered key carries only what it was registered with (PostHog scopes, LaunchDarkly role),
and ``--strict-auth`` refuses keys that were never registered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ALL_SCOPES = ("*",)


@dataclass(frozen=True)
class ApiKey:
    key: str
    vendor: str
    scopes: tuple[str, ...] = ALL_SCOPES
    role: str = "admin"
    registered: bool = True

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["scopes"] = list(self.scopes)
        out.pop("registered")
        return out


def registry(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return state.setdefault("api_keys", {})


def register(state: dict[str, Any], key: ApiKey) -> None:
    registry(state)[f"{key.vendor}:{key.key}"] = key.to_json()


def lookup(state: dict[str, Any], vendor: str, key: str, strict: bool) -> ApiKey | None:
    """The key's grant; an unregistered key gets everything unless ``strict``."""
    found = registry(state).get(f"{vendor}:{key}")
    if found is not None:
        return ApiKey(found["key"], vendor, tuple(found["scopes"]), found["role"])
    if strict:
        return None
    return ApiKey(key, vendor, registered=False)


def scope_granted(granted: tuple[str, ...], required: str) -> bool:
    """PostHog's rule: ``*`` grants all and ``<object>:write`` also grants ``<object>:read``."""
    if "*" in granted or required in granted:
        return True
    obj, _, action = required.partition(":")
    return action == "read" and f"{obj}:write" in granted
