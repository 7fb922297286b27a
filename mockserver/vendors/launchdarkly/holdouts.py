"""Holdouts: a share of an environment's traffic kept out of every experiment that joins the holdout.

A holdout is a base experiment of type ``holdout`` (its iteration measures the holdout's metrics on
``holdoutAmount`` percent of traffic) plus the experiments that joined it by naming its ``_id`` as
``holdoutId`` when they were created. Its status moves ``created`` → ``enabled`` (an experiment
joined) → ``running`` (one of them started) → ``ended`` (``endHoldout``). An ended holdout takes no
new experiments; an experiment joins only with the holdout's randomization unit, and leaves
(``removeExperiment``) only while it is not running.
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from mockserver.vendors.launchdarkly import context_kinds, experiments, iterations
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid, not_found

TABLE = "holdouts"
STATUSES = ("created", "enabled", "running", "ended")
BASE_EXPANDS = ("draftIteration", "previousIterations", "secondaryMetrics", "treatments")
REL_EXPANDS = ("rel-draftIteration", "rel-metrics", "rel-previousIterations", "rel-secondaryMetrics", "rel-treatments")
INSTRUCTIONS = ("endHoldout", "removeExperiment", "updateName", "updateDescription")


# -- lookups ------------------------------------------------------------------------------------


def get(state: dict[str, Any], project_key: str, env_key: str, key: str) -> dict[str, Any]:
    m.environment(state, project_key, env_key)
    found = m.table(state, TABLE).get(m.scoped(project_key, env_key, key))
    if found is None:
        raise not_found(f"Unknown holdout '{key}' in {project_key}/{env_key}")
    return found


def by_id(state: dict[str, Any], project_key: str, env_key: str, holdout_id: str) -> dict[str, Any] | None:
    return next(
        (
            h
            for h in m.table(state, TABLE).values()
            if h["_id"] == holdout_id and h["projectKey"] == project_key and h["environmentKey"] == env_key
        ),
        None,
    )


def rows(state: dict[str, Any], project_key: str, env_key: str) -> list[dict[str, Any]]:
    m.environment(state, project_key, env_key)
    found = [
        h for h in m.table(state, TABLE).values() if h["projectKey"] == project_key and h["environmentKey"] == env_key
    ]
    return sorted(found, key=lambda h: (-h["createdAt"], h["key"]))


def _members(state: dict[str, Any], holdout: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in holdout["experiments"]:
        exp = state["experiments"].get(m.scoped(holdout["projectKey"], holdout["environmentKey"], key))
        if exp is not None:
            out.append(exp)
    return out


# -- create -------------------------------------------------------------------------------------


def _amount(raw: Any) -> str:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise invalid(f'holdoutamount must be a percentage written as a string, such as "10"; got {raw!r}') from None
    if not value.is_finite() or not 0 < value < 100:
        raise invalid(f"holdoutamount must be more than 0 and less than 100; got {raw!r}")
    return str(raw)


def _metrics(state: dict[str, Any], project_key: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    items = body.get("metrics") or []
    if not items:
        raise invalid("A holdout needs metrics: at least one metric (or metric group) to measure")
    out = []
    for item in items:
        key, is_group = item["key"], bool(item.get("isGroup", False))
        table = "metric_groups" if is_group else "metrics"
        if m.live(state, table, project_key, key) is None:
            raise invalid(f"Unknown {'metric group' if is_group else 'metric'} '{key}' in project '{project_key}'")
        if any(e["key"] == key for e in out):
            raise invalid(f"Metric '{key}' is listed twice in metrics")
        out.append({"key": key, "isGroup": is_group})
    primary = body.get("primarymetrickey") or next((i["key"] for i in items if i.get("primary")), out[0]["key"])
    if not any(e["key"] == primary for e in out):
        raise invalid(f"primarymetrickey '{primary}' must also be listed in metrics")
    return out, primary


def create(
    state: dict[str, Any], project_key: str, env_key: str, body: dict[str, Any], member_id: str, now_ms: int
) -> dict[str, Any]:
    m.environment(state, project_key, env_key)
    key, name = body.get("key"), body.get("name")
    if not isinstance(key, str) or not m.KEY.match(key):
        raise invalid("A holdout needs key: letters, digits, '.', '_' and '-'")
    if not isinstance(name, str) or not name.strip():
        raise invalid("A holdout needs a non-empty name")
    if m.scoped(project_key, env_key, key) in m.table(state, TABLE):
        raise invalid(f"A holdout with key '{key}' already exists in {project_key}/{env_key}")
    if body.get("holdoutamount") is None:
        raise invalid('A holdout needs holdoutamount: the percentage of traffic held out, such as "5"')
    amount = _amount(body["holdoutamount"])
    unit = body.get("randomizationunit") or "user"
    context_kinds.check_units(state, project_key, [unit], "randomizationunit")
    metrics, primary = _metrics(state, project_key, body)
    maintainer = body.get("maintainerId") or member_id
    if m.member(state, maintainer) is None:
        raise invalid(f"maintainerId '{maintainer}' is not a member of this account")
    flags: dict[str, Any] = {}
    flag_key = body.get("prerequisiteflagkey")
    if flag_key:
        row = state["flags"].get(m.scoped(project_key, flag_key))
        if row is None:
            raise invalid(f"prerequisiteflagkey: unknown flag '{flag_key}' in project '{project_key}'")
        if row["archived"]:
            raise invalid(f"prerequisiteflagkey: flag '{flag_key}' is archived")
        flags[flag_key] = {"ruleId": "fallthrough", "flagConfigVersion": row["environments"][env_key]["version"]}
    holdout_id = m.hex_id(state)
    iteration = {
        "_id": m.hex_id(state),
        "hypothesis": body.get("description") or name,
        "status": "not_started",
        "createdAt": now_ms,
        "canReshuffleTraffic": False,
        "version": 1,
        "flags": flags,
        "metrics": metrics,
        "primary": primary,
        "treatments": [
            {
                "_id": f"{holdout_id}-held",
                "name": "Holdout",
                "allocationPercent": amount,
                "baseline": True,
                "parameters": [],
            },
            {
                "_id": f"{holdout_id}-rest",
                "name": "Not held out",
                "allocationPercent": str(100 - Decimal(amount)),
                "baseline": False,
                "parameters": [],
            },
        ],
        "randomizationUnit": unit,
        "attributes": list(body.get("attributes") or []),
    }
    base = {
        "_id": holdout_id,
        "key": key,
        "name": name,
        "projectKey": project_key,
        "environmentKey": env_key,
        "_maintainerId": maintainer,
        "_creationDate": now_ms,
        "methodology": "frequentist",
        "dataSource": "launchdarkly",
        "tags": [],
        "type": "holdout",
        "iterations": [iteration],
        "currentIterationId": iteration["_id"],
        "draftIterationId": iteration["_id"],
    }
    if body.get("description"):
        base["description"] = body["description"]
    holdout = {
        "_id": holdout_id,
        "key": key,
        "name": name,
        "projectKey": project_key,
        "environmentKey": env_key,
        "holdoutAmount": amount,
        "status": "created",
        "createdAt": now_ms,
        "updatedAt": now_ms,
        "experiments": [],
        "base": base,
    }
    if body.get("description"):
        holdout["description"] = body["description"]
    m.table(state, TABLE)[m.scoped(project_key, env_key, key)] = holdout
    return holdout


# -- experiments joining, starting, leaving ----------------------------------------------------


def create_experiment(
    state: dict[str, Any],
    project_key: str,
    env_key: str,
    body: dict[str, Any],
    member_id: str | None,
    now_ms: int,
) -> dict[str, Any]:
    """createExperiment: an experiment naming a holdout joins it, when the holdout can take it."""
    holdout = None
    if body.get("holdoutId"):
        unit = body["iteration"].get("randomizationUnit") or iterations.default_unit(state, project_key)
        holdout = check_join(state, project_key, env_key, body["holdoutId"], unit)
    exp = experiments.create(state, project_key, env_key, body, member_id, now_ms)
    if holdout is not None:
        join(holdout, exp["key"], now_ms)
    return exp


def add_iteration(state: dict[str, Any], exp: dict[str, Any], body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """createIteration: an experiment in a holdout keeps the holdout's randomization unit."""
    holdout = by_id(state, exp["projectKey"], exp["environmentKey"], exp.get("holdoutId") or "")
    if holdout is not None:
        check_unit(holdout, body.get("randomizationUnit") or iterations.default_unit(state, exp["projectKey"]))
    return experiments.add_iteration(state, exp, body, now_ms)


