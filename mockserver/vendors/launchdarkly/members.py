"""Account members and the caller's identity: which token is calling, for which member, with which role.

Personal tokens belong to the account owner (the first member); service tokens belong to no member,
so ``/members/me`` has nobody to show them.
"""

from __future__ import annotations

import uuid
from typing import Any

from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import not_found

_TOKEN_IDS = uuid.UUID("2b4f7e1a-93c4-4c1e-8d2f-5a6b7c8d9e0f")
EXPANDS = ("customRoles", "roleAttributes")


def member_of(state: dict[str, Any], identity: Any) -> str | None:
    """The member a token acts for; None for a service token."""
    if getattr(identity, "service_token", False):
        return None
    return state["members"][0] if state["members"] else None


def rep(state: dict[str, Any], member_id: str, expand: list[str]) -> dict[str, Any]:
    profile = m.member(state, member_id)
    if profile is None:
        raise not_found(f"Unknown member '{member_id}'")
    out: dict[str, Any] = {
        "_links": {"self": m.link(f"/api/v2/members/{member_id}")},
        "_id": member_id,
        "role": profile["role"],
        "email": profile["email"],
        "_pendingInvite": False,
        "_verified": True,
        "customRoles": list(profile.get("customRoles", [])),
        "mfa": profile.get("mfa", "disabled"),
        "excludedDashboards": [],
        "_lastSeen": profile.get("_lastSeen", 0),
        "creationDate": profile.get("creationDate", 0),
        "teams": [],
        "permissionGrants": [],
    }
    for name in ("firstName", "lastName"):
        if profile.get(name):
            out[name] = profile[name]
    if "roleAttributes" in expand:
        out["roleAttributes"] = {}
    return out


def lookup(state: dict[str, Any], identity: Any, member_id: str) -> str:
    """``me`` is the caller's own member."""
    if member_id != "me":
        return member_id
    own = member_of(state, identity)
    if own is None:
        raise not_found("A service token belongs to no member: there is no 'me' to show")
    return own


def caller_identity(state: dict[str, Any], identity: Any, registered: bool) -> dict[str, Any]:
    token_id = uuid.uuid5(_TOKEN_IDS, identity.token).hex[:24]
    out: dict[str, Any] = {
        "accountId": uuid.uuid5(_TOKEN_IDS, f"account:{state['seed']}").hex[:24],
        "authKind": "token",
        "tokenKind": "service" if identity.service_token else "personal",
        "tokenName": "Registered access token" if registered else "Access token (any token is accepted)",
        "tokenId": token_id,
        "serviceToken": identity.service_token,
        "scopes": ["custom-role"] if identity.policy else [identity.role],
        "role": "custom" if identity.policy else identity.role,
    }
    own = member_of(state, identity)
    if own is not None:
        out["memberId"] = own
    return out
