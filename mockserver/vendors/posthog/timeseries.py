"""Daily metric results (timeseries_results) and their recalculation, as PostHog answers them.

PostHog stores one result per (experiment, metric uuid, fingerprint, day) once a calculation has
run; before that every day is null and the status is ``pending``. Here a recalculation request
stands for that calculation: it is pending for a few seconds of mock time, then its results exist
for every day from the start to the day it completed. A newer request for the same metric and
fingerprint first clears them, as PostHog deletes the stored results. Values are made up but
stable (seed, experiment, metric and day decide them).

Timestamps in these bodies are Python ``isoformat()`` strings (``+00:00``), as PostHog builds
them by hand rather than through a serializer.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta
from typing import Any

from mockserver.core.clock import iso, parse_instant
from mockserver.core.store import next_uuid
from mockserver.vendors.posthog import fingerprints, flags, lifecycle
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import invalid

RECALC_SECONDS = 5
MAX_DAYS = 366  # a start far in the past would otherwise list every day since
NO_DATA = "—"


def _py(stamp: str | None) -> str | None:
    return fingerprints.python_iso(stamp)


def completed_at(request: dict[str, Any]) -> datetime:
    return parse_instant(request["created_at"]) + timedelta(seconds=RECALC_SECONDS)


def _active(request: dict[str, Any], now: datetime) -> bool:
    return now < completed_at(request)


def _requests(state, exp_id: int) -> list[dict[str, Any]]:
    rows = [r for r in state["timeseries_requests"].values() if r["experiment_id"] == exp_id]
    return sorted(rows, key=lambda r: (r["created_at"], r["id"]))


def _days(exp: dict[str, Any], now: datetime) -> list[date]:
    start = parse_instant(exp["start_date"]).date()
    stop = (parse_instant(exp["end_date"]) if exp.get("end_date") else now).date()
    out = []
    day = start
    while day <= stop and len(out) < MAX_DAYS:
        out.append(day)
        if day == date.max:  # 9999-12-31 has no next day
            break
        day += timedelta(days=1)
    return out


def results(state, exp: dict[str, Any], metric_uuid: str, fingerprint: str, now: datetime) -> dict[str, Any]:
    """PostHog's get_timeseries_results."""
    lifecycle.require("timeseries", exp, m.flag_of(state, exp))
    days = _days(exp, now)
    requests = _requests(state, exp["id"])
    latest = next(
        (r for r in reversed(requests) if r["fingerprint"] == fingerprint and r.get("metric_uuid") == metric_uuid),
        None,
    )
    done = latest if latest is not None and not _active(latest, now) else None
    covered = completed_at(done).date() if done else None
    series: dict[str, Any] = {}
    for day in days:
        series[day.isoformat()] = (
            _day_result(state, exp, metric_uuid, fingerprint, day) if covered is not None and day <= covered else None
        )
    computed = sum(1 for value in series.values() if value is not None)
    status = "pending" if not computed else ("completed" if computed == len(days) else "partial")
    active = next((r for r in requests if r["fingerprint"] == fingerprint and _active(r, now)), None)
    finished = completed_at(done).isoformat() if done and computed else None
    body = {
        "experiment_id": exp["id"],
        "metric_uuid": metric_uuid,
        "status": status,
        "timeseries": series,
        "errors": None,
        "computed_at": finished,
        "created_at": finished or _py(exp["created_at"]),
        "updated_at": finished or _py(exp["updated_at"]),
        "recalculation_status": "pending" if active else None,
        "recalculation_created_at": _py(active["created_at"]) if active else None,
    }
    body["formatted_results"] = formatted(body)
    return body


def recalculate(state, exp: dict[str, Any], body: Any, now: datetime) -> tuple[dict[str, Any], bool]:
    """PostHog's request_timeseries_recalculation: one open request per fingerprint (200 when it exists)."""
    data = body if isinstance(body, dict) else {}
    metric, fingerprint = data.get("metric"), data.get("fingerprint")
    if not metric:
        raise invalid("metric is required")
    if not fingerprint:
        raise invalid("fingerprint is required")
    lifecycle.require("recalculate", exp, m.flag_of(state, exp))
    for request in _requests(state, exp["id"]):
        if request["fingerprint"] == fingerprint and _active(request, now):
            return _request_json(request), False
    rid = next_uuid(state)
    request = {
        "id": rid,
        "experiment_id": exp["id"],
        "metric_uuid": metric.get("uuid") if isinstance(metric, dict) else None,
        "fingerprint": fingerprint,
        "created_at": iso(now),
    }
    state["timeseries_requests"][rid] = request
    return _request_json(request), True


def _request_json(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": request["id"],
        "experiment_id": request["experiment_id"],
        "metric_uuid": request.get("metric_uuid"),
        "fingerprint": request["fingerprint"],
        "status": "pending",
        "created_at": _py(request["created_at"]),
    }


