"""Lifecycle actions on an experiment: launch, pause, resume, end, ship_variant, reset, archive, unarchive.

Preconditions and their messages are the table in ``lifecycle``; this module reads each action's
body through PostHog's serializer and makes the change PostHog makes.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.clock import iso
from mockserver.vendors.posthog import approvals, fingerprints, flags, inputs, lifecycle
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import invalid


def act(
    state,
    team_id: int,
    exp_id: int,
    action: str,
    body: Any,
    gate: approvals.Gate,
    search: str | None = None,
) -> dict[str, Any]:
    exp = m.live_experiment(state, exp_id, team_id, search)
    flag = m.flag_of(state, exp)
    stamp = iso(gate.now)
    if action == "end":
        end(exp, flag, inputs.END.parse(body), stamp)
    elif action == "ship_variant":
        ship_variant(exp, flag, inputs.SHIP_VARIANT.parse(body), stamp, gate)
        flags.propagate_variants(state, flag, stamp, skip=exp["id"])
    else:
        lifecycle.require(action, exp, flag)
        SIMPLE[action](exp, flag, stamp, gate)
    exp["updated_at"] = stamp
    return exp


def launch(exp, flag, stamp: str, gate: approvals.Gate) -> None:
    """Start now; fingerprints follow the new start (PostHog leaves the matured-users switch out here)."""
    gate.check(["experiment.launch"], exp["id"])
    exp["start_date"] = stamp
    for name in ("metrics", "metrics_secondary"):
        if exp.get(name):
            exp[name] = fingerprints.refresh(exp[name], exp, matured=False)
    flag["active"] = True


def pause(exp, flag, stamp: str, gate: approvals.Gate) -> None:
    gate.check(["experiment.pause"], exp["id"])
    flag["active"] = False


def resume(exp, flag, stamp: str, gate: approvals.Gate) -> None:
    gate.check(["experiment.pause"], exp["id"])
    flag["active"] = True


def reset(exp, flag, stamp: str, gate: approvals.Gate) -> None:
    """Back to draft; the flag (and the stored fingerprints) stay as they are."""
    exp.update(start_date=None, end_date=None, archived=False, conclusion=None, conclusion_comment=None)


def archive(exp, flag, stamp: str, gate: approvals.Gate) -> None:
    exp["archived"] = True


def unarchive(exp, flag, stamp: str, gate: approvals.Gate) -> None:
    exp["archived"] = False


SIMPLE = {
    "launch": launch,
    "pause": pause,
    "resume": resume,
    "reset": reset,
    "archive": archive,
    "unarchive": unarchive,
}


def end(exp, flag, data: dict[str, Any], stamp: str) -> None:
    """End now; the conclusion and its comment are overwritten (null when not sent)."""
    lifecycle.require("end", exp, flag)
    exp["end_date"] = stamp
    exp["conclusion"] = data.get("conclusion")
    exp["conclusion_comment"] = data.get("conclusion_comment")


def ship_variant(exp, flag, data: dict[str, Any], stamp: str, gate: approvals.Gate) -> None:
    """The winner takes the whole split; a running experiment ends; a 409 leaves everything as it was."""
    lifecycle.require("ship_variant", exp, flag)
    key = data["variant_key"]
    if not any(v.get("key") == key for v in flags.variants_of(flag)):
        raise invalid(f"Variant '{key}' not found on feature flag.")
    filters = flags.winning_variant_filters(flag["filters"], key)
    flags.check_variant_split(filters)
    gate.check(["experiment.update"], exp["id"])
    flags.write_filters(flag, filters)
    if exp.get("end_date") is None:
        exp["end_date"] = stamp
    for name in ("conclusion", "conclusion_comment"):
        if data.get(name) is not None:
            exp[name] = data[name]
