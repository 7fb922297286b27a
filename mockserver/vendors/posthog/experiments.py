"""Experiment create and update, step by step in PostHog's order (ExperimentService, G1).

Each public function reads the body through the serializer PostHog declares, runs PostHog's
checks in PostHog's order, and writes only once every check has passed (PostHog's atomic
transaction, made explicit). Lifecycle actions live in ``actions``, copies in ``copies``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.vendors.posthog import approvals, fingerprints, flags, inputs, metric_validation, ordering
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import invalid, not_found
from mockserver.vendors.posthog.inputs import Context
from mockserver.vendors.posthog.metric_references import check_metric_references

STATS_METHODS = ("bayesian", "frequentist")
UPDATABLE = {
    "name",
    "description",
    "start_date",
    "end_date",
    "filters",
    "parameters",
    "running_time_calculation",
    "archived",
    "deleted",
    "secondary_metrics",
    "holdout",
    "exposure_criteria",
    "metrics",
    "metrics_secondary",
    "stats_config",
    "scheduling_config",
    "conclusion",
    "conclusion_comment",
    "primary_metrics_ordered_uuids",
    "secondary_metrics_ordered_uuids",
    "saved_metrics_ids",
    "only_count_matured_users",
}
LEGACY_UPDATABLE = {"name", "description", "end_date", "deleted"}
# Validated fields stored as sent on update (the rest are handled by a named step).
STORED_AS_SENT = (
    "name",
    "description",
    "start_date",
    "end_date",
    "filters",
    "parameters",
    "archived",
    "deleted",
    "secondary_metrics",
    "exposure_criteria",
    "stats_config",
    "scheduling_config",
    "conclusion",
    "conclusion_comment",
    "only_count_matured_users",
)


# ---------------------------------------------------------------------------------------------
# Shared checks


def check_stats_config(stats: Any, variant_keys: list[str]) -> None:
    """The stats method must be known, and a baseline variant must name one of the variants."""
    if not stats or not isinstance(stats, dict):
        return
    method = stats.get("method")
    if method is not None and method not in STATS_METHODS:
        raise invalid(f"Invalid stats method: '{method}'. Must be one of: {', '.join(STATS_METHODS)}")
    baseline = stats.get("baseline_variant_key")
    if baseline is not None and variant_keys and baseline not in variant_keys:
        raise invalid(f"Invalid baseline_variant_key: '{baseline}'. Must be one of: {', '.join(sorted(variant_keys))}")


def check_variant_shapes(parameters: Any) -> None:
    """The create path re-checks only the variants' shape and split keys (not their count)."""
    problem = inputs.variant_shape_problem(inputs.sent_variants(parameters)) if parameters else None
    if problem is not None:
        raise invalid(problem)


def _link_uuids(state: dict[str, Any], team_id: int, items: list[dict[str, Any]] | None) -> dict[str, list[str]]:
    """The query uuids of the shared metrics a saved_metrics_ids list links, by side."""
    links = []
    for item in items or []:
        metric = inputs.find_saved_metric(state, team_id, item["id"])
        if metric is not None:
            links.append({"saved_metric": metric["id"], "metadata": item.get("metadata")})
    return ordering.link_uuids(links, m.saved_queries(state, links))


# ---------------------------------------------------------------------------------------------
# Create


@dataclass
class NewExperiment:
    """What PostHog's create_experiment receives (from the serializer, or from a copy)."""

    name: str
    feature_flag_key: Any
    description: Any = ""
    type: Any = "product"
    parameters: Any = None
    metrics: Any = None
    metrics_secondary: Any = None
    secondary_metrics: Any = None
    stats_config: Any = None
    exposure_criteria: Any = None
    holdout: dict[str, Any] | None = None
    saved_metrics_ids: list[dict[str, Any]] | None = None
    start_date: str | None = None
    end_date: str | None = None
    primary_metrics_ordered_uuids: Any = None
    secondary_metrics_ordered_uuids: Any = None
    filters: Any = None
    scheduling_config: Any = None
    only_count_matured_users: Any = None
    archived: Any = False
    deleted: Any = False
    conclusion: Any = None
    conclusion_comment: Any = None
    allow_unknown_events: bool = False

    @classmethod
    def from_validated(cls, data: dict[str, Any]) -> NewExperiment:
        return cls(
            name=data["name"],
            feature_flag_key=data["get_feature_flag_key"],
            description=data.get("description", ""),
            type=data.get("type", "product"),
            parameters=data.get("parameters"),
            metrics=data.get("metrics"),
            metrics_secondary=data.get("metrics_secondary"),
            secondary_metrics=data.get("secondary_metrics"),
            stats_config=data.get("stats_config"),
            exposure_criteria=data.get("exposure_criteria"),
            holdout=data.get("holdout"),
            saved_metrics_ids=data.get("saved_metrics_ids"),
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
            primary_metrics_ordered_uuids=data.get("primary_metrics_ordered_uuids") or None,
            secondary_metrics_ordered_uuids=data.get("secondary_metrics_ordered_uuids") or None,
            filters=data.get("filters"),
            scheduling_config=data.get("scheduling_config"),
            only_count_matured_users=data.get("only_count_matured_users"),
            archived=data.get("archived", False),
            deleted=data.get("deleted", False),
            conclusion=data.get("conclusion"),
            conclusion_comment=data.get("conclusion_comment"),
            allow_unknown_events=bool(data.get("allow_unknown_events", False)),
        )


