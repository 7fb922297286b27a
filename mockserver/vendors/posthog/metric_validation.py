"""Experiment metrics checked the way PostHog checks them, with PostHog's messages.

PostHog parses each metric into its pydantic schema class (``ExperimentMeanMetric``,
``ExperimentFunnelMetric``, ``ExperimentRatioMetric``, ``ExperimentRetentionMetric``) and quotes
pydantic's error list (``loc``, ``type``, ``msg``) back to the caller. The schema below restates
those classes' fields and the parts each metric type requires; ``_Shape.errors`` reports in
pydantic's order and words (fields in declaration order, which the generated classes keep
alphabetical, then unknown keys).

Two generations speak here. Inline metrics on an experiment follow the experiment service PostHog
serves (a plain union narrowed to the chosen class, so a location starts with the class name);
shared metrics follow the newest metric validator (metric_type checked first, then a union
discriminated by metric_type, so a location starts with the metric type).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.core.problems import Problem
from mockserver.vendors.posthog.errors import invalid

LEGACY_KINDS = ("ExperimentTrendsQuery", "ExperimentFunnelsQuery")
METRIC_TYPES = ("mean", "funnel", "ratio", "retention")
CLASS_BY_TYPE = {
    "mean": "ExperimentMeanMetric",
    "funnel": "ExperimentFunnelMetric",
    "ratio": "ExperimentRatioMetric",
    "retention": "ExperimentRetentionMetric",
}
MAX_REPORTED_ERRORS = 15
EVENTS_NODE_ID_HINT = (
    "EventsNode does not accept an 'id' field. "
    "To reference an event, use {'kind': 'EventsNode', 'event': '<event_name>'} (omit 'id'). "
    "To reference an action, switch to {'kind': 'ActionsNode', 'id': <integer_action_id>} (omit 'event')."
)
FUNNEL_NEEDS_A_STEP = (
    "funnel metrics require at least one step. "
    "The experiment exposure event is added as the initial step automatically."
)

Errors = list[dict[str, Any]]
Check = Callable[[Any, tuple], Errors]


# ---------------------------------------------------------------------------------------------
# Value checks in pydantic's words (lax mode: what model_validate accepts from parsed JSON)


def _error(loc: tuple, type_: str, msg: str) -> Errors:
    return [{"loc": loc, "type": type_, "msg": msg}]


def _string(value: Any, loc: tuple) -> Errors:
    return [] if isinstance(value, str) else _error(loc, "string_type", "Input should be a valid string")


def _integer(value: Any, loc: tuple) -> Errors:
    if isinstance(value, bool | int):
        return []
    if isinstance(value, float):
        if value.is_integer():
            return []
        return _error(loc, "int_from_float", "Input should be a valid integer, got a number with a fractional part")
    if isinstance(value, str):
        try:
            int(value.strip())
            return []
        except ValueError:
            return _error(loc, "int_parsing", "Input should be a valid integer, unable to parse string as an integer")
    return _error(loc, "int_type", "Input should be a valid integer")


def _number(value: Any, loc: tuple) -> Errors:
    if isinstance(value, bool | int | float):
        return []
    if isinstance(value, str):
        try:
            float(value.strip())
            return []
        except ValueError:
            return _error(loc, "float_parsing", "Input should be a valid number, unable to parse string as a number")
    return _error(loc, "float_type", "Input should be a valid number")


_BOOL_WORDS = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}


def _boolean(value: Any, loc: tuple) -> Errors:
    if isinstance(value, bool) or (isinstance(value, int | float) and value in (0, 1)):
        return []
    if isinstance(value, str):
        if value.lower() in _BOOL_WORDS:
            return []
        return _error(loc, "bool_parsing", "Input should be a valid boolean, unable to interpret input")
    return _error(loc, "bool_type", "Input should be a valid boolean")


def _mapping(value: Any, loc: tuple) -> Errors:
    return [] if isinstance(value, dict) else _error(loc, "dict_type", "Input should be a valid dictionary")


def _array(value: Any, loc: tuple) -> Errors:
    return [] if isinstance(value, list) else _error(loc, "list_type", "Input should be a valid list")


def _choice(*options: str) -> Check:
    quoted = [f"'{o}'" for o in options]
    wording = ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]

    def check(value: Any, loc: tuple) -> Errors:
        return [] if value in options else _error(loc, "enum", f"Input should be {wording}")

    return check


def _anything(value: Any, loc: tuple) -> Errors:
    return []


class _Shape:
    """A pydantic model with extra="forbid": typed fields, required fields, a literal kind."""

    def __init__(
        self,
        name: str,
        fields: dict[str, Check],
        required: tuple[str, ...] = (),
        literals: dict[str, str] | None = None,
    ):
        self.name = name
        self.fields = fields
        self.required = required
        self.literals = literals or {}

    def errors(self, value: Any, loc: tuple) -> Errors:
        if not isinstance(value, dict):
            return _error(loc, "model_type", f"Input should be a valid dictionary or instance of {self.name}")
        out: Errors = []
        for field in sorted({*self.fields, *self.literals}):
            here = (*loc, field)
            if field not in value:
                if field in self.required:
                    out += _error(here, "missing", "Field required")
                continue
            item = value[field]
            if field in self.literals:
                if item != self.literals[field]:
                    out += _error(here, "literal_error", f"Input should be '{self.literals[field]}'")
                continue
            if item is None and field not in self.required:
                continue
            out += self.fields[field](item, here)
        for extra in value:
            if extra not in self.fields and extra not in self.literals:
                out += _error((*loc, extra), "extra_forbidden", "Extra inputs are not permitted")
        return out


def _union(*members: _Shape) -> Check:
    """pydantic's smart-mode union: valid if any member is; otherwise every member's errors."""

    def check(value: Any, loc: tuple) -> Errors:
        collected: Errors = []
        for member in members:
            found = member.errors(value, (*loc, member.name))
            if not found:
                return []
            collected += found
        return collected

    return check


def _list_of(item_check: Check) -> Check:
    def check(value: Any, loc: tuple) -> Errors:
        if not isinstance(value, list):
            return _error(loc, "list_type", "Input should be a valid list")
        out: Errors = []
        for index, item in enumerate(value):
            out += item_check(item, (*loc, index))
        return out

    return check


_ENTITY = {
    "custom_name": _string,
    "fixedProperties": _array,
    "math": _anything,
    "math_group_type_index": _anything,
    "math_hogql": _string,
    "math_multiplier": _number,
    "math_property": _string,
    "math_property_revenue_currency": _anything,
    "math_property_type": _string,
    "name": _string,
    "optionalInFunnel": _boolean,
    "properties": _array,
    "response": _mapping,
    "version": _number,
}
EVENTS_NODE = _Shape(
    "EventsNode",
    {**_ENTITY, "event": _string, "limit": _integer, "orderBy": _array},
    literals={"kind": "EventsNode"},
)
ACTIONS_NODE = _Shape("ActionsNode", {**_ENTITY, "id": _integer}, required=("id",), literals={"kind": "ActionsNode"})
WAREHOUSE_NODE = _Shape(
    "ExperimentDataWarehouseNode",
    {
        **_ENTITY,
        "data_warehouse_join_key": _string,
        "events_join_key": _string,
        "table_name": _string,
        "timestamp_field": _string,
    },
    required=("data_warehouse_join_key", "events_join_key", "table_name", "timestamp_field"),
    literals={"kind": "ExperimentDataWarehouseNode"},
)
_SOURCE = _union(EVENTS_NODE, ACTIONS_NODE, WAREHOUSE_NODE)
_STEP = _union(EVENTS_NODE, ACTIONS_NODE)
_WINDOW_UNIT = _choice("second", "minute", "hour", "day", "week", "month")
_BASE = {
    "breakdownFilter": _mapping,
    "conversion_window": _integer,
    "conversion_window_unit": _WINDOW_UNIT,
    "fingerprint": _string,
    "goal": _choice("increase", "decrease"),
    "isSharedMetric": _boolean,
    "name": _string,
    "response": _mapping,
    "sharedMetricId": _number,
    "uuid": _string,
    "version": _number,
}
_OUTLIERS = {"ignore_zeros": _boolean, "lower_bound_percentile": _number, "upper_bound_percentile": _number}
METRIC_SHAPES = {
    "mean": _Shape(
        "ExperimentMeanMetric",
        {**_BASE, **_OUTLIERS, "source": _SOURCE, "threshold": _number},
        required=("source",),
        literals={"kind": "ExperimentMetric", "metric_type": "mean"},
    ),
    "funnel": _Shape(
        "ExperimentFunnelMetric",
        {**_BASE, "funnel_order_type": _choice("strict", "unordered", "ordered"), "series": _list_of(_STEP)},
        required=("series",),
        literals={"kind": "ExperimentMetric", "metric_type": "funnel"},
    ),
    "ratio": _Shape(
        "ExperimentRatioMetric",
        {
            **_BASE,
            "denominator": _SOURCE,
            "denominator_outlier_handling": _mapping,
            "numerator": _SOURCE,
            "numerator_outlier_handling": _mapping,
        },
        required=("numerator", "denominator"),
        literals={"kind": "ExperimentMetric", "metric_type": "ratio"},
    ),
    "retention": _Shape(
        "ExperimentRetentionMetric",
        {
            **_BASE,
            "completion_event": _SOURCE,
            "retention_window_end": _integer,
            "retention_window_start": _integer,
            "retention_window_unit": _WINDOW_UNIT,
            "start_event": _SOURCE,
            "start_handling": _choice("first_seen", "last_seen"),
        },
        required=(
            "completion_event",
            "retention_window_end",
            "retention_window_start",
            "retention_window_unit",
            "start_event",
            "start_handling",
        ),
        literals={"kind": "ExperimentMetric", "metric_type": "retention"},
    ),
}


EXPOSURE_EVENT = _Shape(
    "ExperimentEventExposureConfig",
    {"event": _string, "properties": _array, "response": _mapping, "version": _number},
    required=("event", "properties"),
    literals={"kind": "ExperimentEventExposureConfig"},
)


def exposure_config_errors(kind: str, config: dict[str, Any]) -> Errors:
    """pydantic's errors for an exposure config of this kind (an event config or an ActionsNode)."""
    return (ACTIONS_NODE if kind == "ActionsNode" else EXPOSURE_EVENT).errors(config, ())


