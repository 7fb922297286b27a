"""Synthetic but coherent results, derived only from the seed, the ids and the clock.

Units grow with the time an iteration has run (less a holdout's share, within a layer reservation).
The shape follows the experiment's methodology:

* Bayesian: each treatment gets a posterior (beta for conversion metrics, normal for numeric ones)
  so lower <= mean <= upper holds, pBest comes from the posteriors and sums to 1.
* Frequentist: sample means with confidence intervals at the configured significance, p-values
  against the baseline (corrected for multiple comparisons when configured).
* Export only: what was observed, without analysis.

Relative differences are taken against the baseline. An iteration with a covariate (``covariateId``)
is analysed with CUPED: each arm reports its correlation, standard-deviation ratio, covariate
imbalance and variance reduction, and its intervals narrow accordingly. ``results`` holds all units
and then one slice per value of each attribute the iteration is sliced by.
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


def _share(state: dict[str, Any], exp: dict[str, Any], it: dict[str, Any]) -> float:
    """The part of the audience the experiment sees: less its holdout's share, within its layer reservation."""
    share = 1.0
    holdout_id = exp.get("holdoutId")
    if holdout_id:
        holdout = next((h for h in m.table(state, "holdouts").values() if h["_id"] == holdout_id), None)
        if holdout is not None:
            share *= 1 - float(Decimal(holdout["holdoutAmount"])) / 100
    snapshot = it.get("layerSnapshot")
    if snapshot:
        share *= snapshot["reservationPercent"] / 100
    return share


def _arms(
    state: dict[str, Any],
    exp: dict[str, Any],
    it: dict[str, Any],
    metric: dict[str, Any],
    now_ms: int,
    slice_: tuple[str, float] | None,
) -> tuple[list[tuple[dict[str, Any], int, float]], float, float]:
    """(treatment, units, true value) per arm, with the metric's prior and spread; ``slice_`` picks a segment."""
    seed = state["seed"]
    started = it.get("startedAt")
    elapsed_h = 0.0 if started is None else max(0, (it.get("endedAt") or now_ms) - started) / HOUR_MS
    base_rng = _rng(seed, exp["projectKey"], exp["environmentKey"], exp["key"], it["_id"], metric["key"])
    hourly = base_rng.uniform(40, 160) * _share(state, exp, it)
    if metric["isNumeric"]:
        prior = base_rng.uniform(20, 200)
        spread = prior * base_rng.uniform(0.3, 0.8)
    else:
        prior = base_rng.uniform(0.05, 0.3)
        spread = 0.0
    fraction, tilt = 1.0, 0.0
    if slice_ is not None:
        fraction, tilt = slice_[1], _rng(seed, it["_id"], metric["key"], "slice", slice_[0]).uniform(-0.05, 0.05)
    arms = []
    for treatment in it["treatments"]:
        t_rng = _rng(seed, it["_id"], metric["key"], treatment["_id"])
        lift = 0.0 if treatment["baseline"] else t_rng.uniform(-0.12, 0.18)
        if slice_ is not None and not treatment["baseline"]:
            lift += _rng(seed, it["_id"], metric["key"], treatment["_id"], slice_[0]).uniform(-0.04, 0.04)
        units = int(hourly * elapsed_h * float(Decimal(treatment["allocationPercent"])) / 100 * fraction)
        truth = prior * (1 + lift) * (1 + tilt)
        arms.append((treatment, units, min(truth, 0.95) if not metric["isNumeric"] else truth))
    return arms, prior, spread


def _cuped(state: dict[str, Any], it: dict[str, Any], metric: dict[str, Any], treatment_id: str) -> dict[str, float]:
    """CUPED statistics of an arm, drawn once per iteration, metric and treatment."""
    rng = _rng(state["seed"], it["_id"], metric["key"], treatment_id, "cuped")
    correlation = rng.uniform(0.3, 0.7)
    return {
        "correlation": correlation,
        "standardDeviationRatio": rng.uniform(0.8, 1.2),
        "covariateImbalance": rng.uniform(-0.02, 0.02),
        "varianceReduction": correlation**2,
    }


def treatment_results(
    state: dict[str, Any],
    exp: dict[str, Any],
    it: dict[str, Any],
    metric: dict[str, Any],
    now_ms: int,
    traffic: bool,
    slice_: tuple[str, float] | None = None,
) -> list[dict[str, Any]]:
    """One row per treatment, in the shape of the experiment's methodology."""
    arms, prior, spread = _arms(state, exp, it, metric, now_ms, slice_)
    if all(units == 0 for _, units, _ in arms):
        return [_empty(t, len(arms), traffic, exp["methodology"]) for t, _, _ in arms]
    cuped = {t["_id"]: _cuped(state, it, metric, t["_id"]) for t, _, _ in arms} if it.get("covariateId") else {}
    if exp["methodology"] == "frequentist":
        rows = _frequentist(exp, it, metric, arms, spread, cuped)
    elif exp["methodology"] == "export_only":
        rows = [_observed(metric, t, units, truth, spread) for t, units, truth in arms]
    else:
        rows = _bayesian(metric, arms, prior, spread, cuped)
    for row, (_t, units, _truth) in zip(rows, arms, strict=True):
        row.update(cuped.get(row["treatmentId"], {}))
        if traffic:
            row["traffic"] = units
    return rows


