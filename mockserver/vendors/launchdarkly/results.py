"""Synthetic but coherent results, derived only from the seed, the ids and the clock.

Units grow with the time an iteration has run; each treatment gets a posterior (beta for
conversion metrics, normal for numeric ones) so lower <= mean <= upper holds, pBest comes from
the posteriors and sums to 1, and relative differences are taken against the baseline.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import Any

from mockserver.vendors.launchdarkly import models as m

Z95 = 1.959964
GRID = 400
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
MAX_BUCKETS = 90


def _rng(*parts: Any) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def _posterior(metric: dict[str, Any], units: int, truth: float, spread: float, prior: float) -> dict[str, Any]:
    """Posterior summary for one treatment with ``units`` observed units."""
    if metric["isNumeric"]:
        weight = units / (units + 100)
        mean = weight * truth + (1 - weight) * prior
        sd = spread / math.sqrt(units + 1)
        return {
            "mean": mean,
            "sd": sd,
            "dataMean": truth,
            "dataStdDev": spread,
            "sum": truth * units,
            "distribution": {"kind": "normal", "parameters": {"mu": mean, "sigma": sd}},
            "model": "bayesianNormal",
            "bayesianNormal": {"priorMean": prior, "dataWeight": weight},
        }
    conversions = round(units * truth)
    alpha, beta = 1 + conversions, 1 + units - conversions
    mean = alpha / (alpha + beta)
    sd = math.sqrt(mean * (1 - mean) / (alpha + beta + 1))
    rate = conversions / units
    return {
        "mean": mean,
        "sd": sd,
        "dataMean": rate,
        "dataStdDev": math.sqrt(rate * (1 - rate)),
        "sum": float(conversions),
        "distribution": {"kind": "beta", "parameters": {"alpha": alpha, "beta": beta}},
        "model": "bayesianBeta",
        "bayesianBeta": {"priorAlpha": 1.0, "priorBeta": 1.0, "priorMean": 0.5, "dataWeight": units / (units + 2)},
    }


def _p_best(stats: list[dict[str, Any]]) -> list[float]:
    """P(treatment i has the highest mean): the integral of its density times the others' CDFs.

    Integrated on a fixed grid, so it is exact to the rounding and costs well under a millisecond.
    """
    low = min(s["mean"] - 8 * s["sd"] for s in stats)
    high = max(s["mean"] + 8 * s["sd"] for s in stats)
    step = (high - low) / GRID
    shares = []
    for i, own in enumerate(stats):
        total = 0.0
        for k in range(GRID + 1):
            x = low + k * step
            density = math.exp(-0.5 * ((x - own["mean"]) / own["sd"]) ** 2) / (own["sd"] * math.sqrt(2 * math.pi))
            for j, other in enumerate(stats):
                if j != i:
                    density *= 0.5 * math.erfc(-(x - other["mean"]) / (other["sd"] * math.sqrt(2)))
            total += density * (0.5 if k in (0, GRID) else 1.0)
        shares.append(total * step)
    norm = sum(shares)
    rounded = [round(share / norm, 6) for share in shares]
    rounded[-1] = round(1 - sum(rounded[:-1]), 6)
    return rounded


def treatment_results(
    state: dict[str, Any], exp: dict[str, Any], it: dict[str, Any], metric: dict[str, Any], now_ms: int, traffic: bool
) -> list[dict[str, Any]]:
    seed = state["seed"]
    treatments = it["treatments"]
    started = it.get("startedAt")
    elapsed_h = 0.0 if started is None else max(0, (it.get("endedAt") or now_ms) - started) / HOUR_MS
    base_rng = _rng(seed, exp["projectKey"], exp["environmentKey"], exp["key"], it["_id"], metric["key"])
    hourly = base_rng.uniform(40, 160)
    if metric["isNumeric"]:
        prior = base_rng.uniform(20, 200)
        spread = prior * base_rng.uniform(0.3, 0.8)
    else:
        prior = base_rng.uniform(0.05, 0.3)
        spread = 0.0
    rows = []
    for treatment in treatments:
        t_rng = _rng(seed, it["_id"], metric["key"], treatment["_id"])
        lift = 0.0 if treatment["baseline"] else t_rng.uniform(-0.12, 0.18)
        units = int(hourly * elapsed_h * float(Decimal(treatment["allocationPercent"])) / 100)
        truth = min(prior * (1 + lift), 0.95) if not metric["isNumeric"] else prior * (1 + lift)
        rows.append((treatment, units, truth))
    if all(units == 0 for _, units, _ in rows):
        return [_empty(t, len(rows), traffic) for t, _, _ in rows]
    stats = [_posterior(metric, max(units, 1), truth, spread, prior) for _, units, truth in rows]
    p_best = _p_best(stats)
    baseline_index = next(i for i, (t, _, _) in enumerate(rows) if t["baseline"])
    base = stats[baseline_index]
    out = []
    for index, ((treatment, units, _truth), stat) in enumerate(zip(rows, stats, strict=True)):
        lower = stat["mean"] - Z95 * stat["sd"]
        upper = stat["mean"] + Z95 * stat["sd"]
        if not metric["isNumeric"]:
            lower, upper = max(lower, 0.0), min(upper, 1.0)
        row: dict[str, Any] = {
            "treatmentId": treatment["_id"],
            "treatmentName": treatment["name"],
            "units": units,
            "mean": stat["mean"],
            "dataMean": stat["dataMean"] if units else 0.0,
            "dataStdDev": stat["dataStdDev"] if units else 0.0,
            "credibleInterval": {"lower": lower, "upper": upper},
            "pBest": p_best[index],
            "eventValuesSum": stat["sum"] if units else 0.0,
            "distribution": stat["distribution"],
            "model": stat["model"],
        }
        row[stat["model"]] = stat[stat["model"]]
        if traffic:
            row["traffic"] = units
        if index != baseline_index:
            row["relativeDifferences"] = [_relative(stat, base, rows[baseline_index][0]["_id"])]
        out.append(row)
    return out


def _empty(treatment: dict[str, Any], count: int, traffic: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "treatmentId": treatment["_id"],
        "treatmentName": treatment["name"],
        "units": 0,
        "mean": 0.0,
        "dataMean": 0.0,
        "dataStdDev": 0.0,
        "credibleInterval": {"lower": 0.0, "upper": 0.0},
        "pBest": round(1 / count, 6),
        "eventValuesSum": 0.0,
    }
    if traffic:
        row["traffic"] = 0
    return row


def _relative(stat: dict[str, Any], base: dict[str, Any], baseline_id: str) -> dict[str, Any]:
    if base["mean"] == 0:
        return {"fromTreatmentId": baseline_id, "lower": 0.0, "upper": 0.0, "variance": 0.0}
    ratio = stat["mean"] / base["mean"] - 1
    variance = (stat["sd"] / base["mean"]) ** 2 + (stat["mean"] * base["sd"] / base["mean"] ** 2) ** 2
    half = Z95 * math.sqrt(variance)
    return {"fromTreatmentId": baseline_id, "lower": ratio - half, "upper": ratio + half, "variance": variance}


def _fix_p_best(rows: list[dict[str, Any]]) -> None:
    if rows and rows[0]["units"] == 0:
        shares = [r["pBest"] for r in rows]
        rows[-1]["pBest"] = round(1 - sum(shares[:-1]), 6)


def metric_results(
    state: dict[str, Any],
    exp: dict[str, Any],
    it: dict[str, Any],
    metric: dict[str, Any],
    now_ms: int,
    traffic: bool,
    self_href: str,
) -> dict[str, Any]:
    rows = treatment_results(state, exp, it, metric, now_ms, traffic)
    _fix_p_best(rows)
    seen = any(r["units"] for r in rows)
    out: dict[str, Any] = {
        "_links": {"self": m.link(self_href)},
        "treatmentResults": rows,
        "metricSeen": {"ever": seen},
    }
    if seen:
        out["metricSeen"]["timestamp"] = it.get("endedAt") or now_ms
        out["probabilityOfMismatch"] = round(_rng(state["seed"], "srm", it["_id"]).uniform(0.05, 0.6), 4)
    return out


# -- legacy (flag-scoped) experiments -----------------------------------------------------------


def legacy(
    state: dict[str, Any],
    flag_row: dict[str, Any],
    metric: dict[str, Any],
    env_key: str,
    window: tuple[int, int] | None,
    baseline: int,
    self_href: str,
) -> dict[str, Any]:
    """ExperimentResults for the [start, end) window the experiment recorded in."""
    variations = flag_row["variations"]
    out: dict[str, Any] = {
        "_links": {"self": m.link(self_href)},
        "granularity": "daily",
        "metadata": [{"key": v.get("name") or str(v["value"])} for v in variations],
    }
    if window is None or window[1] <= window[0]:
        out.update(
            totals=[_legacy_total(0, 0, 0.0, 0.0, 0.0) for _ in variations],
            series=[],
            stats={"pValue": 1.0, "chi2": 0.0, "winningVariationIdx": baseline, "minSampleSizeMet": False},
            metricSeen={"ever": False},
        )
        return out
    start, end = window
    start = max(start, end - MAX_BUCKETS * DAY_MS)
    seed_rng = _rng(state["seed"], flag_row["key"], metric["key"], env_key)
    daily = [seed_rng.uniform(200, 600) for _ in variations]
    rates = [seed_rng.uniform(0.05, 0.25) for _ in variations]
    cumulative = [[0, 0] for _ in variations]  # impressions, conversions
    series = []
    bucket = start - start % DAY_MS
    while bucket < end:
        lo, hi = max(bucket, start), min(bucket + DAY_MS, end)
        fraction = (hi - lo) / DAY_MS
        day_rng = _rng(state["seed"], flag_row["key"], metric["key"], env_key, bucket)
        slices = []
        for index in range(len(variations)):
            impressions = int(daily[index] * fraction * day_rng.uniform(0.8, 1.2))
            conversions = int(impressions * rates[index] * day_rng.uniform(0.85, 1.15))
            cumulative[index][0] += impressions
            cumulative[index][1] += conversions
            rate = conversions / impressions if impressions else 0.0
            c_imp, c_conv = cumulative[index]
            c_rate = c_conv / c_imp if c_imp else 0.0
            slices.append(
                {
                    "value": float(conversions),
                    "count": conversions,
                    "cumulativeValue": float(c_conv),
                    "cumulativeCount": c_conv,
                    "conversionRate": rate,
                    "cumulativeConversionRate": c_rate,
                    "confidenceInterval": _interval(rate, impressions),
                    "cumulativeConfidenceInterval": _interval(c_rate, c_imp),
                }
            )
        series.append({"Time": bucket, "VariationData": slices})
        bucket += DAY_MS
    base_imp, base_conv = cumulative[baseline]
    base_rate = base_conv / base_imp if base_imp else 0.0
    totals, p_values, chi2 = [], [], 0.0
    for index, (imp, conv) in enumerate(cumulative):
        rate = conv / imp if imp else 0.0
        p_value = 1.0 if index == baseline else _two_proportion_p(conv, imp, base_conv, base_imp)
        if index != baseline:
            p_values.append(p_value)
            chi2 += _z(conv, imp, base_conv, base_imp) ** 2
        improvement = (rate - base_rate) / base_rate if base_rate else 0.0
        totals.append(_legacy_total(imp, conv, rate, p_value, improvement))
    winner = max(range(len(cumulative)), key=lambda i: totals[i]["cumulativeConversionRate"])
    min_sample = totals[0]["minSampleSize"]
    out.update(
        totals=totals,
        series=series,
        metricSeen={"ever": any(c[0] for c in cumulative), "timestamp": end},
        stats={
            "pValue": min(p_values) if p_values else 1.0,
            "chi2": chi2,
            "winningVariationIdx": winner,
            "minSampleSizeMet": all(c[0] >= min_sample for c in cumulative),
        },
    )
    return out


def _legacy_total(impressions: int, conversions: int, rate: float, p_value: float, improvement: float) -> dict:
    return {
        "cumulativeValue": float(conversions),
        "cumulativeCount": conversions,
        "cumulativeImpressionCount": impressions,
        "cumulativeConversionRate": rate,
        "cumulativeConfidenceInterval": _interval(rate, impressions),
        "pValue": p_value,
        "improvement": improvement,
        "minSampleSize": 1000,
    }


def _interval(rate: float, n: int) -> dict[str, float]:
    if n == 0:
        return {"lower": 0.0, "upper": 0.0}
    half = Z95 * math.sqrt(rate * (1 - rate) / n)
    return {"lower": max(rate - half, 0.0), "upper": min(rate + half, 1.0)}


def _z(c1: int, n1: int, c0: int, n0: int) -> float:
    if not n1 or not n0:
        return 0.0
    pooled = (c1 + c0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return 0.0 if se == 0 else (c1 / n1 - c0 / n0) / se


def _two_proportion_p(c1: int, n1: int, c0: int, n0: int) -> float:
    return math.erfc(abs(_z(c1, n1, c0, n0)) / math.sqrt(2))
