"""Every LaunchDarkly record of a candidate state, rendered as the API would serve it."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from mockserver.core.verify import Check
from mockserver.vendors.launchdarkly import experiments, flag_listing, flag_status, serializers, settings
from mockserver.vendors.launchdarkly import models as m


def checks(state: dict[str, Any]) -> Iterator[Check]:
    everything = list(experiments.EXPANDS_ONE)
    for key, row in state["experiments"].items():
        yield f"experiments.{key}", "getExperiment", partial(experiments.rep, state, row, everything)
    for key, row in state["flags"].items():
        yield f"flags.{key}", "getFeatureFlag", partial(serializers.flag, state, row, None, expand=serializers.EXPANDS)
        yield f"flags.{key}", "getFeatureFlags", partial(_flag_listed, state, row)
        yield f"flags.{key}", "getFeatureFlagStatusAcrossEnvironments", partial(_flag_status, state, row)
    for key in state["projects"]:
        yield f"settings.{key}", "getExperimentationSettings", partial(settings.rep, state, key)
        yield f"projects.{key}", "getExperimentationSettings", partial(_listed, state, key)
        yield f"projects.{key}", "getExperimentationSettings", partial(_flags_listed, state, key)


def _flag_listed(state: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A flag as a list shows it: with environment summaries."""
    m.project(state, row["projectKey"])
    return {"items": [serializers.flag(state, row, list(row["environments"]), summary=True)], "_links": {}}


def _flags_listed(state: dict[str, Any], project_key: str) -> dict[str, Any]:
    """Listing filters and sorts every flag of the project; the answer is the settings shape."""
    flag_listing.listing(state, project_key, 0, ["state:archived"], "key,-creationDate", [], None, None)
    flag_listing.listing(state, project_key, 0, ["hasExperiment:true"], "tags", [], None, None)
    return settings.rep(state, project_key)


def _flag_status(state: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    found = {env: flag_status.of(state, row, env, row["creationDate"]) for env in row["environments"]}
    return serializers.status_across(row["projectKey"], row["key"], found)


def _listed(state: dict[str, Any], project_key: str) -> dict[str, Any]:
    """Listing sorts and filters on creation dates and iterations; the answer is the settings shape."""
    experiments.listing(state, project_key, None, {"lifecycleState": "active,archived"})
    return settings.rep(state, project_key)
