"""Semantic patch for experiments: every instruction applies, or none does.

Instructions run one after another on a copy of the experiment; the copy (and any flag change
that ships a winner, and the holdout an iteration start sets running) replaces the stored data only
when the last instruction succeeded. Starting checks the experiment's layer reservation, and the
started or stopped iteration keeps a snapshot of its layer.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from mockserver.core.store import next_uuid
from mockserver.vendors.launchdarkly import holdouts, iterations, layers
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid
from mockserver.vendors.launchdarkly.experiments import MUTABLE_FIELDS

SEMANTIC_MEDIA = "application/json; domain-model=launchdarkly.semanticpatch"
OPERATIONS = ("add", "update", "remove")
METHODOLOGIES = ("bayesian", "frequentist", "export_only")


def reject_json_patch(raw: bytes) -> None:
    """A JSON Patch array sent here is a mistake worth naming, not a generic type error."""
    stripped = raw.lstrip()
    if not stripped.startswith(b"["):
        return
    try:
        json.loads(raw)
    except ValueError:
        return
    raise invalid('This endpoint takes a semantic patch: {"instructions": [{"kind": "..."}]}, not a JSON Patch array')


class Patch:
    def __init__(self, state: dict[str, Any], exp: dict[str, Any], now_ms: int) -> None:
        self.state = state
        self.exp = copy.deepcopy(exp)
        self.now = now_ms
        self.ship: list[tuple[str, str, str]] = []
        self.started = False  # an iteration started: the holdout follows once every instruction passed

    # -- instructions -----------------------------------------------------------------------------

    def update_name(self, ins: dict[str, Any]) -> None:
        self.exp["name"] = _text(ins, "value", "updateName")

    def update_description(self, ins: dict[str, Any]) -> None:
        value = ins.get("value")
        if not isinstance(value, str):
            raise invalid("updateDescription needs value: the new description (a string)")
        self.exp["description"] = value

    def update_experiment_fields(self, ins: dict[str, Any]) -> None:
        changes = ins.get("value")
        if not isinstance(changes, dict) or not changes:
            raise invalid('updateExperimentFields needs value: {"<field>": {"operation": "update", "value": ...}}')
        current = iterations.current_of(self.exp)
        status = current["status"] if current else "not_started"
        for field, change in changes.items():
            self._apply_field(field, change, status, current, MUTABLE_FIELDS[status])

    def start_iteration(self, ins: dict[str, Any]) -> None:
        self._start(ins.get("changeJustification"))

    def _start(self, justification: Any) -> None:
        layers.check_startable(self.state, self.exp)
        iterations.start(self.state, self.exp, justification, self.now)
        snapshot = layers.snapshot(self.state, self.exp)
        if snapshot is not None:
            iterations.current_of(self.exp)["layerSnapshot"] = snapshot
        self.started = True

    def stop_iteration(self, ins: dict[str, Any]) -> None:
        self.ship.extend(iterations.stop(self.state, self.exp, ins, self.now))
        snapshot = layers.snapshot(self.state, self.exp)
        if snapshot is not None:
            iterations.current_of(self.exp)["layerSnapshot"] = snapshot

    def save_and_start_new_iteration(self, ins: dict[str, Any]) -> None:
        current = iterations.current_of(self.exp)
        if current is None or current["status"] != "running":
            raise invalid("saveAndStartNewIteration needs a running iteration; use startIteration instead")
        fresh = copy.deepcopy(current)
        for name in ("startedAt", "endedAt", "winningTreatmentId", "winningReason", "changeJustification"):
            fresh.pop(name, None)
        fresh.update(
            _id=next_uuid(self.state).replace("-", "")[:24],
            status="not_started",
            createdAt=self.now,
            version=current["version"] + 1,
        )
        self.exp["iterations"].append(fresh)
        changes = ins.get("value")
        if changes is not None:
            if not isinstance(changes, dict):
                raise invalid("saveAndStartNewIteration value must map field names to changes")
            for field, change in changes.items():
                self._apply_field(field, change, "not_started", fresh, MUTABLE_FIELDS["not_started"])
        old_draft = iterations.draft_of(self.exp)
        if old_draft is not None:
            self.exp["iterations"].remove(old_draft)
        self.exp["draftIterationId"] = fresh["_id"]
        justification = ins.get("changeJustification") or "Saved and started a new iteration"
        self._start(justification)

    def archive_experiment(self, ins: dict[str, Any]) -> None:
        current = iterations.current_of(self.exp)
        if current is not None and current["status"] == "running":
            raise invalid("Stop the running iteration (stopIteration) before archiving the experiment")
        self.exp.setdefault("archivedDate", self.now)

    def restore_experiment(self, ins: dict[str, Any]) -> None:
        self.exp.pop("archivedDate", None)

    # -- field updates ----------------------------------------------------------------------------

    def _apply_field(
        self, field: str, change: Any, status: str, it: dict[str, Any] | None, allowed: dict[str, list[str]]
    ) -> None:
        if not isinstance(change, dict) or change.get("operation") not in OPERATIONS:
            raise invalid(f'Field \'{field}\': give {{"operation": "add"|"update"|"remove", "value": ...}}')
        op = change["operation"]
        if field not in allowed:
            raise invalid(
                f"Field '{field}' cannot be changed while the iteration is {status}; changeable: {', '.join(allowed)}"
            )
        if op not in allowed[field]:
            raise invalid(f"Field '{field}' does not support '{op}' while {status}; use {', '.join(allowed[field])}")
        if op != "remove" and "value" not in change:
            raise invalid(f"Field '{field}': operation '{op}' needs a value")
        if it is None and field in ITERATION_FIELDS:
            raise invalid(f"Field '{field}' belongs to an iteration, and this experiment has none")
        value = change.get("value")
        if field == "name":
            self.exp["name"] = _text(change, "value", "name")
        elif field == "description":
            if op == "remove":
                self.exp.pop("description", None)
            elif isinstance(value, str):
                self.exp["description"] = value
            else:
                raise invalid("Field 'description' takes a string")
        elif field == "methodology":
            if value not in METHODOLOGIES:
                raise invalid(f"Field 'methodology' must be one of {', '.join(METHODOLOGIES)}")
            self.exp["methodology"] = value
        elif field in ("tags", "attributes"):
            holder = self.exp if field == "tags" else it
            holder[field] = _list_change(field, op, holder.get(field, []), value)
        elif field == "hypothesis":
            it["hypothesis"] = _text(change, "value", "hypothesis")
        elif field == "canReshuffleTraffic":
            if not isinstance(value, bool):
                raise invalid("Field 'canReshuffleTraffic' takes true or false")
            it["canReshuffleTraffic"] = value
        elif field == "randomizationUnit":
            it["randomizationUnit"] = "" if op == "remove" else self._unit(value)

    def _unit(self, value: Any) -> str:
        units = [u["randomizationUnit"] for u in self.state["settings"][self.exp["projectKey"]]["randomizationUnits"]]
        if value not in units:
            raise invalid(f"randomizationUnit must be one of the project's units: {', '.join(units) or 'none'}")
        return value


ITERATION_FIELDS = frozenset({"attributes", "hypothesis", "canReshuffleTraffic", "randomizationUnit"})

KINDS: dict[str, Callable[[Patch, dict[str, Any]], None]] = {
    "updateName": Patch.update_name,
    "updateDescription": Patch.update_description,
    "updateExperimentFields": Patch.update_experiment_fields,
    "startIteration": Patch.start_iteration,
    "stopIteration": Patch.stop_iteration,
    "saveAndStartNewIteration": Patch.save_and_start_new_iteration,
    "archiveExperiment": Patch.archive_experiment,
    "restoreExperiment": Patch.restore_experiment,
}


def _text(obj: dict[str, Any], name: str, what: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{what} needs {name}: a non-empty string")
    return value


def _list_change(field: str, op: str, existing: list[str], value: Any) -> list[str]:
    if op == "remove" and value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"Field '{field}' takes a list of strings")
    if op == "add":
        return existing + [v for v in value if v not in existing]
    if op == "remove":
        return [v for v in existing if v not in value]
    return list(dict.fromkeys(value))


def apply(state: dict[str, Any], exp: dict[str, Any], body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """Run the instructions; on success store the result and return it, else raise and change nothing."""
    instructions = body["instructions"]
    if not instructions:
        raise invalid('instructions may not be empty; send at least one {"kind": ...}')
    patch = Patch(state, exp, now_ms)
    for index, ins in enumerate(instructions):
        handler = KINDS.get(ins["kind"])
        if handler is None:
            raise invalid(f"instructions[{index}]: unknown kind '{ins['kind']}'; supported: {', '.join(KINDS)}")
        handler(patch, ins)
    stored = state["experiments"][m.scoped(exp["projectKey"], exp["environmentKey"], exp["key"])]
    stored.clear()
    stored.update(patch.exp)
    for flag_key, rule_id, variation_id in patch.ship:
        ship_winner(state, exp["projectKey"], exp["environmentKey"], flag_key, rule_id, variation_id, now_ms)
    if patch.started:
        holdouts.started(state, stored, now_ms)
    return stored


def ship_winner(
    state: dict[str, Any], project_key: str, env_key: str, flag_key: str, rule_id: str, variation_id: str, now_ms: int
) -> None:
    """Stopping with a winner serves the winning variation on the experiment's rule."""
    row = state["flags"].get(m.scoped(project_key, flag_key))
    if row is None:
        return
    index = m.variation_index(row, variation_id)
    config = row["environments"][env_key]
    target = config["fallthrough"] if rule_id == "fallthrough" else m.find_rule(config, rule_id)
    if index is None or target is None:
        return
    target.pop("rollout", None)
    target["variation"] = index
    config["version"] += 1
    config["lastModified"] = now_ms
    row["_version"] += 1
