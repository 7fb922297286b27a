"""Every LaunchDarkly record of a candidate state, rendered as the API would serve it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from mockserver.core.verify import Check
from mockserver.vendors.launchdarkly import (
    context_kinds,
    experiments,
    flag_listing,
    flag_status,
    holdouts,
    layers,
    legacy_experiments,
    members,
    metric_groups,
    metrics,
    projects,
    serializers,
    settings,
)
from mockserver.vendors.launchdarkly import models as m


def checks(state: dict[str, Any]) -> Iterator[Check]:
    everything = list(experiments.EXPANDS_ONE)
    for key, row in state["experiments"].items():
        yield f"experiments.{key}", "getExperiment", partial(experiments.rep, state, row, everything)
        yield f"experiments.{key}", None, partial(_iterations, row)
    running: dict[str, flag_status.Running] = {}  # per project, computed once for all its flags
    for key, row in state["flags"].items():
        yield f"flags.{key}", "getFeatureFlag", partial(serializers.flag, state, row, None, expand=serializers.EXPANDS)
        yield f"flags.{key}", "getFeatureFlags", partial(_flag_listed, state, row)
        yield f"flags.{key}", "getFeatureFlagStatusAcrossEnvironments", partial(_flag_status, state, row, running)
        yield f"flags.{key}.environments", None, partial(_every_environment, state, row)
        if "experiments" in row:  # legacy results read its baseline variation
            yield f"flags.{key}.experiments", None, partial(legacy_experiments.check, state, row["projectKey"], row)
    for key in state["projects"]:
        yield f"settings.{key}", "getExperimentationSettings", partial(settings.rep, state, key)
        yield f"projects.{key}", "getExperimentationSettings", partial(_listed, state, key)
        yield f"projects.{key}", "getExperimentationSettings", partial(_flags_listed, state, key)
        yield f"projects.{key}", "getProject", partial(projects.project_rep, state, key, ["environments"])
        yield f"context_kinds.{key}", "getContextKindsByProjectKey", partial(context_kinds.collection, state, key)
    yield from _workflow(state)


def _iterations(exp: dict[str, Any]) -> None:
    """The iterations an experiment names exist, and each treatment's flags are its iteration's
    (stopping an iteration reads the rule of every treatment's flag)."""
    its = exp.get("iterations")
    if not isinstance(its, list) or not all(isinstance(it, dict) for it in its):
        raise ValueError("iterations must be a list of iterations")
    ids = {it.get("_id") for it in its}
    for name in ("currentIterationId", "draftIterationId"):
        if exp.get(name) is not None and exp[name] not in ids:
            raise ValueError(f"{name} {exp[name]!r} names no iteration of the experiment")
    for it in its:
        flags = it.get("flags", {})
        for treatment in it.get("treatments", []):
            for parameter in treatment.get("parameters", []):
                if parameter.get("flagKey") not in flags:
                    raise ValueError(
                        f"iteration {it.get('_id')!r}: a treatment names flag {parameter.get('flagKey')!r}, "
                        "which is not one of the iteration's flags"
                    )


def _every_environment(state: dict[str, Any], flag: dict[str, Any]) -> None:
    """A flag has settings in every environment of its project (patches and evaluations read them)."""
    project = state["projects"].get(flag["projectKey"])
    if project is None:
        raise ValueError(f"the flag's project {flag['projectKey']!r} does not exist")
    missing = sorted(set(project["environments"]) - set(flag["environments"]))
    if missing:
        raise ValueError(f"the flag has no settings for environment(s) {', '.join(map(repr, missing))}")


def _workflow(state: dict[str, Any]) -> Iterator[Check]:
    indexes: dict[str, metrics.Uses] = {}  # per project: which experiments measure each metric, built once

    def rendered(rep: Callable[..., Any], project_key: str, row: dict[str, Any], expand: list[str]) -> Any:
        if project_key not in indexes:
            indexes[project_key] = metrics.uses_index(state, project_key)
        return rep(state, project_key, row, expand, indexes[project_key])

    for key, row in state["metrics"].items():
        if not row.get("_deleted"):
            expand = list(metrics.ONE_EXPANDS)
            yield f"metrics.{key}", "getMetric", partial(rendered, metrics.rep, key.split("/")[0], row, expand)
    for key, row in state["metric_groups"].items():
        if not row.get("_deleted"):
            expand = list(metric_groups.EXPANDS)
            yield (
                f"metric_groups.{key}",
                "getMetricGroup",
                partial(rendered, metric_groups.rep, key.split("/")[0], row, expand),
            )
    everything = [*holdouts.BASE_EXPANDS, *holdouts.REL_EXPANDS]
    for key, row in m.table(state, "holdouts").items():
        yield f"holdouts.{key}", "getHoldout", partial(holdouts.detail, state, row, everything)
        yield f"holdouts.{key}", "getHoldoutById", partial(holdouts.rep, state, row)
    for key, row in m.table(state, "layers").items():
        yield f"layers.{key}", "updateLayer", partial(layers.rep, state, row)
    for member_id in state["members"]:
        yield f"member_profiles.{member_id}", "getMember", partial(members.rep, state, member_id, [])


def _flag_listed(state: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A flag as a list shows it: with environment summaries."""
    m.project(state, row["projectKey"])
    return {"items": [serializers.flag(state, row, list(row["environments"]), summary=True)], "_links": {}}


def _flags_listed(state: dict[str, Any], project_key: str) -> dict[str, Any]:
    """Listing filters and sorts every flag of the project; the answer is the settings shape."""
    flag_listing.listing(state, project_key, 0, ["state:archived"], "key,-creationDate", [], None, None)
    flag_listing.listing(state, project_key, 0, ["hasExperiment:true"], "tags", [], None, None)
    return settings.rep(state, project_key)


def _flag_status(state: dict[str, Any], row: dict[str, Any], running: dict[str, flag_status.Running]) -> dict[str, Any]:
    project_key = row["projectKey"]
    if project_key not in running:
        running[project_key] = flag_status.running(state, project_key)
    found = {
        env: flag_status.of(state, row, env, row["creationDate"], running[project_key]) for env in row["environments"]
    }
    return serializers.status_across(row["projectKey"], row["key"], found)


def _listed(state: dict[str, Any], project_key: str) -> dict[str, Any]:
    """Listing sorts and filters on creation dates and iterations; the answer is the settings shape."""
    experiments.listing(state, project_key, None, {"lifecycleState": "active,archived"})
    return settings.rep(state, project_key)
