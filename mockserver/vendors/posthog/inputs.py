"""The request serializers PostHog declares, field by field and in PostHog's order.

Each ``Serializer`` lists the writable fields of one PostHog serializer (G1 experiment, end,
ship-variant and copy serializers; holdout and shared-metric serializers) with the field's DRF
kind, and the ``validate_<field>`` hooks PostHog runs on them. Read-only fields and undeclared
keys are not listed, so they are dropped as DRF drops them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from mockserver.core.clock import parse_instant
from mockserver.core.problems import Problem
from mockserver.vendors.posthog import metric_validation
from mockserver.vendors.posthog.drf import (
    BooleanField,
    CharField,
    ChoiceField,
    DateTimeField,
    FieldError,
    IntegerField,
    JSONField,
    ListField,
    PrimaryKeyField,
    Serializer,
    pk_value,
    type_name,
)
from mockserver.vendors.posthog.errors import invalid

CONCLUSIONS = ("won", "lost", "inconclusive", "stopped_early", "invalid")
EXPOSURE_KINDS = ("ExperimentEventExposureConfig", "ActionsNode")
EXPOSURE_HINT = (
    "Expected either an event-based config like "
    "{'kind': 'ExperimentEventExposureConfig', 'event': '<event_name>', 'properties': []} "
    "or an action-based config like {'kind': 'ActionsNode', 'id': <action_id>}."
)
MAX_QUOTED = 80


@dataclass(frozen=True)
class Context:
    """What a validate hook may look at: the vendor state and the project of the request."""

    state: dict[str, Any]
    team_id: int


# ---------------------------------------------------------------------------------------------
# validate_<field> hooks of the experiment serializer


def _safe_repr(value: Any) -> str:
    text = repr(value)
    return text[:MAX_QUOTED] + "...(truncated)" if len(text) > MAX_QUOTED else text


def normalise_parameters(value: Any) -> Any:
    """ExperimentParametersField: a stray-cased 'Control' becomes 'control'; split_percent wins."""
    if not isinstance(value, dict) or not isinstance(value.get("feature_flag_variants"), list):
        return value
    value = copy.deepcopy(value)
    variants = value["feature_flag_variants"]
    if "control" not in {v.get("key") for v in variants if isinstance(v, dict)}:
        for variant in variants:
            key = variant.get("key") if isinstance(variant, dict) else None
            if isinstance(key, str) and key.lower() == "control":
                variant["key"] = "control"
                break
    for variant in variants:
        if isinstance(variant, dict) and "split_percent" in variant:
            variant["rollout_percentage"] = variant.pop("split_percent")
    return value


def variant_shape_problem(variants: list[Any]) -> str | None:
    """Each variant an object with a key, and a split (split_percent or the older rollout_percentage)."""
    for index, variant in enumerate(variants):
        if not isinstance(variant, dict):
            return f"Feature flag variant at index {index} must be an object"
        if "key" not in variant:
            return f"Feature flag variant at index {index} must have a 'key' field"
    for variant in variants:
        if "split_percent" not in variant and "rollout_percentage" not in variant:
            return "Each variant must include split_percent (recommended) or rollout_percentage (deprecated)."
    return None


def sent_variants(parameters: Any) -> list[Any]:
    """parameters.feature_flag_variants as PostHog walks it (a string or an object walks its characters or keys)."""
    variants = parameters.get("feature_flag_variants", []) if isinstance(parameters, dict) else []
    if isinstance(variants, list):
        return variants
    return list(variants) if isinstance(variants, str | dict) else []


def parameters_problem(parameters: Any) -> str | None:
    """ExperimentService.validate_experiment_parameters, as a message (None when the parameters hold)."""
    if not parameters or not isinstance(parameters, dict):
        return None
    variants = sent_variants(parameters)
    problem = variant_shape_problem(variants)
    if problem is not None:
        return problem
    if len(variants) >= 21:
        return "Feature flag variants must be less than 21"
    if variants:
        if len(variants) < 2:
            return "Feature flag must have at least 2 variants (control and at least one test variant)"
        keys = [variant["key"] for variant in variants]
        if "control" not in keys:
            return (
                "Feature flag variants must contain a variant with key 'control' "
                f"(lowercase, exactly). Got keys: {keys}. Rename the baseline variant's 'key' to 'control'."
            )
    return _excluded_variants_problem(parameters, variants)


def _excluded_variants_problem(parameters: dict[str, Any], variants: list[dict[str, Any]]) -> str | None:
    excluded = parameters.get("excluded_variants")
    if excluded is None:
        return None
    if not isinstance(excluded, list) or not all(isinstance(v, str) for v in excluded):
        return "excluded_variants must be a list of strings"
    if not excluded:
        return None
    if not variants:
        return (
            "excluded_variants requires feature_flag_variants in the same request — "
            "parameters are replaced as a whole on update, so send the full parameters object"
        )
    keys = {v["key"] for v in variants}
    stats = parameters.get("stats_config")
    baseline = stats.get("baseline_variant_key", "control") if isinstance(stats, dict) else "control"
    holdouts = {k for k in excluded if k.startswith("holdout-")}
    if holdouts:
        return f"cannot exclude holdout pseudo-variants: {sorted(holdouts)}"
    if baseline in excluded:
        return f"baseline variant cannot be excluded ('{baseline}')"
    unknown = set(excluded) - keys
    if unknown:
        return f"unknown variants for this experiment: {sorted(unknown)}"
    if not keys - set(excluded) - {baseline}:
        return "at least one test variant must remain in analysis"
    return None


@dataclass
class ParametersField(JSONField):
    """ExperimentParametersField: normalised as it is read, before the validate hook runs."""

    def read(self, value: Any) -> Any:
        return normalise_parameters(value)


def check_parameters(value: Any, context: Context | None = None, attr: str | None = "parameters") -> Any:
    problem = parameters_problem(value)
    if problem is not None:
        raise invalid(problem, attr)
    return value


def exposure_problem(criteria: Any) -> str | None:
    """ExperimentService.validate_experiment_exposure_criteria, as a message."""
    if criteria is None:
        return None
    if not isinstance(criteria, dict):
        return (
            f"exposure_criteria must be an object, got {type_name(criteria)}. "
            "Expected shape: {'filterTestAccounts': <bool>, 'exposure_config': <object>}."
        )
    if "filterTestAccounts" in criteria and not isinstance(criteria["filterTestAccounts"], bool):
        value = criteria["filterTestAccounts"]
        return f"exposure_criteria.filterTestAccounts must be a boolean, got {type_name(value)}: {_safe_repr(value)}."
    if "exposure_config" not in criteria:
        return None
    config = criteria["exposure_config"]
    if not isinstance(config, dict):
        return f"exposure_criteria.exposure_config must be an object, got {type_name(config)}. {EXPOSURE_HINT}"
    kind = config.get("kind", "ExperimentEventExposureConfig")
    if kind not in EXPOSURE_KINDS:
        return (
            f"exposure_criteria.exposure_config.kind must be one of {list(EXPOSURE_KINDS)}, "
            f"got {_safe_repr(kind)}. {EXPOSURE_HINT}"
        )
    errors = metric_validation.exposure_config_errors(kind, config)
    if errors:
        return f"Invalid exposure_criteria.exposure_config (kind={_safe_repr(kind)}): {errors}. {EXPOSURE_HINT}"
    return None


def check_exposure(value: Any, context: Context | None = None, attr: str | None = "exposure_criteria") -> Any:
    problem = exposure_problem(value)
    if problem is not None:
        raise invalid(problem, attr)
    return value


def check_metrics(attr: str):
    def check(value: Any, context: Context | None = None) -> Any:
        metric_validation.check_inline_metrics(value, attr)
        return value

    return check


def saved_links_problem(items: Any) -> str | None:
    """The shape of saved_metrics_ids, checked before any id is looked up."""
    if items is None:
        return None
    if not isinstance(items, list):
        return "Saved metrics must be a list"
    for item in items:
        if not isinstance(item, dict):
            return "Saved metric must be an object"
        if "id" not in item:
            return "Saved metric must have an id"
        if "metadata" in item and not isinstance(item["metadata"], dict):
            return "Metadata must be an object"
        if "metadata" in item and "type" not in item["metadata"]:
            return "Metadata must have a type key"
    return None


def saved_metric_ids_problem(state: dict[str, Any], team_id: int, items: Any) -> str | None:
    """ExperimentService.validate_saved_metrics_ids: the shape, then every id names a metric of the project."""
    problem = saved_links_problem(items)
    if problem is not None or items is None:
        return problem
    found = set()
    for item in items:
        metric = find_saved_metric(state, team_id, item["id"])
        if metric is not None:
            found.add(metric["id"])
    if len(found) != len(items):
        return "Saved metric does not exist or does not belong to this project"
    return None


def find_saved_metric(state: dict[str, Any], team_id: int, raw_id: Any) -> dict[str, Any] | None:
    try:
        metric_id = pk_value(raw_id)
    except FieldError:
        return None
    metric = state["saved_metrics"].get(str(metric_id))
    return metric if metric is not None and metric["team_id"] == team_id else None


def check_saved_metric_ids(value: Any, context: Context | None, attr: str | None = "saved_metrics_ids") -> Any:
    if context is None:  # no state at hand: the shape alone
        problem = saved_links_problem(value)
    else:
        problem = saved_metric_ids_problem(context.state, context.team_id, value)
    if problem is not None:
        raise invalid(problem, attr)
    return value


def check_holdout(value: Any, context: Context | None) -> Any:
    """A holdout of this project (TeamScopedPrimaryKeyRelatedField), or DRF's does-not-exist."""
    if value is None or context is None:
        return value
    holdout = context.state["holdouts"].get(str(pk_value(value)))
    if holdout is None or holdout["team_id"] != context.team_id:
        raise invalid(f'Invalid pk "{value}" - object does not exist.', "holdout_id", "does_not_exist")
    return holdout