def check_join(state: dict[str, Any], project_key: str, env_key: str, holdout_id: str, unit: str) -> dict[str, Any]:
    """The holdout an experiment names as ``holdoutId``, or the 400 that says why it cannot join."""
    holdout = by_id(state, project_key, env_key, holdout_id)
    if holdout is None:
        raise invalid(f"holdoutId '{holdout_id}' is not a holdout of {project_key}/{env_key}")
    if holdout["status"] == "ended":
        raise invalid(f"Holdout '{holdout['key']}' has ended; experiments can no longer join it")
    check_unit(holdout, unit)
    return holdout


def check_unit(holdout: dict[str, Any], unit: str) -> None:
    wanted = unit_of(holdout)
    if unit != wanted:
        raise invalid(
            f"Holdout '{holdout['key']}' randomizes by '{wanted}'; its experiments must use randomizationUnit "
            f"'{wanted}', not '{unit or 'none'}'"
        )


def unit_of(holdout: dict[str, Any]) -> str:
    return holdout["base"]["iterations"][0]["randomizationUnit"]


def join(holdout: dict[str, Any], exp_key: str, now_ms: int) -> None:
    holdout["experiments"].append(exp_key)
    if holdout["status"] == "created":
        holdout["status"] = "enabled"
    holdout["updatedAt"] = now_ms


