"""Every LaunchDarkly record of a candidate state, rendered as the API would serve it."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from mockserver.core.verify import Check
from mockserver.vendors.launchdarkly import experiments, serializers, settings


def checks(state: dict[str, Any]) -> Iterator[Check]:
    everything = list(experiments.EXPANDS_ONE)
    for key, row in state["experiments"].items():
        yield f"experiments.{key}", "getExperiment", partial(experiments.rep, state, row, everything)
    for key, row in state["flags"].items():
        yield f"flags.{key}", "getFeatureFlag", partial(serializers.flag, state, row, None, expand=serializers.EXPANDS)
    for key in state["projects"]:
        yield f"settings.{key}", "getExperimentationSettings", partial(settings.rep, state, key)
        yield f"projects.{key}", "getExperimentationSettings", partial(_listed, state, key)


def _listed(state: dict[str, Any], project_key: str) -> dict[str, Any]:
    """Listing sorts and filters on creation dates and iterations; the answer is the settings shape."""
    experiments.listing(state, project_key, None, {"lifecycleState": "active,archived"})
    return settings.rep(state, project_key)