@dataclass
class _FlagChoice:
    existing: dict[str, Any] | None
    key: str
    filters: dict[str, Any] | None = None

    @property
    def variants(self) -> list[dict[str, Any]]:
        if self.existing is not None:
            return flags.variants_of(self.existing) or copy.deepcopy(flags.DEFAULT_VARIANTS)
        return list((self.filters or {}).get("multivariate", {}).get("variants") or [])


def create(state, team_id: int, body: dict[str, Any], user_id: int, now: datetime) -> dict[str, Any]:
    data = inputs.EXPERIMENT.parse(body, context=Context(state, team_id))
    data.pop("update_feature_flag_params", None)
    return create_experiment(state, team_id, user_id, now, NewExperiment.from_validated(data))


def create_experiment(state, team_id: int, user_id: int, now: datetime, new: NewExperiment) -> dict[str, Any]:
    """Checks first, in PostHog's order; then the flag, the row and its links."""
    seen = {u for side in _link_uuids(state, team_id, new.saved_metrics_ids).values() for u in side}
    metrics = m.assign_metric_uuids(state, new.metrics, seen)
    metrics_secondary = m.assign_metric_uuids(state, new.metrics_secondary, seen)
    check_variant_shapes(new.parameters)
    metric_validation.check_inline_metrics(metrics, None)
    metric_validation.check_inline_metrics(metrics_secondary, None)
    check_metric_references(state, team_id, [metrics, metrics_secondary], new.allow_unknown_events)
    problem = inputs.saved_metric_ids_problem(state, team_id, new.saved_metrics_ids)
    if problem is not None:
        raise invalid(problem)
    choice = _choose_flag(state, team_id, new)
    check_stats_config(new.stats_config, flags.variant_keys(choice.variants))
    _check_link_metadata(new.saved_metrics_ids)

    stamp = iso(now)
    flag = choice.existing or _insert_flag(state, team_id, user_id, stamp, new, choice)
    exp = _insert_experiment(state, team_id, user_id, stamp, new, flag, metrics, metrics_secondary)
    _link_on_create(state, team_id, exp, new.saved_metrics_ids, stamp)
    return exp


def _choose_flag(state, team_id: int, new: NewExperiment) -> _FlagChoice:
    """Link the project's flag with this key (deleted or not), or check the one to create."""
    key = new.feature_flag_key
    existing = m.flag_by_key(state, team_id, key if isinstance(key, str) else str(key)) if key is not None else None
    if existing is not None:
        flags.check_linkable(existing)
        return _FlagChoice(existing, existing["key"])
    key = flags.check_new_key(new.feature_flag_key)
    filters = flags.new_flag_filters(new.parameters, new.holdout)
    flags.check_variant_split(filters)
    return _FlagChoice(None, key, filters)


def _check_link_metadata(items: list[dict[str, Any]] | None) -> None:
    """Each link is written through PostHog's link serializer, whose metadata may not be null."""
    for item in items or []:
        if item.get("metadata") is None:
            raise invalid("This field may not be null.", "metadata", "null")


def _insert_flag(state, team_id: int, user_id: int, stamp: str, new: NewExperiment, choice: _FlagChoice):
    continuity = (new.parameters or {}).get("ensure_experience_continuity") if new.parameters else None
    return flags.insert_flag(
        state,
        team_id,
        choice.key,
        f"Feature Flag for Experiment {new.name}",
        choice.filters or {},
        active=new.start_date is not None,
        created_at=stamp,
        created_by_id=user_id,
        continuity=bool(continuity) if continuity is not None else False,
    )