def started(state: dict[str, Any], exp: dict[str, Any], now_ms: int) -> None:
    """An experiment of the holdout started: the holdout runs (its base iteration too)."""
    holdout = by_id(state, exp["projectKey"], exp["environmentKey"], exp.get("holdoutId") or "")
    if holdout is None or holdout["status"] not in ("created", "enabled"):
        return
    holdout.update(status="running", updatedAt=now_ms)
    base_it = iterations.current_of(holdout["base"])
    if base_it is not None and base_it["status"] == "not_started":
        base_it.update(status="running", startedAt=now_ms)
        holdout["base"]["draftIterationId"] = None


# -- semantic patch -----------------------------------------------------------------------------


def patch(state: dict[str, Any], holdout: dict[str, Any], body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """All instructions or none: they run on copies, stored only when every one succeeded."""
    instructions = body["instructions"]
    if not instructions:
        raise invalid('instructions may not be empty; send at least one {"kind": ...}')
    work = copy.deepcopy(holdout)
    leaving: list[str] = []
    for index, ins in enumerate(instructions):
        kind = ins.get("kind")
        if kind == "endHoldout":
            if work["status"] == "ended":
                raise invalid(f"Holdout '{work['key']}' has already ended")
            work["status"] = "ended"
            base_it = iterations.current_of(work["base"])
            if base_it is not None and base_it["status"] == "running":
                base_it.update(status="stopped", endedAt=now_ms)
        elif kind == "removeExperiment":
            key = ins.get("value")
            if not isinstance(key, str) or key not in work["experiments"]:
                raise invalid(f"instructions[{index}]: removeExperiment needs value: the key of one of its experiments")
            exp = state["experiments"].get(m.scoped(work["projectKey"], work["environmentKey"], key))
            current = iterations.current_of(exp) if exp is not None else None
            if current is not None and current["status"] == "running":
                raise invalid(f"Experiment '{key}' is running; stop it before removing it from the holdout")
            work["experiments"].remove(key)
            leaving.append(key)
        elif kind in ("updateName", "updateDescription"):
            value = ins.get("value")
            if not isinstance(value, str) or (kind == "updateName" and not value.strip()):
                raise invalid(
                    f"instructions[{index}]: {kind} needs value: a {'non-empty ' if kind == 'updateName' else ''}string"
                )
            field = "name" if kind == "updateName" else "description"
            work[field] = value
            work["base"][field] = value
        else:
            raise invalid(f"instructions[{index}]: unknown kind {kind!r}; supported: {', '.join(INSTRUCTIONS)}")
    if not work["experiments"] and work["status"] == "enabled":
        work["status"] = "created"
    work["updatedAt"] = now_ms
    holdout.clear()
    holdout.update(work)
    for key in leaving:
        exp = state["experiments"].get(m.scoped(holdout["projectKey"], holdout["environmentKey"], key))
        if exp is not None:
            exp.pop("holdoutId", None)
    return holdout


# -- representations ----------------------------------------------------------------------------


def _base_rep(state: dict[str, Any], holdout: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    out = experiments.rep(state, holdout["base"], expand)
    path = f"/api/v2/projects/{holdout['projectKey']}/environments/{holdout['environmentKey']}/holdouts"
    out["_links"] = {"self": m.link(f"{path}/{holdout['key']}"), "parent": m.link(path)}
    return out


def _related(state: dict[str, Any], holdout: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": e["key"], "name": e["name"], "environment": e["environmentKey"]} for e in _members(state, holdout)]


def _common(holdout: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"_id": holdout["_id"], "status": holdout["status"]}
    if holdout.get("description"):
        out["description"] = holdout["description"]
    out.update(holdoutAmount=holdout["holdoutAmount"], createdAt=holdout["createdAt"], updatedAt=holdout["updatedAt"])
    return out


def rep(state: dict[str, Any], holdout: dict[str, Any]) -> dict[str, Any]:
    """HoldoutRep: what creating, patching and the lookup by id answer."""
    out = _common(holdout)
    out["baseExperiment"] = _base_rep(state, holdout, ["treatments", "secondaryMetrics"])
    out["experiments"] = _related(state, holdout)
    return out


def detail(state: dict[str, Any], holdout: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    """HoldoutDetailRep, with the base and related experiments expanded as asked."""
    out = _common(holdout)
    members = _members(state, holdout)
    running = [e for e in members if (iterations.current_of(e) or {}).get("status") == "running"]
    out["isDirty"] = holdout["status"] == "running" and bool(running)
    out["baseExperiment"] = _base_rep(state, holdout, [e for e in expand if e in BASE_EXPANDS])
    rel = [e.removeprefix("rel-") for e in expand if e in REL_EXPANDS]
    if "metrics" in rel:
        rel = [e for e in rel if e != "metrics"] + ["secondaryMetrics"]
    related = [experiments.rep(state, e, rel) for e in members]
    if related:
        out["relatedExperiments"] = related
    return out


def summary(state: dict[str, Any], holdout: dict[str, Any]) -> dict[str, Any]:
    """SimpleHoldoutRep, as the list shows each holdout."""
    return {
        "_id": holdout["_id"],
        "key": holdout["key"],
        "name": holdout["name"],
        "status": holdout["status"],
        "createdAt": holdout["createdAt"],
        "updatedAt": holdout["updatedAt"],
        "experiments": _related(state, holdout),
    }
