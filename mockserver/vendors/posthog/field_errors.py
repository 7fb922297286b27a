"""Schema failures reworded as PostHog words them, for the fields its serializers check by hand.

The contract check runs before any handler and finds these failures first. PostHog answers them
with field-specific messages (see the API notes, create and end), which clients match on, so
the generic schema message is swapped for PostHog's where one exists.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.problems import Problem
from mockserver.vendors.posthog import models
from mockserver.vendors.posthog.errors import error_only, invalid

LEGACY_METRIC_KINDS = ("ExperimentTrendsQuery", "ExperimentFunnelsQuery")
EXPOSURE_KINDS = ["ExperimentEventExposureConfig", "ActionsNode"]
CHOICE_FIELDS = ("conclusion", "type")
PAGED_FLAG_LIST = "experiments_eligible_feature_flags_retrieve"


def explain(operation_id: str, problem: Problem, body: Any) -> Problem | None:
    """PostHog's answer to a request the contract rejected, or None to keep the generic one."""
    location = problem.extra.get("location")
    if operation_id == PAGED_FLAG_LIST and location == "query" and problem.attr in ("limit", "offset"):
        return error_only(400, "Invalid limit or offset")
    path = problem.extra.get("path") or []
    if location != "body" or not path or not isinstance(body, dict) or path[0] not in body:
        return None
    field, value = path[0], body[path[0]]
    if field in CHOICE_FIELDS and value is not None and len(path) == 1 and not isinstance(value, dict | list):
        shown = value if isinstance(value, str) else _python(value)
        return invalid(f'"{shown}" is not a valid choice.', field, "invalid_choice")
    if field in ("metrics", "metrics_secondary"):
        return _metric(field, value, path, problem)
    if field == "parameters":
        variants = value.get("feature_flag_variants") if isinstance(value, dict) else None
        return _raised(models.normalise_variants, value) if isinstance(variants, list) else None
    if field == "exposure_criteria":
        return _exposure(value)
    if field == "saved_metrics_ids":
        return _raised(models.check_saved_metric_links, value)
    return None


def _raised(check: Any, value: Any) -> Problem | None:
    """The handler's own check of the field, run early: its error is the answer PostHog gives."""
    try:
        check(value)
    except Problem as problem:
        return problem
    return None


def _python(value: Any) -> str:
    """How Python's str() shows a JSON scalar, as PostHog's messages do."""
    return {True: "True", False: "False"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def _type_name(value: Any) -> str:
    return {dict: "dict", list: "list", str: "str", bool: "bool", int: "int", float: "float"}.get(
        type(value), "NoneType"
    )


def _metric(field: str, value: Any, path: list[Any], problem: Problem) -> Problem | None:
    if value is None:
        return None  # "This field may not be null." stays
    if not isinstance(value, list):
        return invalid("Metrics must be a list", field, "invalid")
    if len(path) < 2 or not isinstance(path[1], int) or path[1] >= len(value):
        return None
    index, metric = path[1], value[path[1]]
    prefix = f"Invalid metric at index {index}:"
    if not isinstance(metric, dict):
        return invalid(f"{prefix} must be a dict", field, "invalid")
    kind = metric.get("kind")
    if kind in LEGACY_METRIC_KINDS:
        return invalid(
            f"{prefix} legacy metric kind '{kind}' is no longer supported for new experiments. "
            "Use 'ExperimentMetric' instead.",
            field,
            "invalid",
        )
    if kind != "ExperimentMetric":
        return invalid(f"{prefix} metric kind must be 'ExperimentMetric'", field, "invalid")
    loc = tuple(path[2:])
    return invalid(f"{prefix} [{{'loc': {loc!r}, 'msg': {problem.detail!r}}}]", field, "invalid")


def _exposure(value: Any) -> Problem | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return invalid(f"exposure_criteria must be an object, got {_type_name(value)}", "exposure_criteria", "invalid")
    tests = value.get("filterTestAccounts")
    if "filterTestAccounts" in value and tests is not None and not isinstance(tests, bool):
        return invalid(
            f"exposure_criteria.filterTestAccounts must be a boolean, got {_type_name(tests)}",
            "exposure_criteria",
            "invalid",
        )
    config = value.get("exposure_config")
    if isinstance(config, dict) and config.get("kind") not in EXPOSURE_KINDS:
        return invalid(
            f"exposure_criteria.exposure_config.kind must be one of {EXPOSURE_KINDS}, got {config.get('kind')!r}",
            "exposure_criteria",
            "invalid",
        )
    return None