def check_holdout_filters(value: Any, context: Context | None = None) -> Any:
    """The holdout serializer's validate_filters: each group needs a rollout percentage from 0 to 100."""
    for item in value or []:
        pct = item.get("rollout_percentage") if isinstance(item, dict) else None
        if pct is None:
            raise invalid("Rollout percentage must be present.", "filters")
        # PostHog compares whatever was sent (a string or an object there is a TypeError, a 500):
        # here anything that is not a number in range gets the range message.
        if not isinstance(pct, int | float) or pct < 0 or pct > 100:
            raise invalid("Rollout percentage must be between 0 and 100.", "filters")
    return value


def check_date_order(data: dict[str, Any]) -> None:
    """The serializer's validate(): only the dates sent in the same request are compared."""
    start, end = data.get("start_date"), data.get("end_date")
    if start and end and parse_instant(start) >= parse_instant(end):
        raise invalid("End date must be after start date")


# ---------------------------------------------------------------------------------------------
# Serializers


EXPERIMENT = Serializer(
    {
        "name": CharField(required=True, max_length=400),
        "description": CharField(max_length=3000, allow_null=True, allow_blank=True),
        "start_date": DateTimeField(allow_null=True),
        "end_date": DateTimeField(allow_null=True),
        "feature_flag_key": CharField(required=True, source="get_feature_flag_key"),
        "holdout_id": PrimaryKeyField(allow_null=True, source="holdout", check=check_holdout),
        "parameters": ParametersField(allow_null=True, check=check_parameters),
        "secondary_metrics": JSONField(allow_null=True),
        "saved_metrics_ids": ListField(allow_null=True, check=check_saved_metric_ids),
        "filters": JSONField(),
        "archived": BooleanField(default=False),
        "deleted": BooleanField(allow_null=True),
        "type": ChoiceField(choices=("web", "product"), allow_null=True),
        "exposure_criteria": JSONField(allow_null=True, check=check_exposure),
        "metrics": JSONField(allow_null=True, check=check_metrics("metrics")),
        "metrics_secondary": JSONField(allow_null=True, check=check_metrics("metrics_secondary")),
        "stats_config": JSONField(allow_null=True),
        "scheduling_config": JSONField(allow_null=True),
        "allow_unknown_events": BooleanField(default=False),
        "_create_in_folder": CharField(allow_blank=True),
        "conclusion": ChoiceField(choices=CONCLUSIONS, allow_null=True),
        "conclusion_comment": CharField(allow_null=True, allow_blank=True),
        "primary_metrics_ordered_uuids": JSONField(allow_null=True),
        "secondary_metrics_ordered_uuids": JSONField(allow_null=True),
        "only_count_matured_users": BooleanField(),
        "update_feature_flag_params": BooleanField(default=False),
    },
    cross_checks=(check_date_order,),
)
END = Serializer(
    {
        "conclusion": ChoiceField(choices=CONCLUSIONS, allow_null=True),
        "conclusion_comment": CharField(allow_null=True, allow_blank=True),
    }
)
SHIP_VARIANT = Serializer({**END.fields, "variant_key": CharField(required=True)})
COPY_TO_PROJECT = Serializer(
    {
        "target_team_id": IntegerField(required=True),
        "feature_flag_key": CharField(allow_blank=True),
        "name": CharField(allow_blank=True),
    }
)
HOLDOUT = Serializer(
    {
        "name": CharField(required=True, max_length=400),
        "description": CharField(max_length=400, allow_null=True, allow_blank=True),
        "filters": JSONField(check=check_holdout_filters),
    }
)
SAVED_METRIC = Serializer(
    {
        "name": CharField(required=True, max_length=400),
        "description": CharField(max_length=400, allow_null=True, allow_blank=True),
        "query": JSONField(required=True),
        "tags": ListField(),
    }
)
# Which serializer reads the body of which operation (for wording schema failures the DRF way).
BY_OPERATION = {
    "experiments_create": EXPERIMENT,
    "experiments_update": EXPERIMENT,
    "experiments_partial_update": EXPERIMENT,
    "experiments_end_create": END,
    "experiments_ship_variant_create": SHIP_VARIANT,
    "experiments_copy_to_project_create": COPY_TO_PROJECT,
    "experiment_holdouts_create": HOLDOUT,
    "experiment_holdouts_update": HOLDOUT,
    "experiment_holdouts_partial_update": HOLDOUT,
    "experiment_saved_metrics_create": SAVED_METRIC,
    "experiment_saved_metrics_update": SAVED_METRIC,
    "experiment_saved_metrics_partial_update": SAVED_METRIC,
}


def stateless_problem(operation_id: str, body: Any) -> Problem | None:
    """The first failure PostHog's serializer finds in ``body`` without looking at the state, if any.

    Used to word a request the contract refused the way PostHog words it (field order included).
    """
    serializer = BY_OPERATION.get(operation_id)
    if serializer is None or not isinstance(body, dict):
        return None
    try:
        serializer.parse(body, partial=operation_id.endswith("partial_update"), context=None)
    except Problem as problem:
        return problem
    return None