def _observed(metric: dict[str, Any], treatment: dict[str, Any], units: int, truth: float, spread: float) -> dict:
    """What was measured, before any model: units, the data mean and spread, the sum of values."""
    if metric["isNumeric"]:
        mean, sd, total = truth, spread, truth * units
    else:
        conversions = round(units * truth)
        mean = conversions / units if units else 0.0
        sd, total = math.sqrt(mean * (1 - mean)), float(conversions)
    return {
        "treatmentId": treatment["_id"],
        "treatmentName": treatment["name"],
        "units": units,
        "dataMean": mean if units else 0.0,
        "dataStdDev": sd if units else 0.0,
        "eventValuesSum": total if units else 0.0,
    }


def _bayesian(metric: dict[str, Any], arms: list, prior: float, spread: float, cuped: dict) -> list[dict[str, Any]]:
    stats = [_posterior(metric, max(units, 1), truth, spread, prior) for _, units, truth in arms]
    for stat, (treatment, _u, _t) in zip(stats, arms, strict=True):
        if treatment["_id"] in cuped:
            stat["sd"] *= math.sqrt(1 - cuped[treatment["_id"]]["varianceReduction"])
    p_best = _p_best(stats)
    baseline_index = next(i for i, (t, _, _) in enumerate(arms) if t["baseline"])
    base = stats[baseline_index]
    out = []
    for index, ((treatment, units, _truth), stat) in enumerate(zip(arms, stats, strict=True)):
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
        if index != baseline_index:
            baseline_id = arms[baseline_index][0]["_id"]
            row["relativeDifferences"] = [_relative(stat, base, baseline_id, _reduction(cuped, treatment, baseline_id))]
        out.append(row)
    return out


def _reduction(cuped: dict, treatment: dict[str, Any], baseline_id: str) -> float | None:
    if not cuped:
        return None
    return (cuped[treatment["_id"]]["varianceReduction"] + cuped[baseline_id]["varianceReduction"]) / 2


def _alpha(exp: dict[str, Any]) -> tuple[float, bool]:
    """Significance level and sidedness from the analysis config (5%, two-sided by default)."""
    config = exp.get("analysisConfig") or {}
    raw = config.get("significanceThreshold")
    try:
        alpha = float(raw) if raw is not None else 0.05
    except ValueError:
        alpha = 0.05
    if alpha >= 1:
        alpha /= 100  # written as a percentage, such as "5"
    alpha = alpha if 0 < alpha < 1 else 0.05
    one_sided = "one" in str(config.get("testDirection", "")).lower()
    return alpha, one_sided


