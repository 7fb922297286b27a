"""Layers: experiments in one layer get mutually exclusive traffic, each its reserved share of it.

Reservations are per environment and add up to at most 100%. An experiment sits in one layer at
most, and every experiment of a layer randomizes by the layer's unit (set by its first reservation).
A reservation may be 0% until the experiment starts, not after; a running experiment's reservation
stays as it is until the experiment stops. When an iteration starts (and again when it stops) it
takes a snapshot of its layer: its own reservation and what the others reserved.
"""

from __future__ import annotations

import copy
from typing import Any

from mockserver.vendors.launchdarkly import filters
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid, not_found

TABLE = "layers"
INSTRUCTIONS = ("updateName", "updateDescription", "updateExperimentReservation", "removeExperiment")
FILTERS = {"reservations.experimentKey": ("contains", "equals"), "experimentKey": ("contains", "equals")}


def get(state: dict[str, Any], project_key: str, key: str) -> dict[str, Any]:
    m.project(state, project_key)
    found = m.table(state, TABLE).get(m.scoped(project_key, key))
    if found is None:
        raise not_found(f"Unknown layer '{key}' in project '{project_key}'")
    return found


def layer_of(state: dict[str, Any], project_key: str, env_key: str, exp_key: str) -> dict[str, Any] | None:
    for layer in m.table(state, TABLE).values():
        if layer["projectKey"] == project_key and any(
            r["experimentKey"] == exp_key for r in layer["reservations"].get(env_key, [])
        ):
            return layer
    return None


def _reservation(layer: dict[str, Any], env_key: str, exp_key: str) -> dict[str, Any] | None:
    return next((r for r in layer["reservations"].get(env_key, []) if r["experimentKey"] == exp_key), None)


def _current(exp: dict[str, Any]) -> dict[str, Any] | None:
    return next((it for it in exp["iterations"] if it["_id"] == exp.get("currentIterationId")), None)


def _running(exp: dict[str, Any] | None) -> bool:
    current = _current(exp) if exp is not None else None
    return current is not None and current["status"] == "running"


def _unit(exp: dict[str, Any]) -> str:
    draft = next((it for it in exp["iterations"] if it["_id"] == exp.get("draftIterationId")), None)
    it = draft or _current(exp) or exp["iterations"][-1]
    return it.get("randomizationUnit", "")


# -- create and patch ---------------------------------------------------------------------------


