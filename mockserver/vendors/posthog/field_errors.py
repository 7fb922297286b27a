"""Requests the contract refused, answered in PostHog's words where PostHog has its own.

The contract check runs before any handler. Where the refused part of a body is a field PostHog's
serializer reads, the answer is the serializer's (DRF's message and code, the first failing field
in PostHog's order); a few query parameters have view-level messages. Anything else keeps the
contract's generic answer.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.problems import Problem
from mockserver.vendors.posthog import inputs
from mockserver.vendors.posthog.errors import error_only, invalid

PAGED_FLAG_LIST = "experiments_eligible_feature_flags_retrieve"
TIMESERIES = "experiments_timeseries_results_retrieve"


def explain(operation_id: str, problem: Problem, body: Any) -> Problem | None:
    """PostHog's answer to a request the contract rejected, or None to keep the generic one."""
    location = problem.extra.get("location")
    if location == "query":
        if operation_id == PAGED_FLAG_LIST and problem.attr in ("limit", "offset"):
            return error_only(400, "Invalid limit or offset")
        if operation_id == TIMESERIES and problem.attr in ("metric_uuid", "fingerprint"):
            return invalid(f"{problem.attr} query parameter is required")
        return None
    if location != "body":
        return None
    try:
        return inputs.stateless_problem(operation_id, body)
    except (TypeError, AttributeError, KeyError, ValueError):
        # A body the contract refused can hold types no serializer check expects; PostHog would
        # answer a 500 there, and the contract's own 400 says what is wrong.
        return None