def _z_for(alpha: float, one_sided: bool) -> float:
    """The normal quantile for a confidence level, by bisection on erfc (no scipy needed)."""
    tail = alpha if one_sided else alpha / 2
    low, high = 0.0, 10.0
    for _ in range(80):
        mid = (low + high) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > tail:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _adjust(p_values: list[float], exp: dict[str, Any], it: dict[str, Any]) -> list[float]:
    """Multiple-comparison correction of the treatments' p-values, as the analysis config asks."""
    config = exp.get("analysisConfig") or {}
    method = config.get("multipleComparisonCorrectionMethod")
    if not method or not p_values:
        return p_values
    count = len(p_values)
    if config.get("multipleComparisonCorrectionScope") in ("variations-and-metrics", "metrics"):
        count *= max(1, len(it["metrics"]))
    if method == "bonferroni":
        return [min(1.0, p * count) for p in p_values]
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 1.0
    for rank in range(len(order), 0, -1):  # Benjamini-Hochberg, from the largest p-value down
        i = order[rank - 1]
        running = min(running, p_values[i] * count / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def _frequentist(
    exp: dict[str, Any], it: dict[str, Any], metric: dict, arms: list, spread: float, cuped: dict
) -> list[dict]:
    alpha, one_sided = _alpha(exp)
    z = _z_for(alpha, one_sided)
    rows, errors = [], []
    for treatment, units, truth in arms:
        row = _observed(metric, treatment, units, truth, spread)
        n = max(units, 1)
        se = row["dataStdDev"] / math.sqrt(n) if units else 0.0
        if treatment["_id"] in cuped:
            se *= math.sqrt(1 - cuped[treatment["_id"]]["varianceReduction"])
        row["mean"] = row["dataMean"]
        lower, upper = row["mean"] - z * se, row["mean"] + z * se
        if not metric["isNumeric"]:
            lower, upper = max(lower, 0.0), min(upper, 1.0)
        row["confidenceInterval"] = {"lower": lower, "upper": upper}
        rows.append(row)
        errors.append(se)
    baseline_index = next(i for i, (t, _, _) in enumerate(arms) if t["baseline"])
    base, base_se = rows[baseline_index], errors[baseline_index]
    others = [i for i in range(len(rows)) if i != baseline_index]
    raw = []
    for i in others:
        spread = math.sqrt(errors[i] ** 2 + base_se**2)
        diff = rows[i]["mean"] - base["mean"]
        score = diff / spread if spread else 0.0
        raw.append(0.5 * math.erfc(score / math.sqrt(2)) if one_sided else math.erfc(abs(score) / math.sqrt(2)))
    for i, p_value in zip(others, _adjust(raw, exp, it), strict=True):
        rows[i]["pValue"] = p_value
        relative = {"fromTreatmentId": base["treatmentId"], "lower": 0.0, "upper": 0.0, "variance": 0.0}
        if base["mean"]:
            ratio = rows[i]["mean"] / base["mean"] - 1
            variance = (errors[i] / base["mean"]) ** 2 + (rows[i]["mean"] * base_se / base["mean"] ** 2) ** 2
            relative.update(
                lower=ratio - z * math.sqrt(variance), upper=ratio + z * math.sqrt(variance), variance=variance
            )
        reduction = _reduction(cuped, arms[i][0], base["treatmentId"])
        if reduction is not None:
            relative["varianceReduction"] = reduction
        rows[i]["relativeDifferences"] = [relative]
    return rows


def _empty(treatment: dict[str, Any], count: int, traffic: bool, methodology: str = "bayesian") -> dict[str, Any]:
    row: dict[str, Any] = {
        "treatmentId": treatment["_id"],
        "treatmentName": treatment["name"],
        "units": 0,
        "mean": 0.0,
        "dataMean": 0.0,
        "dataStdDev": 0.0,
        "eventValuesSum": 0.0,
    }
    if methodology == "frequentist":
        row["confidenceInterval"] = {"lower": 0.0, "upper": 0.0}
    elif methodology == "bayesian":
        row["credibleInterval"] = {"lower": 0.0, "upper": 0.0}
        row["pBest"] = round(1 / count, 6)
    else:
        row.pop("mean")
    if traffic:
        row["traffic"] = 0
    return row


def _relative(stat: dict[str, Any], base: dict[str, Any], baseline_id: str, reduction: float | None) -> dict:
    if base["mean"] == 0:
        out = {"fromTreatmentId": baseline_id, "lower": 0.0, "upper": 0.0, "variance": 0.0}
    else:
        ratio = stat["mean"] / base["mean"] - 1
        variance = (stat["sd"] / base["mean"]) ** 2 + (stat["mean"] * base["sd"] / base["mean"] ** 2) ** 2
        half = Z95 * math.sqrt(variance)
        out = {"fromTreatmentId": baseline_id, "lower": ratio - half, "upper": ratio + half, "variance": variance}
    if reduction is not None:
        out["varianceReduction"] = reduction
    return out


def _fix_p_best(rows: list[dict[str, Any]]) -> None:
    if rows and rows[0]["units"] == 0 and "pBest" in rows[0]:
        shares = [r["pBest"] for r in rows]
        rows[-1]["pBest"] = round(1 - sum(shares[:-1]), 6)


# Values each slicing attribute takes, with the share of units they hold; other attributes get generic segments.
SEGMENTS = {
    "country": [("US", 0.45), ("GB", 0.2), ("DE", 0.15), ("FR", 0.12), ("JP", 0.08)],
    "device": [("desktop", 0.55), ("mobile", 0.38), ("tablet", 0.07)],
    "os": [("macOS", 0.3), ("Windows", 0.35), ("iOS", 0.2), ("Android", 0.15)],
    "plan": [("free", 0.7), ("pro", 0.25), ("enterprise", 0.05)],
}


def segments(attribute: str) -> list[tuple[str, float]]:
    return SEGMENTS.get(attribute, [(f"{attribute}-a", 0.5), (f"{attribute}-b", 0.3), (f"{attribute}-c", 0.2)])


def metric_results(
    state: dict[str, Any],
    exp: dict[str, Any],
    it: dict[str, Any],
    metric: dict[str, Any],
    now_ms: int,
    traffic: bool,
    self_href: str,
) -> dict[str, Any]:
    """The results of one metric: all units, then one slice per value of each attribute of the iteration."""
    rows = treatment_results(state, exp, it, metric, now_ms, traffic)
    _fix_p_best(rows)
    sliced = [{"treatmentResults": rows}]
    for attribute in it.get("attributes") or []:
        for value, fraction in segments(attribute):
            part = treatment_results(state, exp, it, metric, now_ms, traffic, (f"{attribute}={value}", fraction))
            _fix_p_best(part)
            sliced.append({"attribute": attribute, "attributeValue": value, "treatmentResults": part})
    seen = any(r["units"] for r in rows)
    out: dict[str, Any] = {"_links": {"self": m.link(self_href)}}
    if len(it.get("attributes") or []) < 2:  # the deprecated field stays only while it is unambiguous
        out["treatmentResults"] = rows
    out["results"] = sliced
    out["metricSeen"] = {"ever": seen}
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