def seed_completed(state, exp: dict[str, Any], metric: dict[str, Any], created_at: str) -> None:
    """A finished calculation for a seeded metric, so seeded experiments show results."""
    rid = next_uuid(state)
    state["timeseries_requests"][rid] = {
        "id": rid,
        "experiment_id": exp["id"],
        "metric_uuid": metric["uuid"],
        "fingerprint": metric["fingerprint"],
        "created_at": created_at,
    }


# ---------------------------------------------------------------------------------------------
# Made-up daily results


def _day_result(state, exp: dict[str, Any], metric_uuid: str, fingerprint: str, day: date) -> dict[str, Any]:
    digest = hashlib.sha256(f"{state['seed']}:{exp['id']}:{metric_uuid}:{fingerprint}:{day}".encode()).hexdigest()
    rng = random.Random(digest)
    age = (day - parse_instant(exp["start_date"]).date()).days + 1
    method = fingerprints.stats_method(exp.get("stats_config"))
    keys = flags.variant_keys(flags.variants_of(m.flag_of(state, exp))) or ["control", "test"]
    baseline_key = (exp.get("stats_config") or {}).get("baseline_variant_key") or "control"
    if baseline_key not in keys:
        baseline_key = keys[0]
    stats = {key: _variant_stats(rng, key, age) for key in keys}
    variants = []
    for key in keys:
        if key == baseline_key:
            continue
        lift = rng.uniform(-0.15, 0.25)
        interval = [round(lift - 0.1, 4), round(lift + 0.1, 4)]
        significant = interval[0] > 0 or interval[1] < 0
        extra = (
            {"method": "bayesian", "chance_to_win": round(rng.uniform(0.2, 0.97), 4), "credible_interval": interval}
            if method == "bayesian"
            else {
                "method": "frequentist",
                "p_value": round(rng.uniform(0.001, 0.6), 4),
                "confidence_interval": interval,
            }
        )
        variants.append({**stats[key], **extra, "significant": significant})
    return {"baseline": stats[baseline_key], "variant_results": variants}


def _variant_stats(rng: random.Random, key: str, age: int) -> dict[str, Any]:
    samples = 180 * age + rng.randrange(0, 60)
    rate = 0.08 + rng.random() * 0.04
    return {
        "key": key,
        "number_of_samples": samples,
        "sum": round(samples * rate, 2),
        "sum_squares": round(samples * rate * 1.3, 2),
    }


# ---------------------------------------------------------------------------------------------
# formatted_results: PostHog's text table of the series (ExperimentTimeseriesFormatter)


def _number(value: Any) -> str:
    if value is None:
        return "N/A"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.5g}"


def _mean(total: Any, samples: Any) -> float | None:
    if total is None or not samples:
        return None
    try:
        return float(total) / float(samples) if float(samples) else None
    except (TypeError, ValueError):
        return None


def _interval(interval: Any) -> str:
    if not interval or len(interval) < 2:
        return "N/A"
    return f"{_number(interval[0])}..{_number(interval[1])}"


def _flag(value: Any) -> str:
    return "N/A" if value is None else ("true" if value else "false")


def formatted(body: dict[str, Any]) -> str:
    series = body.get("timeseries") or {}
    if not series:
        return "No timeseries data."
    sample = next((v for v in series.values() if isinstance(v, dict)), None)
    if sample is None:
        return f"No completed timeseries data (status: {body.get('status') or 'pending'})."
    variants = sample.get("variant_results") or []
    method = next((str(v["method"]) for v in variants if v.get("method")), "unknown")
    keys = list(dict.fromkeys(v["key"] for v in variants if isinstance(v.get("key"), str)))
    header = [f"Method: {method}", f"Variants: control (baseline), {', '.join(keys) if keys else 'none'}"]
    if body.get("status"):
        header.append(f"Status: {body['status']}")
    effect = {"bayesian": "chance_to_win", "frequentist": "p_value"}.get(method, "effect")
    columns = ["Date", "control n", "control mean"]
    for key in keys:
        columns += [f"{key} n", f"{key} mean", f"{key} interval", f"{key} {effect}", f"{key} significant"]
    rows = [columns]
    for day in sorted(series):
        rows.append(_row(day, series[day], keys, method) if series[day] else [day, NO_DATA])
    return "\n".join(header) + "\n" + "\n".join("|".join(row) for row in rows)


def _row(day: str, result: dict[str, Any], keys: list[str], method: str) -> list[str]:
    baseline = result.get("baseline") or {}
    row = [
        day,
        _number(baseline.get("number_of_samples")),
        _number(_mean(baseline.get("sum"), baseline.get("number_of_samples"))),
    ]
    by_key = {v.get("key"): v for v in result.get("variant_results") or []}
    for key in keys:
        variant = by_key.get(key) or {}
        samples = variant.get("number_of_samples")
        effect = variant.get("chance_to_win") if method == "bayesian" else variant.get("p_value")
        row += [
            _number(samples),
            _number(_mean(variant.get("sum"), samples)),
            _interval(variant.get("credible_interval") or variant.get("confidence_interval")),
            _number(effect),
            _flag(variant.get("significant")),
        ]
    return row
