"""Experiment operations: create, update, lifecycle actions, copies, results. State rules only."""

from __future__ import annotations

import copy
import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from mockserver.core.clock import iso, parse_instant
from mockserver.core.store import next_id, next_uuid
from mockserver.vendors.posthog import approvals, lifecycle
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import detail_only, invalid, not_found

ORDER_FIELDS = ("created_at", "created_by", "updated_at", "name", "start_date", "end_date", "duration", "status")
STATUS_RANK = {"draft": 0, "running": 1, "paused": 1, "stopped": 2}


def _unknown_keys(body: dict[str, Any], allowed: set[str], verb: str) -> None:
    extra = sorted(k for k in body if k not in allowed and k not in m.READ_ONLY)
    if extra:
        raise invalid(f"Can't {verb} keys: {', '.join(extra)} on Experiment")


def _flag_input_variants(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The newer writable feature_flag object, folded into the variants it carries."""
    config = body.get("feature_flag")
    if not isinstance(config, dict) or config.get("id") is not None:
        return None
    variants = ((config.get("filters") or {}).get("multivariate") or {}).get("variants")
    return [dict(v) for v in variants] if variants else None


# ---------------------------------------------------------------------------------------------
# Create


def create(state, team_id: int, body: dict[str, Any], user_id: int, now: datetime) -> dict[str, Any]:
    name = body["name"]
    if not str(name).strip():
        raise invalid("This field may not be blank.", "name", "blank")
    key = body["feature_flag_key"]
    if not m.FLAG_KEY.match(key):
        raise invalid("Only letters, numbers, hyphens (-) & underscores (_) are allowed.", "key", "invalid_key")
    params = copy.deepcopy(body.get("parameters")) if body.get("parameters") is not None else None
    variants = m.normalise_variants(params)
    if variants is None:
        variants = _flag_input_variants(body)
        if variants is not None:
            variants = m.normalise_variants({"feature_flag_variants": variants})
    start = m.parse_date(body.get("start_date"), "start_date")
    end = m.parse_date(body.get("end_date"), "end_date")
    m.check_dates(start, end)
    holdout = m.check_holdout(state, team_id, body.get("holdout_id"))
    links = m.check_saved_metric_ids(state, team_id, body.get("saved_metrics_ids"))
    m.check_metrics(body)
    m.check_stats_config(body.get("stats_config"))
    m.check_filters(body.get("filters"))
    _unknown_keys(body, m.CREATABLE, "create")

    existing = m.flag_by_key(state, team_id, key)
    if existing is not None:
        m.check_existing_flag(existing)
    else:
        m.check_variant_sum(variants or m.DEFAULT_VARIANTS)

    # -- everything checked: write
    created = iso(now)
    if existing is not None:
        flag = existing
        variants = m.flag_variants(flag)
    else:
        rollout = (params or {}).get("rollout_percentage", 100)
        flag = m.insert_flag(
            state,
            team_id,
            key,
            f"Feature Flag for Experiment {name}",
            variants or m.DEFAULT_VARIANTS,
            active=start is not None,
            created_at=created,
            created_by_id=user_id,
            rollout=rollout,
            holdout=m.holdout_block(holdout),
            aggregation=(params or {}).get("aggregation_group_type_index"),
            payloads=(params or {}).get("feature_flag_payloads"),
            continuity=bool((params or {}).get("ensure_experience_continuity") or False),
        )
    if params is not None and variants:
        params["feature_flag_variants"] = [
            {k: v for k, v in variant.items() if k != "split_percent"} for variant in variants
        ]
    taken: set[str] = set()
    exp = m.new_experiment_record(
        state,
        team_id=team_id,
        name=name,
        description=body.get("description") or "",
        flag=flag,
        created_by_id=user_id,
        created_at=created,
        parameters=params,
        metrics=m.assign_metric_uuids(state, body.get("metrics"), taken),
    )
    exp["metrics_secondary"] = m.assign_metric_uuids(state, body.get("metrics_secondary"), taken)
    exp.update(start_date=start, end_date=end, holdout_id=holdout["id"] if holdout else None)
    for field in (
        "archived",
        "type",
        "conclusion",
        "conclusion_comment",
        "secondary_metrics",
        "filters",
        "scheduling_config",
        "only_count_matured_users",
        "running_time_calculation",
        "excluded_variants",
    ):
        if body.get(field) is not None:
            exp[field] = copy.deepcopy(body[field])
    if body.get("exposure_criteria") is not None:
        exp["exposure_criteria"] = copy.deepcopy(body["exposure_criteria"])
    if body.get("stats_config") is not None:
        exp["stats_config"] = copy.deepcopy(body["stats_config"])
    m.link_saved_metrics(state, exp, links, created)
    for attr in ("primary_metrics_ordered_uuids", "secondary_metrics_ordered_uuids"):
        if body.get(attr):
            exp[attr] = list(body[attr])
    m.sync_ordering(exp, state)
    return exp


# ---------------------------------------------------------------------------------------------
# Update (PUT / PATCH)


def update(
    state,
    team_id: int,
    exp_id: int,
    body: dict[str, Any],
    gate: approvals.Gate,
    search: str | None = None,
) -> dict[str, Any]:
    now = gate.now
    exp = m.get(state, "experiments", exp_id, team_id)
    restoring = exp.get("deleted") and "deleted" in body and not body["deleted"]
    if exp.get("deleted") and not restoring:
        raise not_found()
    if search and search.lower() not in exp["name"].lower():
        raise not_found()
    flag = m.flag_of(state, exp)
    if "feature_flag_key" in body and flag is not None and body["feature_flag_key"] != flag["key"]:
        raise invalid("Can't update keys: get_feature_flag_key on Experiment")
    if "type" in body:
        raise invalid("Can't update keys: type on Experiment")
    allowed = m.UPDATABLE | {"feature_flag_key"}
    _unknown_keys(body, allowed, "update")
    if "name" in body and not str(body["name"]).strip():
        raise invalid("This field may not be blank.", "name", "blank")

    launched = exp.get("start_date") is not None
    params = copy.deepcopy(body["parameters"]) if "parameters" in body else None
    new_variants = m.normalise_variants(params)
    current_variants = m.flag_variants(flag)
    new_keys = sorted(v["key"] for v in new_variants or [])
    if launched and new_variants is not None and new_keys != sorted(v["key"] for v in current_variants):
        raise invalid("Can't update feature_flag_variants on Experiment")
    holdout_changes = "holdout_id" in body and body["holdout_id"] != exp.get("holdout_id")
    if launched and holdout_changes:
        raise invalid("Can't update holdout on running Experiment")
    holdout = m.check_holdout(state, team_id, body.get("holdout_id")) if holdout_changes else None
    m.check_filters(body.get("filters"))
    m.check_metrics(body)
    m.check_stats_config(body.get("stats_config"))
    links = (
        m.check_saved_metric_ids(state, team_id, body["saved_metrics_ids"])
        if body.get("saved_metrics_ids") is not None
        else None
    )
    start = m.parse_date(body["start_date"], "start_date") if "start_date" in body else exp.get("start_date")
    end = m.parse_date(body["end_date"], "end_date") if "end_date" in body else exp.get("end_date")
    m.check_dates(start, end)
    launching = not launched and start is not None
    if launching:
        lifecycle.require("launch", exp, flag)
    if restoring and flag is not None and flag.get("deleted"):
        raise invalid(
            "Cannot restore experiment: the linked feature flag has been deleted. Restore the "
            "feature flag first, then restore the experiment."
        )
    syncs_flag = (
        flag is not None and (params or holdout_changes) and (not launched or body.get("update_feature_flag_params"))
    )
    if syncs_flag and new_variants:
        m.check_variant_sum(new_variants)
    split_changes = new_variants is not None and syncs_flag and _split(new_variants) != _split(current_variants)

    gate_keys = []
    if split_changes:
        gate_keys.append("experiment.update")
    if syncs_flag:
        gate_keys.append("feature_flag.update")
    gate.check(gate_keys, flag["id"] if syncs_flag and not split_changes else exp["id"])

    # -- everything checked: write
    stamp = iso(now)
    for field in (
        "name",
        "description",
        "archived",
        "secondary_metrics",
        "filters",
        "exposure_criteria",
        "stats_config",
        "scheduling_config",
        "conclusion",
        "conclusion_comment",
        "only_count_matured_users",
        "running_time_calculation",
        "excluded_variants",
    ):
        if field in body:
            exp[field] = copy.deepcopy(body[field])
    if "deleted" in body:
        exp["deleted"] = bool(body["deleted"])
    if "parameters" in body:
        if params is not None and new_variants:
            params["feature_flag_variants"] = new_variants
        exp["parameters"] = params
    exp["start_date"], exp["end_date"] = start, end
    if holdout_changes:
        exp["holdout_id"] = holdout["id"] if holdout else None
    taken: set[str] = set()
    if "metrics" in body:
        exp["metrics"] = m.assign_metric_uuids(state, body["metrics"], taken)
    if "metrics_secondary" in body:
        exp["metrics_secondary"] = m.assign_metric_uuids(state, body["metrics_secondary"], taken)
    if links is not None:
        m.link_saved_metrics(state, exp, links, stamp)
    for attr in ("primary_metrics_ordered_uuids", "secondary_metrics_ordered_uuids"):
        if body.get(attr) is not None:
            exp[attr] = list(body[attr])
    if launching and flag is not None:
        flag["active"] = True
    if syncs_flag:
        if params:
            flag["filters"].setdefault("multivariate", {})["variants"] = copy.deepcopy(
                new_variants or m.DEFAULT_VARIANTS
            )
            flag["filters"]["groups"][0]["rollout_percentage"] = params.get("rollout_percentage", 100)
            flag["filters"]["aggregation_group_type_index"] = params.get("aggregation_group_type_index")
        held = state["holdouts"].get(str(exp.get("holdout_id")))
        m.apply_holdout_to_flag(state, flag, held)
    exp["updated_at"] = stamp
    m.sync_ordering(exp, state)
    return exp


def _split(variants: list[dict[str, Any]]) -> dict[str, Any]:
    return {v["key"]: v.get("rollout_percentage") for v in variants}


# ---------------------------------------------------------------------------------------------
# Lifecycle actions


def act(
    state,
    team_id: int,
    exp_id: int,
    action: str,
    body: dict[str, Any],
    gate: approvals.Gate,
    search: str | None = None,
) -> dict[str, Any]:
    now = gate.now
    exp = m.live_experiment(state, exp_id, team_id, search)
    flag = m.flag_of(state, exp)
    lifecycle.require(action, exp, flag)
    stamp = iso(now)
    if action == "launch":
        gate.check(["experiment.launch"], exp["id"])
        exp["start_date"] = stamp
        flag["active"] = True
    elif action in ("pause", "resume"):
        gate.check(["experiment.pause"], exp["id"])
        flag["active"] = action == "resume"
    elif action == "end":
        exp["end_date"] = stamp
        exp["conclusion"] = body.get("conclusion")
        exp["conclusion_comment"] = body.get("conclusion_comment")
    elif action == "ship_variant":
        _ship(exp, flag, body, stamp, gate)
    elif action == "reset":
        exp.update(start_date=None, end_date=None, archived=False, conclusion=None, conclusion_comment=None)
    elif action == "archive":
        exp["archived"] = True
    elif action == "unarchive":
        exp["archived"] = False
    exp["updated_at"] = stamp
    m.sync_ordering(exp, state)
    return exp


def _ship(exp, flag, body, stamp, gate) -> None:
    key = body["variant_key"]
    variants = m.flag_variants(flag)
    if not any(v.get("key") == key for v in variants):
        raise invalid(f"Variant '{key}' not found on feature flag.")
    gate.check(["experiment.update"], exp["id"])
    flag["filters"]["multivariate"]["variants"] = [
        dict(v, rollout_percentage=100 if v.get("key") == key else 0) for v in variants
    ]
    if body.get("release_to_everyone"):
        flag["filters"]["groups"].insert(
            0,
            {
                "properties": [],
                "rollout_percentage": 100,
                "description": "Added automatically when the experiment was ended to keep only one variant.",
            },
        )
    flag["version"] = flag.get("version", 1) + 1
    if exp.get("end_date") is None:
        exp["end_date"] = stamp
    for field in ("conclusion", "conclusion_comment"):
        if body.get(field) is not None:
            exp[field] = body[field]


# ---------------------------------------------------------------------------------------------
# Copies


def copy_experiment(
    state, source: dict[str, Any], target_team: int, body: dict[str, Any], user_id: int, now: datetime
) -> dict[str, Any]:
    source_flag = m.flag_of(state, source)
    key = body.get("feature_flag_key") or (source_flag["key"] if source_flag else None)
    if key is None or not m.FLAG_KEY.match(key):
        raise invalid("Only letters, numbers, hyphens (-) & underscores (_) are allowed.", "key", "invalid_key")
    name = body.get("name") or m.unique_copy_name(state, target_team, source["name"])
    same_project = target_team == source["team_id"]
    flag = m.flag_by_key(state, target_team, key)
    variants = m.flag_variants(source_flag) or m.DEFAULT_VARIANTS
    if flag is not None:
        m.check_existing_flag(flag)
    stamp = iso(now)
    if flag is None:
        flag = m.insert_flag(
            state,
            target_team,
            key,
            f"Feature Flag for Experiment {name}",
            variants,
            active=False,
            created_at=stamp,
            created_by_id=user_id,
        )
    taken: set[str] = set()
    remap: dict[str, str] = {}

    def fresh(metrics):
        out = []
        for metric in copy.deepcopy(metrics or []):
            old = metric.get("uuid")
            metric["uuid"] = None
            (new,) = m.assign_metric_uuids(state, [metric], taken)
            if old:
                remap[old] = new["uuid"]
            out.append(new)
        return out

    exp = m.new_experiment_record(
        state,
        team_id=target_team,
        name=name,
        description=source.get("description"),
        flag=flag,
        created_by_id=user_id,
        created_at=stamp,
        parameters=copy.deepcopy(source.get("parameters")),
        metrics=fresh(source.get("metrics")),
    )
    exp["metrics_secondary"] = fresh(source.get("metrics_secondary"))
    for field in (
        "filters",
        "stats_config",
        "scheduling_config",
        "exposure_criteria",
        "only_count_matured_users",
        "type",
    ):
        exp[field] = copy.deepcopy(source.get(field))
    if same_project:
        m.link_saved_metrics(
            state,
            exp,
            [
                {"id": link["saved_metric"], "metadata": link.get("metadata")}
                for link in source.get("saved_metrics", [])
            ],
            stamp,
        )
    for attr in ("primary_metrics_ordered_uuids", "secondary_metrics_ordered_uuids"):
        exp[attr] = [remap.get(u, u) for u in source.get(attr) or []]
    m.sync_ordering(exp, state)
    return exp


def copy_to_project(state, source, body, user_id, now) -> dict[str, Any]:
    target = body["target_team_id"]
    if str(target) not in state["projects"]:
        raise detail_only(404, "Target team not found.")
    return copy_experiment(state, source, int(target), body, user_id, now)


# ---------------------------------------------------------------------------------------------
# Lists and read-only actions


def _sort_key(state, field: str, now: datetime):
    if field not in ("created_by", "duration", "status", "name"):
        return lambda exp: exp.get(field) or ""  # a plain field: no per-row branching on a 10,000-row sort

    def key(exp):
        if field == "created_by":
            who = state["users"].get(str(exp.get("created_by_id"))) or {}
            return (who.get("first_name") or who.get("email") or "").lower()
        if field == "duration":
            if not exp.get("start_date"):
                return -1.0
            stop = parse_instant(exp["end_date"]) if exp.get("end_date") else now
            return (stop - parse_instant(exp["start_date"])).total_seconds()
        if field == "status":
            return STATUS_RANK[m.status_of(exp, m.flag_of(state, exp))]
        if field == "name":
            return exp["name"].lower()
        return exp.get(field) or ""

    return key


def listing(state, team_id: int, query: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    order = query.get("order") or "-created_at"
    field = order[1:] if order.startswith("-") else order
    if field not in ORDER_FIELDS:
        raise invalid(f"Invalid order field: '{order}'")
    flag_filter = query.get("feature_flag_id")
    if flag_filter is not None and not (str(flag_filter).isascii() and str(flag_filter).lstrip("-").isdigit()):
        raise invalid("feature_flag_id must be an integer")
    archived = str(query["archived"]).lower() == "true" if "archived" in query else False
    status = str(query.get("status") or "").lower()
    search = (query.get("search") or "").lower()
    creators = {c.strip() for c in str(query.get("created_by_id") or "").strip("[]").split(",") if c.strip()}
    wanted = {"draft": "draft", "running": "running", "paused": "paused", "stopped": "stopped", "complete": "stopped"}
    wanted_status = wanted.get(status)
    rows = []
    for exp in state["experiments"].values():
        if exp["team_id"] != team_id or exp.get("deleted") or bool(exp.get("archived")) != archived:
            continue
        # The status needs the flag: a second lookup per row, so only when the query filters on it.
        if wanted_status is not None and m.status_of(exp, m.flag_of(state, exp)) != wanted_status:
            continue
        if search and search not in exp["name"].lower():
            continue
        if creators and str(exp.get("created_by_id")) not in creators:
            continue
        if flag_filter is not None and str(exp.get("feature_flag_id")) != str(int(flag_filter)):
            continue
        rows.append(exp)
    rows.sort(key=lambda e: e["id"])
    rows.sort(key=_sort_key(state, field, now), reverse=order.startswith("-"))
    return rows


def stats(state, team_id: int, now: datetime) -> dict[str, Any]:
    def within(value, low, high):
        return value is not None and now - timedelta(days=high) <= parse_instant(value) < now - timedelta(days=low)

    live = [
        e
        for e in state["experiments"].values()
        if e["team_id"] == team_id and not e.get("deleted") and not e.get("archived")
    ]
    last = sum(1 for e in live if within(e.get("start_date"), 0, 30))
    previous = sum(1 for e in live if within(e.get("start_date"), 30, 60))
    # PostHog reports +100% when nothing launched in the previous window but something did now.
    change = round((last - previous) / previous * 100, 1) if previous else (100.0 if last else 0.0)
    return {
        "launched_last_30d": last,
        "launched_previous_30d": previous,
        "percent_change": change,
        "active_experiments": sum(1 for e in live if e.get("start_date") and not e.get("end_date")),
        "completed_last_30d": sum(1 for e in live if within(e.get("end_date"), 0, 30)),
    }


def exposure_cohort(state, exp: dict[str, Any], user_id: int, now: datetime) -> dict[str, Any]:
    flag = m.flag_of(state, exp)
    lifecycle.require("create_exposure_cohort", exp, flag)
    cid = next_id(state, "cohort")
    event = ((exp.get("exposure_criteria") or {}).get("exposure_config") or {}).get("event") or "$feature_flag_called"
    cohort = {
        "id": cid,
        "team_id": exp["team_id"],
        "name": f'Users exposed to experiment "{exp["name"]}"',
        "description": "",
        "is_static": False,
        "is_calculating": True,
        "deleted": False,
        "count": None,
        "filters": {
            "properties": {
                "type": "OR",
                "values": [
                    {
                        "type": "AND",
                        "values": [
                            {
                                "type": "behavioral",
                                "key": event,
                                "value": "performed_event",
                                "event_type": "events",
                                "explicit_datetime": exp["start_date"],
                                "event_filters": [{"key": "$feature_flag", "type": "event", "value": flag["key"]}],
                            }
                        ],
                    }
                ],
            }
        },
        "created_by_id": user_id,
        "created_at": iso(now),
        "last_calculation": None,
        "errors_calculating": 0,
    }
    state["cohorts"][str(cid)] = cohort
    exp["exposure_cohort"] = cid
    exp["updated_at"] = iso(now)
    return cohort


def _metric_uuids(state, exp) -> set[str]:
    out = {mm.get("uuid") for mm in (exp.get("metrics") or []) + (exp.get("metrics_secondary") or [])}
    for link in exp.get("saved_metrics", []):
        metric = state["saved_metrics"].get(str(link["saved_metric"]))
        if metric:
            out.add(metric["query"].get("uuid"))
    return {u for u in out if u}


RECALC_SECONDS = 5


def _recalc_status(req: dict[str, Any], now: datetime) -> str:
    age = (now - parse_instant(req["created_at"])).total_seconds()
    return "pending" if age < RECALC_SECONDS else "completed"


def timeseries(state, exp: dict[str, Any], metric_uuid: str, fingerprint_: str, now: datetime) -> dict[str, Any]:
    lifecycle.require("timeseries", exp, m.flag_of(state, exp))
    start = parse_instant(exp["start_date"]).date()
    stop = (parse_instant(exp["end_date"]) if exp.get("end_date") else now).date()
    known = metric_uuid in _metric_uuids(state, exp)
    variants = [v["key"] for v in m.flag_variants(m.flag_of(state, exp))] or ["control", "test"]
    days: dict[str, Any] = {}
    day = start
    while day <= stop and len(days) < 366:
        days[day.isoformat()] = (
            _day_result(state["seed"], exp["id"], metric_uuid, day.isoformat(), variants, (day - start).days + 1)
            if known
            else None
        )
        day += timedelta(days=1)
    pending = [
        r
        for r in state["timeseries_requests"].values()
        if r["experiment_id"] == exp["id"] and r["fingerprint"] == fingerprint_ and _recalc_status(r, now) == "pending"
    ]
    computed = [d for d in days.values() if d is not None]
    overall = "completed" if days and len(computed) == len(days) else ("pending" if not computed else "partial")
    created = exp["start_date"]
    return {
        "experiment_id": exp["id"],
        "metric_uuid": metric_uuid,
        "status": overall,
        "timeseries": days,
        "errors": None,
        "computed_at": iso(now) if computed else None,
        "created_at": created,
        "updated_at": iso(now),
        "recalculation_status": "pending" if pending else None,
        "recalculation_created_at": pending[-1]["created_at"] if pending else None,
    }


def _day_result(seed: int, exp_id: int, metric_uuid: str, day: str, variants: list[str], age: int) -> dict[str, Any]:
    digest = hashlib.sha256(f"{seed}:{exp_id}:{metric_uuid}:{day}".encode()).hexdigest()
    rng = random.Random(digest)
    results = []
    for key in variants:
        samples = 180 * age + rng.randrange(0, 60)
        rate = 0.08 + rng.random() * 0.04
        results.append(
            {
                "key": key,
                "number_of_samples": samples,
                "sum": round(samples * rate, 2),
                "sum_squares": round(samples * rate * 1.3, 2),
            }
        )
    baseline, *others = results
    for other in others:
        other["chance_to_win"] = round(0.3 + rng.random() * 0.6, 4)
    return {"baseline": baseline, "variant_results": others}


def recalculate(state, exp: dict[str, Any], body: dict[str, Any], now: datetime) -> tuple[dict[str, Any], bool]:
    lifecycle.require("recalculate", exp, m.flag_of(state, exp))
    fp = body["fingerprint"]
    for req in state["timeseries_requests"].values():
        if req["experiment_id"] == exp["id"] and req["fingerprint"] == fp and _recalc_status(req, now) == "pending":
            return _recalc_json(req, now), False
    rid = next_uuid(state)
    req = {
        "id": rid,
        "experiment_id": exp["id"],
        "metric_uuid": (body.get("metric") or {}).get("uuid"),
        "fingerprint": fp,
        "created_at": iso(now),
    }
    state["timeseries_requests"][rid] = req
    return _recalc_json(req, now), True


def _recalc_json(req: dict[str, Any], now: datetime) -> dict[str, Any]:
    return dict(req, status=_recalc_status(req, now))
