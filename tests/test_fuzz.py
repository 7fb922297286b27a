"""Schemathesis against a live server: every operation of every surface, then the linked lifecycles.

The server must answer every generated request (valid or not) with a status, content type and body
its own contract documents, and never a 5xx. Each run fuzzes twice: with a fixed seed (the same cases
every time) and with a fresh random one, printed at the start of the run and in the failing test's
id; ``MOCKSERVER_FUZZ_SEED=<n>`` replays it. ``MOCKSERVER_FUZZ=long`` (or ``medium``) swaps the
bounded CI profile for a longer one.
"""

from __future__ import annotations

import copy
import functools
import itertools
import os
import random
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck

from mockserver.app import create_app
from mockserver.core.contract import shared_contract
from mockserver.server import MockServer
from mockserver.vendors.launchdarkly import seed as ld_seed
from tests.conftest import make_settings
from tests.launchdarkly.helpers import experiment_post
from tests.speccheck import FlaskClient

SPECS = Path(__file__).resolve().parents[1] / "specs"
FIXED_SEED = 20261120
RANDOM_SEED = int(os.environ.get("MOCKSERVER_FUZZ_SEED") or random.SystemRandom().randrange(1, 2**31))
SEED = 42  # the server's seed: resets must come back to the same world whatever a fuzzed reset asked for
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance"]
HEADERS = {
    "posthog": {"Authorization": "Bearer phx_fuzz"},
    "launchdarkly": {"Authorization": "api-fuzz", "LD-API-Version": "beta"},  # beta reaches metric groups too
    "admin": {},
}
# Path parameters pinned to the seeded world, or nearly every case would be a 404 on an unknown project.
PINNED = {"path.project_id": "1", "path.projectKey": "default", "path.environmentKey": "production"}
# Record ids and keys drawn, most of the time, from what the seed holds, so cases reach the rules.
DRAWN = (
    "path.id",
    "path.experimentKey",
    "path.featureFlagKey",
    "path.metricKey",
    "path.metricGroupKey",
    "path.holdoutKey",
    "path.holdoutId",
    "path.layerKey",
    "path.key",
)
# Ids that int() would take but the vendors never would: other scripts' digits, separators, spaces.
ODD_IDS = ["\u0661", "\uff11", "\u00b2", "1_0", " 1", "+1", "1\n", "٣٤"]


def seeded_values() -> dict[str, list]:
    """Ids and keys the seeded world holds, read through the API so they follow the seed."""
    client = create_app(make_settings()).test_client()

    def get(path: str, vendor: str) -> dict:
        return client.get(path, headers=HEADERS[vendor]).get_json()

    ids = {
        item["id"]
        for kind in ("experiments", "experiment_holdouts", "experiment_saved_metrics")
        for item in get(f"/api/projects/1/{kind}/?limit=100", "posthog")["results"]
    }
    experiments = get("/api/v2/projects/default/environments/production/experiments?limit=50", "launchdarkly")["items"]
    holdouts = get("/api/v2/projects/default/environments/production/holdouts", "launchdarkly")["items"]
    iterations = [x["currentIteration"] for x in experiments if x.get("currentIteration")]
    return {
        "path.id": sorted(ids) + ODD_IDS,
        "path.experimentKey": [x["key"] for x in experiments],
        "path.featureFlagKey": sorted({k for it in iterations for k in it.get("flags", {})}),
        "path.metricKey": [metric[0] for metric in ld_seed.METRICS["default"]],
        "path.metricGroupKey": [group[0] for group in ld_seed.GROUPS["default"]],
        "path.holdoutKey": [h["key"] for h in holdouts],
        "path.holdoutId": [h["_id"] for h in holdouts],
        "path.layerKey": [layer[0] for layer in ld_seed.LAYERS],
        "path.key": [kind[0] for kind in ld_seed.CONTEXT_KINDS["default"]],
    }