# ---------------------------------------------------------------------------------------------
# Messages


def _quote(errors: Errors) -> str:
    """PostHog's rendering of pydantic's errors: at most 15, then the id hint where it applies."""
    hint = next(
        (
            EVENTS_NODE_ID_HINT
            for e in errors
            if e["type"] == "extra_forbidden"
            and len(e["loc"]) >= 2
            and e["loc"][-1] == "id"
            and "EventsNode" in e["loc"]
        ),
        "",
    )
    shown: list[dict[str, Any]] = list(errors)
    if len(shown) > MAX_REPORTED_ERRORS:
        shown = [*shown[:MAX_REPORTED_ERRORS], {"truncated": f"...{len(errors) - MAX_REPORTED_ERRORS} more"}]
    return f"{shown}." + (f" {hint}" if hint else "")


def _union_errors(metric: dict[str, Any]) -> Errors:
    """Every metric class's errors, each located under its class name (a plain union)."""
    out: Errors = []
    for shape in METRIC_SHAPES.values():
        found = shape.errors(metric, (shape.name,))
        if not found:
            return []
        out += found
    return out


def inline_metric_problem(index: int, metric: Any) -> str | None:
    """What PostHog's experiment service says about one inline metric, without its prefix; None if valid."""
    if not isinstance(metric, dict):
        return "must be a dict"
    kind = metric.get("kind")
    if kind in LEGACY_KINDS:
        return (
            f"legacy metric kind '{kind}' is no longer supported for new experiments. Use 'ExperimentMetric' instead."
        )
    if kind != "ExperimentMetric":
        return "metric kind must be 'ExperimentMetric'"
    errors = _union_errors(metric)
    if errors:
        chosen = CLASS_BY_TYPE.get(metric.get("metric_type")) if isinstance(metric.get("metric_type"), str) else None
        narrowed = [e for e in errors if chosen and e["loc"][0] == chosen]
        return _quote(narrowed or errors)
    if metric.get("metric_type") == "funnel" and not metric.get("series"):
        return FUNNEL_NEEDS_A_STEP
    return None