def _with_defaults(new: NewExperiment) -> tuple[dict[str, Any], dict[str, Any], bool]:
    stats = dict(new.stats_config or {})
    if not stats.get("method"):
        stats["method"] = "bayesian"
    exposure = dict(new.exposure_criteria or {})
    if exposure.get("filterTestAccounts") is None:
        exposure["filterTestAccounts"] = True
    matured = new.only_count_matured_users if new.only_count_matured_users is not None else False
    return stats, exposure, matured


def _insert_experiment(state, team_id, user_id, stamp, new: NewExperiment, flag, metrics, metrics_secondary):
    stats, exposure, matured = _with_defaults(new)
    exp = m.new_experiment_record(
        state,
        team_id=team_id,
        name=new.name,
        flag=flag,
        description=new.description,
        type=new.type,
        parameters=copy.deepcopy(new.parameters),
        metrics=metrics if metrics is not None else [],
        metrics_secondary=metrics_secondary if metrics_secondary is not None else [],
        secondary_metrics=copy.deepcopy(new.secondary_metrics) if new.secondary_metrics is not None else [],
        stats_config=stats,
        exposure_criteria=exposure,
        holdout_id=new.holdout["id"] if new.holdout else None,
        start_date=new.start_date,
        end_date=new.end_date,
        filters=copy.deepcopy(new.filters) if new.filters is not None else {},
        primary_metrics_ordered_uuids=ordering.on_create(new.primary_metrics_ordered_uuids, metrics),
        secondary_metrics_ordered_uuids=ordering.on_create(new.secondary_metrics_ordered_uuids, metrics_secondary),
        scheduling_config=copy.deepcopy(new.scheduling_config),
        only_count_matured_users=matured,
        archived=new.archived,
        deleted=new.deleted,
        conclusion=new.conclusion,
        conclusion_comment=new.conclusion_comment,
        created_by_id=user_id,
        created_at=stamp,
    )
    exp["metrics"] = fingerprints.refresh(exp["metrics"], exp)
    exp["metrics_secondary"] = fingerprints.refresh(exp["metrics_secondary"], exp)
    return exp


def _link_on_create(state, team_id: int, exp: dict[str, Any], items, stamp: str) -> None:
    for item in items or []:
        metric = inputs.find_saved_metric(state, team_id, item["id"])
        exp["saved_metrics"].append(m.new_link(state, metric["id"], copy.deepcopy(item["metadata"]), stamp))
    links = exp["saved_metrics"]
    ordering.add_links(exp, ordering.link_uuids(links, m.saved_queries(state, links)))


# ---------------------------------------------------------------------------------------------
# Update (PUT / PATCH)


@dataclass
class _Update:
    """An update being checked: the validated changes and what they will do once written."""

    exp: dict[str, Any]
    flag: dict[str, Any] | None
    changes: dict[str, Any]
    flag_params: bool
    allow_unknown_events: bool
    new_links: list[dict[str, Any]] | None = None
    new_filters: dict[str, Any] | None = None
    link_uuids_before: dict[str, list[str]] = field(default_factory=dict)

    @property
    def draft(self) -> bool:
        return self.exp.get("start_date") is None


def locate_for_update(state, team_id: int, exp_id: int, body: Any, search: str | None) -> dict[str, Any]:
    """Soft-deleted experiments are found only by an update that sends a falsy ``deleted`` (restore)."""
    exp = m.get(state, "experiments", exp_id, team_id)
    sent = body.get("deleted") if isinstance(body, dict) else None
    restoring = sent is not None and str(sent).lower() not in ("y", "yes", "t", "true", "on", "1")
    if exp.get("deleted") and not restoring:
        raise not_found()
    if search and search.lower() not in exp["name"].lower():
        raise not_found()
    return exp


def update(
    state, team_id: int, exp_id: int, body: Any, gate: approvals.Gate, search: str | None, partial: bool
) -> dict[str, Any]:
    exp = locate_for_update(state, team_id, exp_id, body, search)
    changes = inputs.EXPERIMENT.parse(body, partial=partial, context=Context(state, team_id))
    plan = _Update(
        exp,
        m.flag_of(state, exp),
        changes,
        flag_params=bool(changes.pop("update_feature_flag_params", False)),
        allow_unknown_events=bool(changes.pop("allow_unknown_events", False)),
    )
    _check_saved_links(state, team_id, plan)
    _prepare_metrics(state, team_id, plan)
    _check_payload(state, plan)
    _plan_links(state, team_id, plan)
    _plan_flag_sync(state, plan, gate)
    _check_stats(plan)
    _refresh_fingerprints(plan)
    _sync_order(state, team_id, plan)
    _write(state, plan, iso(gate.now))
    return exp