@dataclass(frozen=True)
class Profile:
    max_examples: int  # per operation and generation phase
    stateful_examples: int  # scenarios per spec
    stateful_steps: int  # calls per scenario


PROFILES = {
    "ci": Profile(max_examples=12, stateful_examples=50, stateful_steps=8),
    "medium": Profile(max_examples=60, stateful_examples=200, stateful_steps=15),
    "long": Profile(max_examples=400, stateful_examples=1000, stateful_steps=25),
}
PROFILE = PROFILES[os.environ.get("MOCKSERVER_FUZZ", "ci")]


SEEDED = seeded_values()


@functools.cache
def _ld_template() -> dict:
    return experiment_post(FlaskClient(create_app(make_settings()), HEADERS["launchdarkly"]), "fuzz")


def _ld_experiment(n: int) -> dict:
    return {**copy.deepcopy(_ld_template()), "key": f"fuzz-{n}", "name": f"Fuzz {n}"}


VALID_CREATES = {
    "experiments_create": lambda n: {"name": f"Fuzz {n}", "feature_flag_key": f"fuzz-{n}"},
    "experiment_holdouts_create": lambda n: {"name": f"Holdout {n}", "filters": [{"rollout_percentage": 10}]},
    "experiment_saved_metrics_create": lambda n: {
        "name": f"Metric {n}",
        "query": {"kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "EventsNode", "event": "view"}},
    },
    "feature_flags_create": lambda n: {"key": f"fuzz-flag-{n}", "filters": {"groups": [{"rollout_percentage": 50}]}},
    "actions_create": lambda n: {"name": f"Fuzz action {n}", "steps": [{"event": "$pageview"}]},
    "event_definitions_create": lambda n: {"name": f"fuzz_event_{n}"},
    "createExperiment": _ld_experiment,
    "postMetric": lambda n: {"key": f"fuzz-{n}", "kind": "custom", "eventKey": f"fuzz-{n}", "isNumeric": False},
    "postHoldout": lambda n: {
        "key": f"fuzz-{n}",
        "name": f"Fuzz {n}",
        "holdoutamount": "5",
        "metrics": [{"key": "checkout-completed"}],
    },
    "createLayer": lambda n: {"key": f"fuzz-{n}", "name": f"Fuzz {n}", "description": ""},
    "addPosthogApprovalPolicy": lambda n: {"action_key": "experiment.launch", "quorum": 1},
}


def load(name: str, seed: int, deterministic: bool, examples: int) -> schemathesis.BaseSchema:
    drawn = {key: {"dictionary": key.removeprefix("path."), "probability": 0.75} for key in DRAWN}
    config = schemathesis.Config.from_dict(
        {
            "seed": seed,
            "suppress-health-check": ["all"],
            "parameters": {**PINNED, **drawn},
            "dictionaries": {key.removeprefix("path."): {"values": values} for key, values in SEEDED.items()},
            "headers": HEADERS[name],
            "checks": {"enabled": False, **{check: {"enabled": True} for check in CHECKS}},
            "generation": {"deterministic": deterministic, "database": "none", "max-examples": examples},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        }
    )
    if name == "admin":  # the control API as the server serves it: every vendor's fragment merged in
        fragments = tuple(sorted(p.stem for p in SPECS.glob("*.admin.yaml")))
        return schemathesis.openapi.from_dict(copy.deepcopy(shared_contract("admin", fragments).spec), config=config)
    return schemathesis.openapi.from_path(SPECS / f"{name}.yaml", config=config)


posthog = load("posthog", FIXED_SEED, True, PROFILE.max_examples)
launchdarkly = load("launchdarkly", FIXED_SEED, True, PROFILE.max_examples)
admin = load("admin", FIXED_SEED, True, PROFILE.max_examples)
# The random run is smaller: its worth is in finding new cases over many runs, not many cases in one.
RANDOM_EXAMPLES = max(4, PROFILE.max_examples // 2)
posthog_random = load("posthog", RANDOM_SEED, False, RANDOM_EXAMPLES)
launchdarkly_random = load("launchdarkly", RANDOM_SEED, False, RANDOM_EXAMPLES)
admin_random = load("admin", RANDOM_SEED, False, RANDOM_EXAMPLES)


@pytest.fixture(scope="module")
def fuzz_server():
    """A server of its own: fuzzed admin calls change seeds, clocks and keys that other tests rely on."""
    with MockServer(make_settings()) as server:
        yield server


@pytest.fixture
def fresh(fuzz_server) -> MockServer:
    fuzz_server.runtime.reset(SEED)
    fuzz_server.runtime.server_errors.clear()
    return fuzz_server


def call(server: MockServer, case, vendor: str) -> None:
    case.call_and_validate(base_url=server.url, headers=HEADERS[vendor])
    assert not server.runtime.server_errors, list(server.runtime.server_errors)


@posthog.parametrize()
def test_posthog(case, fresh):
    call(fresh, case, "posthog")


@launchdarkly.parametrize()
def test_launchdarkly(case, fresh):
    call(fresh, case, "launchdarkly")


@admin.parametrize()
def test_admin(case, fresh):
    # Admin writes change how the whole server behaves (clock, keys, seed): start each case from the seed.
    try:
        call(fresh, case, "admin")
    finally:
        if case.method != "GET":
            fresh.runtime.reset(SEED)


@pytest.mark.parametrize("seed", [RANDOM_SEED], ids=lambda seed: f"random-seed-{seed}")
@posthog_random.parametrize()
def test_posthog_random(case, fresh, seed):
    call(fresh, case, "posthog")


@pytest.mark.parametrize("seed", [RANDOM_SEED], ids=lambda seed: f"random-seed-{seed}")
@launchdarkly_random.parametrize()
def test_launchdarkly_random(case, fresh, seed):
    call(fresh, case, "launchdarkly")


@pytest.mark.parametrize("seed", [RANDOM_SEED], ids=lambda seed: f"random-seed-{seed}")
@admin_random.parametrize()
def test_admin_random(case, fresh, seed):
    try:
        call(fresh, case, "admin")
    finally:
        if case.method != "GET":
            fresh.runtime.reset(SEED)


def stateful_settings() -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=PROFILE.stateful_examples,
        stateful_step_count=PROFILE.stateful_steps,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.mark.parametrize("vendor", ["posthog", "launchdarkly", "admin"])
def test_linked_sequences(vendor, fuzz_server):
    """Create, then act on what was created through the spec's links (retrieve, update, launch, delete…)."""
    schema = {"posthog": posthog, "launchdarkly": launchdarkly, "admin": admin}[vendor]
    fuzz_server.runtime.server_errors.clear()
    session = requests.Session()

    class Lifecycle(schema.as_state_machine()):
        def setup(self):
            # Everything a scenario depends on starts over, or Hypothesis sees replays diverge (flaky data).
            fuzz_server.runtime.reset(SEED)
            self.creates = itertools.count()

        def before_call(self, case):
            # Stateful cases skip the config's parameter pinning; and every other create sends a body the
            # rules accept, or random names would never produce the object the links lead from.
            for key, value in PINNED.items():
                name = key.removeprefix("path.")
                if name in (case.path_parameters or {}):
                    case.path_parameters[name] = value
            build = VALID_CREATES.get(case.operation.definition.raw.get("operationId"))
            number = next(self.creates)
            if build is not None and number % 2 == 0:
                case.body = build(number)

        def get_call_kwargs(self, case):
            return {"base_url": fuzz_server.url, "headers": HEADERS[vendor], "session": session}

    assert schema.statistic.transitions.total, "the spec carries no links"
    Lifecycle.run(settings=stateful_settings())
    assert not fuzz_server.runtime.server_errors, list(fuzz_server.runtime.server_errors)