def create(state: dict[str, Any], project_key: str, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    m.project(state, project_key)
    key = body["key"]
    if not m.KEY.match(key):
        raise invalid(f"Invalid layer key '{key}'; use letters, digits, '.', '_' and '-'")
    if m.scoped(project_key, key) in m.table(state, TABLE):
        raise invalid(f"A layer with key '{key}' already exists in project '{project_key}'")
    if not body["name"].strip():
        raise invalid("name may not be empty")
    layer = {
        "key": key,
        "name": body["name"],
        "description": body["description"],
        "projectKey": project_key,
        "createdAt": now_ms,
        "reservations": {},
    }
    m.table(state, TABLE)[m.scoped(project_key, key)] = layer
    return layer


def _env(state: dict[str, Any], layer: dict[str, Any], body: dict[str, Any], index: int) -> str:
    env_key = body.get("environmentKey")
    if not isinstance(env_key, str) or not env_key:
        raise invalid(f"instructions[{index}] changes a reservation: send environmentKey in the body")
    m.environment(state, layer["projectKey"], env_key)
    return env_key


def _experiment(state: dict[str, Any], layer: dict[str, Any], env_key: str, ins: dict, index: int) -> dict:
    key = ins.get("experimentKey")
    if not isinstance(key, str) or not key:
        raise invalid(f"instructions[{index}] needs experimentKey")
    exp = state["experiments"].get(m.scoped(layer["projectKey"], env_key, key))
    if exp is None:
        raise invalid(f"instructions[{index}]: unknown experiment '{key}' in {layer['projectKey']}/{env_key}")
    return exp


def _reserve(state: dict[str, Any], work: dict[str, Any], env_key: str, ins: dict, index: int) -> None:
    exp = _experiment(state, work, env_key, ins, index)
    percent = ins.get("reservationPercent")
    if type(percent) is not int or not 0 <= percent <= 100:
        raise invalid(f"instructions[{index}]: reservationPercent must be an integer from 0 to 100")
    other = layer_of(state, work["projectKey"], env_key, exp["key"])
    if other is not None and other["key"] != work["key"]:
        raise invalid(f"Experiment '{exp['key']}' already has a reservation in layer '{other['key']}'")
    existing = _reservation(work, env_key, exp["key"])
    if _running(exp) and (existing is None or existing["reservationPercent"] != percent):
        raise invalid(f"Experiment '{exp['key']}' is running; its reservation cannot change until it stops")
    unit = _unit(exp)
    if work.get("randomizationUnit") and unit != work["randomizationUnit"]:
        raise invalid(
            f"Layer '{work['key']}' randomizes by '{work['randomizationUnit']}'; "
            f"experiment '{exp['key']}' uses '{unit or 'none'}'"
        )
    rows = work["reservations"].setdefault(env_key, [])
    if existing is None:
        rows.append({"experimentKey": exp["key"], "reservationPercent": percent})
    else:
        existing["reservationPercent"] = percent
    total = sum(r["reservationPercent"] for r in rows)
    if total > 100:
        raise invalid(f"Reservations in layer '{work['key']}' for '{env_key}' would total {total}%; at most 100%")
    if unit and not work.get("randomizationUnit"):
        work["randomizationUnit"] = unit


def _remove(state: dict[str, Any], work: dict[str, Any], env_key: str, ins: dict, index: int) -> None:
    exp = _experiment(state, work, env_key, ins, index)
    existing = _reservation(work, env_key, exp["key"])
    if existing is None:
        raise invalid(f"Experiment '{exp['key']}' has no reservation in layer '{work['key']}' for '{env_key}'")
    if _running(exp):
        raise invalid(f"Experiment '{exp['key']}' is running; stop it before removing it from the layer")
    work["reservations"][env_key].remove(existing)
    if not any(work["reservations"].values()):
        work.pop("randomizationUnit", None)


def patch(state: dict[str, Any], layer: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Semantic patch, all instructions or none."""
    instructions = body["instructions"]
    if not instructions:
        raise invalid('instructions may not be empty; send at least one {"kind": ...}')
    work = copy.deepcopy(layer)
    for index, ins in enumerate(instructions):
        kind = ins.get("kind")
        if kind == "updateName":
            name = ins.get("name")
            if not isinstance(name, str) or not name.strip():
                raise invalid(f"instructions[{index}]: updateName needs name: a non-empty string")
            work["name"] = name
        elif kind == "updateDescription":
            description = ins.get("description")
            if not isinstance(description, str):
                raise invalid(f"instructions[{index}]: updateDescription needs description: a string")
            work["description"] = description
        elif kind == "updateExperimentReservation":
            _reserve(state, work, _env(state, work, body, index), ins, index)
        elif kind == "removeExperiment":
            _remove(state, work, _env(state, work, body, index), ins, index)
        else:
            raise invalid(f"instructions[{index}]: unknown kind {kind!r}; supported: {', '.join(INSTRUCTIONS)}")
    layer.clear()
    layer.update(work)
    return layer


# -- experiments starting and stopping ----------------------------------------------------------


def check_startable(state: dict[str, Any], exp: dict[str, Any]) -> None:
    layer = layer_of(state, exp["projectKey"], exp["environmentKey"], exp["key"])
    if layer is None:
        return
    mine = _reservation(layer, exp["environmentKey"], exp["key"])
    if mine["reservationPercent"] == 0:
        raise invalid(
            f"Experiment '{exp['key']}' reserves 0% of layer '{layer['key']}'; reserve traffic "
            "(updateExperimentReservation) before starting it"
        )


def snapshot(state: dict[str, Any], exp: dict[str, Any]) -> dict[str, Any] | None:
    """LayerSnapshotRep for the experiment as its layer stands now (None outside any layer)."""
    layer = layer_of(state, exp["projectKey"], exp["environmentKey"], exp["key"])
    if layer is None:
        return None
    rows = layer["reservations"][exp["environmentKey"]]
    mine = _reservation(layer, exp["environmentKey"], exp["key"])
    return {
        "key": layer["key"],
        "name": layer["name"],
        "reservationPercent": mine["reservationPercent"],
        "otherReservationPercent": sum(r["reservationPercent"] for r in rows) - mine["reservationPercent"],
    }


# -- representation and listing -----------------------------------------------------------------


def rep(state: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    project_key = layer["projectKey"]
    envs: dict[str, Any] = {}
    for env_key in state["projects"][project_key]["environments"]:
        reservations = []
        for row in layer["reservations"].get(env_key, []):
            exp = state["experiments"].get(m.scoped(project_key, env_key, row["experimentKey"]))
            flag_key = ""
            if exp is not None:
                it = _current(exp) or exp["iterations"][-1]
                flag_key = next(iter(it["flags"]), "")
            reservations.append(
                {
                    "experimentKey": row["experimentKey"],
                    "flagKey": flag_key,
                    "reservationPercent": row["reservationPercent"],
                }
            )
        envs[env_key] = {"reservations": reservations}
    out: dict[str, Any] = {
        "key": layer["key"],
        "name": layer["name"],
        "description": layer["description"],
        "createdAt": layer["createdAt"],
    }
    if layer.get("randomizationUnit"):
        out["randomizationUnit"] = layer["randomizationUnit"]
    out["environments"] = envs
    return out


def listing(state: dict[str, Any], project_key: str, raw_filter: str | None) -> list[dict[str, Any]]:
    m.project(state, project_key)
    conditions = filters.parse(raw_filter, FILTERS)
    rows = [layer for layer in m.table(state, TABLE).values() if layer["projectKey"] == project_key]
    for cond in conditions:
        rows = [
            layer
            for layer in rows
            if any(r["experimentKey"] in cond.values for env in layer["reservations"].values() for r in env)
        ]
    return sorted(rows, key=lambda layer: (layer["createdAt"], layer["key"]))
