"""duplicate and copy_to_project: a new draft made from an experiment, as PostHog's clone does.

The copy goes through the same create path as a new experiment (so a new flag key answers the
flag serializer's errors), with fresh metric uuids and the source's setup. It shares the source's
flag unless another key is given; a key that names an existing flag brings that flag's variants.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from mockserver.core.store import next_uuid
from mockserver.vendors.posthog import flags, inputs
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import detail_only, invalid
from mockserver.vendors.posthog.experiments import NewExperiment, create_experiment
from mockserver.vendors.posthog.metric_validation import check_inline_metrics

LEGACY_REFUSAL = {
    "duplicate": "Duplication is not supported for experiments using legacy metrics.",
    "copy_to_project": "Copying is not supported for experiments using legacy metrics.",
}


def duplicate(state, source: dict[str, Any], body: Any, user_id: int, now: datetime) -> dict[str, Any]:
    """The view reads feature_flag_key and name straight from the body, without a serializer."""
    if m.has_legacy_metrics(state, source):
        raise detail_only(400, LEGACY_REFUSAL["duplicate"])
    data = body if isinstance(body, dict) else {}
    return clone(state, source, source["team_id"], data.get("feature_flag_key"), data.get("name"), user_id, now)


def copy_to_project(state, source: dict[str, Any], body: Any, user_id: int, now: datetime) -> dict[str, Any]:
    if m.has_legacy_metrics(state, source):
        raise detail_only(400, LEGACY_REFUSAL["copy_to_project"])
    data = inputs.COPY_TO_PROJECT.parse(body)
    target = data["target_team_id"]
    if str(target) not in state["projects"]:
        raise detail_only(404, "Target team not found.")
    return clone(state, source, int(target), data.get("feature_flag_key"), data.get("name"), user_id, now)


def clone(
    state, source: dict[str, Any], target_team: int, key: Any, name: Any, user_id: int, now: datetime
) -> dict[str, Any]:
    cross_project = target_team != source["team_id"]
    source_flag = m.flag_of(state, source)
    if key is None:
        key = source_flag["key"] if source_flag else None
    parameters = _parameters_for(state, source, source_flag, target_team, key, cross_project)
    _check_source(source, parameters)
    primary, primary_remap = _fresh_uuids(state, source.get("metrics"))
    secondary, secondary_remap = _fresh_uuids(state, source.get("metrics_secondary"))
    new = NewExperiment(
        name=_copy_name(state, source, target_team, name),
        feature_flag_key=key,
        description=source.get("description") or "",
        type=source.get("type") or "product",
        parameters=parameters,
        filters=copy.deepcopy(source.get("filters")),
        metrics=primary,
        metrics_secondary=secondary,
        stats_config=copy.deepcopy(source.get("stats_config")),
        scheduling_config=copy.deepcopy(source.get("scheduling_config")),
        exposure_criteria=copy.deepcopy(source.get("exposure_criteria")),
        saved_metrics_ids=None if cross_project else _links_of(source),
        primary_metrics_ordered_uuids=_remap(source.get("primary_metrics_ordered_uuids"), primary_remap),
        secondary_metrics_ordered_uuids=_remap(source.get("secondary_metrics_ordered_uuids"), secondary_remap),
        only_count_matured_users=source.get("only_count_matured_users"),
        allow_unknown_events=True,  # a copy keeps the events the source used
    )
    return create_experiment(state, target_team, user_id, now, new)


def _parameters_for(state, source, source_flag, target_team: int, key: Any, cross_project: bool) -> dict[str, Any]:
    """The source's parameters; a key naming another existing flag brings that flag's variants."""
    parameters = copy.deepcopy(source.get("parameters")) or {}
    if cross_project or (source_flag is not None and key != source_flag["key"]):
        existing = m.flag_by_key(state, target_team, key if isinstance(key, str) else str(key))
        if existing is not None and flags.variants_of(existing):
            parameters["feature_flag_variants"] = copy.deepcopy(flags.variants_of(existing))
    return parameters


def _check_source(source: dict[str, Any], parameters: dict[str, Any]) -> None:
    """What PostHog re-checks on the source before copying it (messages without a field)."""
    inputs.check_parameters(parameters, attr=None)
    inputs.check_exposure(source.get("exposure_criteria"), attr=None)
    check_inline_metrics(source.get("metrics"), None)
    check_inline_metrics(source.get("metrics_secondary"), None)


def _copy_name(state, source: dict[str, Any], target_team: int, name: Any) -> str:
    if name:
        text = name if isinstance(name, str) else str(name)
        if len(text) > 400:
            raise invalid("Ensure this field has no more than 400 characters.", "name", "max_length")
        return text
    return m.unique_copy_name(state, target_team, source["name"])


def _links_of(source: dict[str, Any]) -> list[dict[str, Any]] | None:
    links = [{"id": link["saved_metric"], "metadata": link.get("metadata")} for link in source.get("saved_metrics", [])]
    return links or None


def _fresh_uuids(state, metrics: Any) -> tuple[Any, dict[str, str]]:
    """Every metric gets a new uuid, so the copy never reads the source's results."""
    if metrics is None:
        return None, {}
    fresh, remap = [], {}
    for metric in copy.deepcopy(metrics):
        new_uuid = next_uuid(state)
        if isinstance(metric, dict):
            if metric.get("uuid"):
                remap[metric["uuid"]] = new_uuid
            metric["uuid"] = new_uuid
        fresh.append(metric)
    return fresh, remap


def _remap(order: Any, remap: dict[str, str]) -> Any:
    if not order or not remap:
        return order
    return [remap.get(u, u) for u in order]