def _check_saved_links(state, team_id: int, plan: _Update) -> None:
    if "saved_metrics_ids" in plan.changes:
        problem = inputs.saved_metric_ids_problem(state, team_id, plan.changes["saved_metrics_ids"])
        if problem is not None:
            raise invalid(problem)


def _prepare_metrics(state, team_id: int, plan: _Update) -> None:
    """New inline metrics get uuids unique among everything the experiment will show, then are checked."""
    exp, changes = plan.exp, plan.changes
    seen: set[str] = set()
    if "metrics" in changes and "metrics_secondary" not in changes:
        seen |= set(ordering.uuids(exp.get("metrics_secondary")))
    if "metrics_secondary" in changes and "metrics" not in changes:
        seen |= set(ordering.uuids(exp.get("metrics")))
    if "saved_metrics_ids" in changes:
        linked = _link_uuids(state, team_id, changes["saved_metrics_ids"])
    else:
        links = exp.get("saved_metrics") or []
        linked = ordering.link_uuids(links, m.saved_queries(state, links))
    seen |= {u for side in linked.values() for u in side}
    for name in ("metrics", "metrics_secondary"):
        if name in changes:
            changes[name] = m.assign_metric_uuids(state, changes[name], seen)
            metric_validation.check_inline_metrics(changes[name], None)
            check_metric_references(state, team_id, [changes[name]], plan.allow_unknown_events)


def _check_payload(state, plan: _Update) -> None:
    """PostHog's _validate_update_payload: restore, launch, legacy formats, allowed keys, locks."""
    exp, flag, changes = plan.exp, plan.flag, plan.changes
    if exp.get("deleted") and changes.get("deleted") is False and flag is not None and flag.get("deleted"):
        raise invalid(
            "Cannot restore experiment: the linked feature flag has been deleted. "
            "Restore the feature flag first, then restore the experiment."
        )
    if plan.draft and changes.get("start_date") is not None:
        flags.check_launchable(flag)
    if m.has_legacy_metrics(state, exp):
        _check_legacy_update(exp, changes)
        return
    extra = set(changes) - UPDATABLE
    if flag is not None and changes.get("get_feature_flag_key") == flag["key"]:
        extra.discard("get_feature_flag_key")
    if extra:
        raise invalid(f"Can't update keys: {', '.join(sorted(extra))} on Experiment")
    if not plan.draft:
        _check_running_locks(exp, flag, changes)
    filters = changes.get("filters")
    if isinstance(filters, dict) and filters.get("properties"):
        raise invalid("Experiments do not support global filter properties")


def _check_legacy_update(exp: dict[str, Any], changes: dict[str, Any]) -> None:
    blocked = set(changes) - {"get_feature_flag_key"} - LEGACY_UPDATABLE
    if blocked:
        raise invalid(
            "This experiment uses legacy metric formats and can only have its name, description, or end_date "
            f"updated. Cannot update: {', '.join(sorted(blocked))}"
        )
    if "end_date" in changes:
        inputs.check_date_order({"start_date": exp.get("start_date"), "end_date": changes["end_date"]})


def _check_running_locks(exp: dict[str, Any], flag: dict[str, Any] | None, changes: dict[str, Any]) -> None:
    """Once launched, the variant keys and the holdout are fixed (splits may still change)."""
    parameters = changes.get("parameters")
    if isinstance(parameters, dict) and "feature_flag_variants" in parameters:
        sent = parameters["feature_flag_variants"] or []
        current = flags.variants_of(flag)
        if len(sent) != len(current) or any(
            sum(1 for v in current if v.get("key") == variant.get("key")) != 1 for variant in sent
        ):
            raise invalid("Can't update feature_flag_variants on Experiment")
    if "holdout" in changes and (changes["holdout"] or {}).get("id") != exp.get("holdout_id"):
        raise invalid("Can't update holdout on running Experiment")


def _plan_links(state, team_id: int, plan: _Update) -> None:
    """saved_metrics_ids replaces the links: kept ones keep id and creation time, null unlinks all."""
    existing = plan.exp.get("saved_metrics") or []
    plan.link_uuids_before = ordering.link_uuids(existing, m.saved_queries(state, existing))
    if "saved_metrics_ids" not in plan.changes:
        return
    by_metric = {link["saved_metric"]: link for link in existing}
    links = []
    for item in plan.changes["saved_metrics_ids"] or []:
        metric = inputs.find_saved_metric(state, team_id, item["id"])
        link = by_metric.get(metric["id"])
        metadata = copy.deepcopy(item.get("metadata") or {})
        links.append(dict(link, metadata=metadata) if link else {"saved_metric": metric["id"], "metadata": metadata})
    plan.new_links = links


