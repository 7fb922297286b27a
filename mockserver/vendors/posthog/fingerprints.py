"""Metric fingerprints computed the way PostHog computes them (same input, same hash).

A fingerprint names one metric under one analysis setup: the metric definition without its
identity fields, the experiment's start date (UTC, Python ISO form), the stats method, the
exposure criteria when set, the matured-users switch when on and the excluded variants when any.
PostHog stores results under it, so clients read timeseries by (metric uuid, fingerprint).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from mockserver.core.clock import parse_instant

IGNORED_FIELDS = ("uuid", "name", "kind", "fingerprint", "only_count_matured_users")


def stats_method(stats_config: Any) -> str:
    method = stats_config.get("method") if isinstance(stats_config, dict) else None
    return method or "bayesian"


def python_iso(stamp: str | None) -> str | None:
    """A stored instant as Python's datetime.isoformat() writes it in UTC (``+00:00``, not ``Z``)."""
    return parse_instant(stamp).isoformat() if stamp else None


def metric_fingerprint(
    metric: dict[str, Any],
    start_date: str | None,
    method: str | None,
    exposure_criteria: Any,
    only_count_matured_users: bool = False,
    excluded_variants: list[str] | None = None,
) -> str:
    clean = {k: v for k, v in metric.items() if k not in IGNORED_FIELDS}  # only read: no copies
    _drop_empty_breakdowns(clean)  # replaces or removes a member of ``clean``, never changes one
    material: dict[str, Any] = {
        "metric": clean,
        "start_date": python_iso(start_date),
        "stats_method": method or "bayesian",
    }
    if exposure_criteria:
        material["exposure_criteria"] = exposure_criteria
    if only_count_matured_users:
        material["only_count_matured_users"] = True
    if excluded_variants:
        material["excluded_variants"] = sorted(set(excluded_variants))
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _drop_empty_breakdowns(metric: dict[str, Any]) -> None:
    """A breakdownFilter without breakdowns is the same metric as none at all."""
    if "breakdownFilter" not in metric:
        return
    breakdowns = metric["breakdownFilter"]
    if breakdowns is None:
        del metric["breakdownFilter"]
    elif isinstance(breakdowns, dict) and not breakdowns.get("breakdowns"):
        rest = {k: v for k, v in breakdowns.items() if k != "breakdowns"}
        if rest:
            metric["breakdownFilter"] = rest
        else:
            del metric["breakdownFilter"]


def excluded_variants_of(parameters: Any) -> list[str] | None:
    value = parameters.get("excluded_variants") if isinstance(parameters, dict) else None
    return value if isinstance(value, list) else None


def refresh(metrics: list[Any] | None, exp: dict[str, Any], *, matured: bool | None = None) -> list[Any]:
    """Copies of ``metrics`` with fingerprints for the experiment's current setup.

    ``matured`` overrides the experiment's matured-users switch: PostHog's launch leaves it out.
    """
    counted = exp.get("only_count_matured_users") if matured is None else matured
    out = []
    for metric in metrics or []:
        metric = copy.deepcopy(metric)
        if isinstance(metric, dict):
            metric["fingerprint"] = metric_fingerprint(
                metric,
                exp.get("start_date"),
                stats_method(exp.get("stats_config")),
                exp.get("exposure_criteria"),
                bool(counted),
                excluded_variants_of(exp.get("parameters")),
            )
        out.append(metric)
    return out
