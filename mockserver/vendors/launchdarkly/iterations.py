"""Iterations: building one from IterationInput, rendering IterationRep, start and stop rules.

Every check runs before anything is written, and each broken rule says what to fix.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from mockserver.core.store import next_uuid
from mockserver.vendors.launchdarkly import context_kinds
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import conflict, invalid

STATUSES = ("not_started", "running", "stopped")


def _percent(raw: str, name: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise invalid(
            f"Treatment '{name}': allocationPercent must be a number written as a string, such as \"50\"; got {raw!r}"
        ) from None
    if not value.is_finite() or value < 0 or value > 100:
        raise invalid(f"Treatment '{name}': allocationPercent must be between 0 and 100; got {raw!r}")
    return value


def _metrics(state: dict[str, Any], project_key: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    metrics = body["metrics"]
    if not metrics:
        raise invalid("iteration.metrics must list at least one metric")
    seen: set[str] = set()
    out = []
    for item in metrics:
        key, is_group = item["key"], bool(item.get("isGroup", False))
        if key in seen:
            raise invalid(f"Metric '{key}' is listed twice in iteration.metrics")
        seen.add(key)
        table = "metric_groups" if is_group else "metrics"
        if m.live(state, table, project_key, key) is None:
            kind = "metric group" if is_group else "metric"
            raise invalid(f"Unknown {kind} '{key}' in project '{project_key}'; create it first or fix the key")
        entry = {"key": key, "isGroup": is_group}
        if item.get("analysisUnit"):
            entry["analysisUnit"] = item["analysisUnit"]
        out.append(entry)
    single, funnel = body.get("primarySingleMetricKey"), body.get("primaryFunnelKey")
    if single and funnel:
        raise invalid("Set either primarySingleMetricKey or primaryFunnelKey, not both")
    primary = single or funnel
    if primary is None:
        flagged = [i["key"] for i in metrics if i.get("primary")]
        primary = flagged[0] if flagged else metrics[0]["key"]
    match = next((e for e in out if e["key"] == primary), None)
    if match is None:
        raise invalid(f"Primary metric '{primary}' must also be listed in iteration.metrics")
    if single and match["isGroup"]:
        raise invalid(f"primarySingleMetricKey '{single}' names a metric group; use primaryFunnelKey")
    if funnel and (not match["isGroup"] or state["metric_groups"][m.scoped(project_key, funnel)]["kind"] != "funnel"):
        raise invalid(f"primaryFunnelKey '{funnel}' must name a funnel metric group")
    return out, primary


def _flags(state: dict[str, Any], project_key: str, env_key: str, body: dict[str, Any]) -> dict[str, Any]:
    flags = body["flags"]
    if not flags:
        raise invalid("iteration.flags must name the flag the experiment runs on")
    out = {}
    for flag_key, spec in flags.items():
        row = state["flags"].get(m.scoped(project_key, flag_key))
        if row is None:
            raise invalid(f"Unknown flag '{flag_key}' in iteration.flags")
        rule_id = spec["ruleId"]
        config = row["environments"][env_key]
        if rule_id != "fallthrough" and m.find_rule(config, rule_id) is None:
            raise invalid(
                f"Flag '{flag_key}' has no targeting rule '{rule_id}' in '{env_key}'; "
                'use "fallthrough" or the _id of one of its rules'
            )
        if row["archived"]:
            raise invalid(f"Flag '{flag_key}' is archived; restore it or run the experiment on another flag")
        if spec["flagConfigVersion"] != config["version"]:
            raise invalid(
                f"Flag '{flag_key}': flagConfigVersion {spec['flagConfigVersion']} is not its current version "
                f"{config['version']} in '{env_key}'; read the flag again and send its current version"
            )
        entry = {"ruleId": rule_id, "flagConfigVersion": spec["flagConfigVersion"]}
        if spec.get("notInExperimentVariationId") is not None:
            if m.variation_index(row, spec["notInExperimentVariationId"]) is None:
                raise invalid(f"Flag '{flag_key}': notInExperimentVariationId is not one of its variations")
            entry["notInExperimentVariationId"] = spec["notInExperimentVariationId"]
        out[flag_key] = entry
    return out


def _treatments(state: dict[str, Any], project_key: str, body: dict[str, Any], flags: dict[str, Any]) -> list:
    treatments = body["treatments"]
    if len(treatments) < 2:
        raise invalid("iteration.treatments needs at least two treatments (a baseline and a variation)")
    baselines = [t for t in treatments if t["baseline"]]
    if len(baselines) != 1:
        raise invalid(f"Exactly one treatment must have baseline: true; found {len(baselines)}")
    total = Decimal(0)
    names: set[str] = set()
    used_ids: set[str] = set()
    out = []
    for item in treatments:
        name = item["name"]
        if not name.strip():
            raise invalid("Every treatment needs a non-empty name")
        if name in names:
            raise invalid(f"Treatment name '{name}' is used twice")
        names.add(name)
        total += _percent(item["allocationPercent"], name)
        if not item["parameters"]:
            raise invalid(f"Treatment '{name}' needs parameters naming a flag variation")
        params = []
        for param in item["parameters"]:
            flag_key, variation_id = param["flagKey"], param["variationId"]
            if flag_key not in flags:
                raise invalid(f"Treatment '{name}' uses flag '{flag_key}', which is not in iteration.flags")
            row = state["flags"][m.scoped(project_key, flag_key)]
            if m.variation_index(row, variation_id) is None:
                raise invalid(f"Treatment '{name}': '{variation_id}' is not a variation _id of flag '{flag_key}'")
            params.append({"flagKey": flag_key, "variationId": variation_id})
        tid = params[0]["variationId"]  # LaunchDarkly reuses the variation id as the treatment id
        if tid in used_ids:
            raise invalid(f"Treatments '{name}' and another one serve the same variation; each needs its own")
        used_ids.add(tid)
        out.append(
            {
                "_id": tid,
                "name": name,
                "allocationPercent": item["allocationPercent"],
                "baseline": item["baseline"],
                "parameters": params,
            }
        )
    if total > 100:
        raise invalid(f"allocationPercent values add up to {total}; they may not exceed 100")
    return out


def default_unit(state: dict[str, Any], project_key: str) -> str:
    """The randomization unit the experimentation settings mark as default ('' when none is)."""
    units = state["settings"][project_key]["randomizationUnits"]
    return next((u["randomizationUnit"] for u in units if u.get("default")), "")


def build(state: dict[str, Any], project_key: str, env_key: str, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """A not_started iteration from IterationInput, or a 400 naming the first broken rule."""
    if not body["hypothesis"].strip():
        raise invalid("iteration.hypothesis may not be empty")
    metrics, primary = _metrics(state, project_key, body)
    flags = _flags(state, project_key, env_key, body)
    treatments = _treatments(state, project_key, body, flags)
    units = [u["randomizationUnit"] for u in state["settings"][project_key]["randomizationUnits"]]
    unit = body.get("randomizationUnit")
    if unit is None:
        unit = default_unit(state, project_key)
    elif unit and unit not in units:
        raise invalid(
            f"randomizationUnit '{unit}' is not one of the project's randomization units: "
            f"{', '.join(units) or 'none'} (see experimentation-settings)"
        )
    if unit:
        context_kinds.check_units(state, project_key, [unit], "randomizationUnit")
    iteration: dict[str, Any] = {
        "_id": next_uuid(state).replace("-", "")[:24],
        "hypothesis": body["hypothesis"],
        "status": "not_started",
        "createdAt": now_ms,
        "canReshuffleTraffic": body.get("canReshuffleTraffic", True),
        "version": 1,
        "flags": flags,
        "metrics": metrics,
        "primary": primary,
        "treatments": treatments,
        "randomizationUnit": unit,
        "attributes": list(body.get("attributes") or []),
    }
    for optional in ("reallocationFrequencyMillis", "covariateId"):
        if body.get(optional) is not None:
            iteration[optional] = body[optional]
    return iteration


# -- representation -----------------------------------------------------------------------------


def rep(
    state: dict[str, Any], project_key: str, it: dict[str, Any], *, treatments: bool = True, secondary: bool = True
) -> dict[str, Any]:
    """IterationRep; treatments and the non-primary metrics only when asked for."""
    out: dict[str, Any] = {
        "_id": it["_id"],
        "hypothesis": it["hypothesis"],
        "status": it["status"],
        "createdAt": it["createdAt"],
    }
    for name in ("startedAt", "endedAt", "winningTreatmentId", "winningReason"):
        if it.get(name) is not None:
            out[name] = it[name]
    out["canReshuffleTraffic"] = it["canReshuffleTraffic"]
    out["version"] = it["version"]
    if it.get("reallocationFrequencyMillis") is not None:
        out["reallocationFrequencyMillis"] = it["reallocationFrequencyMillis"]
    out["flags"] = {}
    for flag_key, spec in it["flags"].items():
        entry: dict[str, Any] = {
            "targetingRule": spec["ruleId"],
            "flagConfigVersion": spec["flagConfigVersion"],
            "_links": {"self": m.link(f"/api/v2/flags/{project_key}/{flag_key}")},
        }
        row = state["flags"].get(m.scoped(project_key, flag_key))
        if spec["ruleId"] != "fallthrough" and row is not None:
            for config in row["environments"].values():
                rule = m.find_rule(config, spec["ruleId"])
                if rule is not None:
                    if rule.get("description"):
                        entry["targetingRuleDescription"] = rule["description"]
                    entry["targetingRuleClauses"] = rule.get("clauses", [])
                    break
        if spec.get("notInExperimentVariationId"):
            entry["notInExperimentVariationId"] = spec["notInExperimentVariationId"]
        out["flags"][flag_key] = entry
    primary = next(e for e in it["metrics"] if e["key"] == it["primary"])
    out["primaryMetric"] = m.dependent_metric(state, project_key, primary["key"], primary["isGroup"])
    if primary["isGroup"]:
        out["primaryFunnel"] = m.funnel_rep(state, project_key, primary["key"])
    else:
        out["primarySingleMetric"] = m.metric_v2(project_key, state["metrics"][m.scoped(project_key, primary["key"])])
    if it.get("randomizationUnit"):
        out["randomizationUnit"] = it["randomizationUnit"]
    if it.get("attributes"):
        out["attributes"] = list(it["attributes"])
    if it.get("layerSnapshot"):
        out["layerSnapshot"] = dict(it["layerSnapshot"])
    if it.get("covariateId"):
        out["covariateInfo"] = {
            "id": it["covariateId"],
            "fileName": f"{it['covariateId']}.csv",
            "createdAt": it["createdAt"],
        }
    if treatments:
        out["treatments"] = [dict(t, parameters=[dict(p) for p in t["parameters"]]) for t in it["treatments"]]
    if secondary:
        out["metrics"] = [m.dependent_metric(state, project_key, e["key"], e["isGroup"]) for e in it["metrics"]]
        others = [e for e in it["metrics"] if e["key"] != it["primary"] and not e["isGroup"]]
        if others:
            out["secondaryMetrics"] = [
                m.metric_v2(project_key, state["metrics"][m.scoped(project_key, e["key"])]) for e in others
            ]
    return out


# -- start and stop -----------------------------------------------------------------------------


def _running_owner(state: dict[str, Any], exp: dict[str, Any], flag_key: str, rule_id: str) -> str | None:
    """Key of another experiment whose running iteration already uses this flag rule."""
    for other in state["experiments"].values():
        if other["_id"] == exp["_id"] or other["projectKey"] != exp["projectKey"]:
            continue
        if other["environmentKey"] != exp["environmentKey"]:
            continue
        current = current_of(other)
        if current and current["status"] == "running":
            spec = current["flags"].get(flag_key)
            if spec and spec["ruleId"] == rule_id:
                return other["key"]
    return None


def current_of(exp: dict[str, Any]) -> dict[str, Any] | None:
    return find(exp, exp.get("currentIterationId"))


def draft_of(exp: dict[str, Any]) -> dict[str, Any] | None:
    return find(exp, exp.get("draftIterationId"))


def find(exp: dict[str, Any], iteration_id: str | None) -> dict[str, Any] | None:
    if iteration_id is None:
        return None
    return next((it for it in exp["iterations"] if it["_id"] == iteration_id), None)


def check_startable(state: dict[str, Any], exp: dict[str, Any], it: dict[str, Any]) -> None:
    """The documented preconditions of startIteration, in the order a user would fix them."""
    if exp.get("archivedDate") is not None:
        raise invalid("Archived experiments cannot start; restore the experiment (restoreExperiment) first")
    for flag_key in it["flags"]:
        row = state["flags"].get(m.scoped(exp["projectKey"], flag_key))
        if row is None:
            raise invalid(f"Flag '{flag_key}' no longer exists; create a new iteration with an existing flag")
        if row["archived"]:
            raise invalid(f"Flag '{flag_key}' is archived; restore it or use another flag before starting")
        if not row["environments"][exp["environmentKey"]]["on"]:
            raise invalid(f"Flag '{flag_key}' is off in '{exp['environmentKey']}'; turn targeting on before starting")
    if not it.get("randomizationUnit"):
        raise invalid(
            "The iteration has no randomizationUnit; set one (updateExperimentFields or a new iteration) "
            "before starting"
        )
    if all(Decimal(t["allocationPercent"]) == 0 for t in it["treatments"]):
        raise invalid('Every treatment has allocationPercent "0"; give at least one treatment traffic')
    for flag_key, spec in it["flags"].items():
        owner = _running_owner(state, exp, flag_key, spec["ruleId"])
        if owner is not None:
            raise conflict(
                f"Conflict. Flag '{flag_key}' rule '{spec['ruleId']}' is already in running "
                f"experiment '{owner}'. Stop that experiment first."
            )


def start(state: dict[str, Any], exp: dict[str, Any], justification: Any, now_ms: int) -> None:
    draft = draft_of(exp)
    if draft is None:
        raise invalid("There is no draft iteration to start; create one first (POST .../iterations)")
    current = current_of(exp)
    running = current is not None and current["status"] == "running" and current is not draft
    if running and not (isinstance(justification, str) and justification.strip()):
        raise invalid("changeJustification is required to start a new iteration while one is running")
    if justification is not None and not isinstance(justification, str):
        raise invalid("changeJustification must be a string")
    check_startable(state, exp, draft)
    if current is not None and current is not draft:
        if current["status"] == "running":
            current.update(status="stopped", endedAt=now_ms)
        if current["status"] == "not_started":
            exp["iterations"].remove(current)
    draft.update(status="running", startedAt=now_ms)
    if justification:
        draft["changeJustification"] = justification
    exp["currentIterationId"] = draft["_id"]
    exp["draftIterationId"] = None


def stop(state: dict[str, Any], exp: dict[str, Any], instruction: dict[str, Any], now_ms: int) -> list:
    """Stop the running iteration with a winner; returns the flag changes that ship the winner."""
    current = current_of(exp)
    if current is None or current["status"] != "running":
        raise invalid("The experiment has no running iteration to stop")
    winner = instruction.get("winningTreatmentId")
    if not isinstance(winner, str) or not winner:
        raise invalid(
            "stopIteration needs winningTreatmentId: the _id of one of the iteration's treatments "
            "(GET the experiment with expand=treatments)"
        )
    treatment = next((t for t in current["treatments"] if t["_id"] == winner), None)
    if treatment is None:
        ids = ", ".join(t["_id"] for t in current["treatments"])
        raise invalid(f"winningTreatmentId '{winner}' is not one of this iteration's treatments ({ids})")
    reason = instruction.get("winningReason")
    if reason is not None and not isinstance(reason, str):
        raise invalid("winningReason must be a string")
    current.update(status="stopped", endedAt=now_ms, winningTreatmentId=winner)
    if reason:
        current["winningReason"] = reason
    return [(p["flagKey"], current["flags"][p["flagKey"]]["ruleId"], p["variationId"]) for p in treatment["parameters"]]