def _plan_flag_sync(state, plan: _Update, gate: approvals.Gate) -> None:
    """Drafts (or an explicit update_feature_flag_params) carry parameters and the holdout to the flag."""
    flag, changes = plan.flag, plan.changes
    if flag is None or not (plan.draft or plan.flag_params):
        return
    holdout = changes["holdout"] if "holdout" in changes else _holdout_of(state, plan.exp)
    if changes.get("parameters"):
        plan.new_filters = flags.synced_filters(flag, changes["parameters"], holdout)
    elif "holdout" in changes:
        plan.new_filters = {**flag["filters"], "holdout": flags.holdout_block(holdout)}
    else:
        return
    flags.check_variant_split(plan.new_filters)
    before = {v.get("key"): v.get("rollout_percentage") for v in flags.variants_of(flag)}
    after = {v.get("key"): v.get("rollout_percentage") for v in plan.new_filters["multivariate"]["variants"]}
    split_changes = "multivariate" in plan.new_filters and before != after
    # The gated write is the flag's (PostHog gates FeatureFlagSerializer.update): its id is the resource.
    gate.check(["experiment.update", "feature_flag.update"] if split_changes else ["feature_flag.update"], flag["id"])


def _holdout_of(state, exp: dict[str, Any]) -> dict[str, Any] | None:
    return state["holdouts"].get(str(exp.get("holdout_id")))


def _check_stats(plan: _Update) -> None:
    """A stats change, or new variants, must leave the baseline naming a variant."""
    changes = plan.changes
    sent_variants = (changes.get("parameters") or {}).get("feature_flag_variants")
    if "stats_config" not in changes and sent_variants is None:
        return
    variants = sent_variants
    if variants is None:
        variants = (plan.exp.get("parameters") or {}).get("feature_flag_variants") or flags.variants_of(plan.flag)
    check_stats_config(changes.get("stats_config", plan.exp.get("stats_config")), flags.variant_keys(variants))


def _after(plan: _Update) -> dict[str, Any]:
    """The experiment as it will read once the changes are written (fields the steps below need)."""
    view = dict(plan.exp)
    for name in ("start_date", "stats_config", "exposure_criteria", "only_count_matured_users", "parameters"):
        if name in plan.changes:
            view[name] = plan.changes[name]
    return view


def _refresh_fingerprints(plan: _Update) -> None:
    view = _after(plan)
    for name in ("metrics", "metrics_secondary"):
        metrics = plan.changes.get(name, plan.exp.get(name))
        if metrics:
            plan.changes[name] = fingerprints.refresh(metrics, view)


def _sync_order(state, team_id: int, plan: _Update) -> None:
    exp, changes = plan.exp, plan.changes
    ordering.sync_inline(exp, changes)
    if plan.new_links is not None:
        after = ordering.link_uuids(plan.new_links, m.saved_queries(state, plan.new_links))
        ordering.sync_links(exp, changes, plan.link_uuids_before, after)
    else:
        after = plan.link_uuids_before
    order = {side: changes.get(name, exp.get(name)) for side, name in ordering.FIELDS.items()}
    expected = {
        side: ordering.uuids(changes.get(inline, exp.get(inline))) + after[side]
        for side, inline in ordering.INLINE.items()
    }
    ordering.check_complete(order, expected)


def _write(state, plan: _Update, stamp: str) -> None:
    exp, flag, changes = plan.exp, plan.flag, plan.changes
    if plan.new_links is not None:
        links = [
            link if "id" in link else m.new_link(state, link["saved_metric"], link["metadata"], stamp)
            for link in plan.new_links
        ]
        exp["saved_metrics"] = sorted(links, key=lambda link: link["id"])  # the table's order, by link id
    if plan.new_filters is not None:
        flags.write_filters(flag, plan.new_filters)
        flags.propagate_variants(state, flag, stamp, skip=exp["id"])
    if plan.draft and changes.get("start_date") is not None and flag is not None:
        flag["active"] = True
    for name in STORED_AS_SENT:
        if name in changes:
            exp[name] = copy.deepcopy(changes[name])
    for name in ("metrics", "metrics_secondary", *ordering.FIELDS.values()):
        if name in changes:
            exp[name] = changes[name]
    if "holdout" in changes:
        exp["holdout_id"] = changes["holdout"]["id"] if changes["holdout"] else None
    exp["updated_at"] = stamp
