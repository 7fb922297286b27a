"""Experiment lifecycle: every action's preconditions and their exact messages, in one table.

Status is computed (draft / running / paused / stopped), never stored. Each action lists the
conditions that must hold, checked in order; the first that fails answers 400 with its message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.vendors.posthog.errors import invalid
from mockserver.vendors.posthog.models import flag_variants, status_of


@dataclass(frozen=True)
class Subject:
    """The facts a precondition may look at."""

    exp: dict[str, Any]
    flag: dict[str, Any] | None

    @property
    def status(self) -> str:
        return status_of(self.exp, self.flag)

    @property
    def launched(self) -> bool:
        return self.exp.get("start_date") is not None

    @property
    def ended(self) -> bool:
        return self.launched and self.exp.get("end_date") is not None


Check = tuple[Callable[[Subject], bool], str]

_launched: Check = (lambda s: s.launched, "Experiment has not been launched yet.")
_not_ended: Check = (lambda s: not s.ended, "Experiment has already ended.")
_has_flag: Check = (lambda s: s.flag is not None, "Experiment does not have a feature flag linked.")

RULES: dict[str, tuple[Check, ...]] = {
    "launch": (
        (lambda s: not s.launched, "Experiment has already been launched."),
        (
            lambda s: s.flag is not None and not s.flag.get("deleted"),
            "Experiment cannot be launched because its feature flag has been deleted.",
        ),
        (
            lambda s: len(flag_variants(s.flag)) >= 2,
            "Feature flag must have at least 2 variants (control and at least one test variant)",
        ),
        (
            lambda s: any(v.get("key") == "control" for v in flag_variants(s.flag)),
            "Feature flag must have a variant with key 'control'",
        ),
    ),
    "pause": (
        _launched,
        _not_ended,
        _has_flag,
        (lambda s: bool(s.flag and s.flag.get("active")), "Experiment is already paused."),
    ),
    "resume": (
        _launched,
        _not_ended,
        _has_flag,
        (lambda s: bool(s.flag and not s.flag.get("active")), "Experiment is not paused."),
    ),
    "end": (_launched, _not_ended),
    "ship_variant": (_launched, (lambda s: s.flag is not None, "Experiment does not have a linked feature flag.")),
    "reset": ((lambda s: s.launched, "Experiment is already in draft state."),),
    "archive": (
        (lambda s: not s.exp.get("archived"), "Experiment is already archived."),
        (lambda s: s.ended, "Experiment must be ended before it can be archived."),
    ),
    "unarchive": ((lambda s: bool(s.exp.get("archived")), "Experiment is not archived."),),
    "create_exposure_cohort": (
        (lambda s: s.flag is not None, "Experiment does not have a feature flag"),
        (lambda s: s.launched, "Experiment does not have a start date"),
        (lambda s: s.exp.get("exposure_cohort") is None, "Experiment already has an exposure cohort"),
    ),
    "timeseries": ((lambda s: s.launched, "Experiment has not been started yet"),),
    "recalculate": ((lambda s: s.launched, "Cannot recalculate timeseries for experiment that hasn't started"),),
}

# Where each action leaves the experiment, for documentation and tests.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "launch": (("draft",), "running"),
    "pause": (("running",), "paused"),
    "resume": (("paused",), "running"),
    "end": (("running", "paused"), "stopped"),
    "ship_variant": (("running", "paused", "stopped"), "stopped"),
    "reset": (("running", "paused", "stopped"), "draft"),
}


def require(action: str, exp: dict[str, Any], flag: dict[str, Any] | None) -> None:
    subject = Subject(exp, flag)
    for holds, message in RULES[action]:
        if not holds(subject):
            raise invalid(message)