def check_inline_metrics(metrics: Any, attr: str | None) -> None:
    """The experiment service's metric check: a list of valid ExperimentMetric objects (or null)."""
    if metrics is None:
        return
    if not isinstance(metrics, list):
        raise invalid("Metrics must be a list", attr)
    for index, metric in enumerate(metrics):
        problem = inline_metric_problem(index, metric)
        if problem is not None:
            raise invalid(f"Invalid metric at index {index}: {problem}", attr)


def saved_metric_problem(query: Any) -> str | None:
    """What PostHog's newest metric validator says about a shared metric's query (after its prefix)."""
    if not isinstance(query, dict):
        return "must be a dict"
    kind = query.get("kind")
    if isinstance(kind, str) and kind in LEGACY_KINDS:
        return f"legacy metric kind '{kind}' is no longer supported. Use 'ExperimentMetric' instead."
    if kind != "ExperimentMetric":
        return "metric kind must be 'ExperimentMetric'"
    metric_type = query.get("metric_type")
    if metric_type is None:
        return "ExperimentMetric requires a metric_type"
    if not isinstance(metric_type, str) or metric_type not in METRIC_TYPES:
        return "ExperimentMetric metric_type must be 'mean', 'funnel', 'ratio', or 'retention'"
    errors = METRIC_SHAPES[metric_type].errors(query, (metric_type,))
    if errors:
        return _quote(errors)
    return _semantic_problem(query)


def _semantic_problem(query: dict[str, Any]) -> str | None:
    """Rules the schema cannot express (newest validator)."""
    metric_type = query["metric_type"]
    if metric_type == "funnel" and not query.get("series"):
        return FUNNEL_NEEDS_A_STEP
    if metric_type == "mean" and query.get("threshold") is not None:
        math = (query.get("source") or {}).get("math")
        if math not in (None, "total", "sum"):
            return "a threshold is only supported for sum or count (total) math types."
        if float(query["threshold"]) <= 0:
            return "threshold must be a positive number."
        if query.get("lower_bound_percentile") is not None or query.get("upper_bound_percentile") is not None:
            return "a threshold cannot be combined with outlier handling (winsorization)."
    return None


def check_saved_query(query: Any) -> None:
    """A shared metric's query: required, then valid as an ExperimentMetric."""
    if not query:
        raise invalid("Query is required to create a saved metric")
    problem = saved_metric_problem(query)
    if problem is not None:
        raise invalid(f"Invalid metric: {problem}")


def is_legacy(metric: Any) -> bool:
    return isinstance(metric, dict) and metric.get("kind") in LEGACY_KINDS


def raises(check: Callable[[], None]) -> Problem | None:
    """The Problem a check raises, or None."""
    try:
        check()
    except Problem as problem:
        return problem
    return None
