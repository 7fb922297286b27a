"""The official `launchdarkly-api` client (25.x), unmodified, against a live mock.

Every call goes through the client's strict pydantic models, so a response that a real client
could not read fails here as a validation error.
"""

from __future__ import annotations

import pytest

ld_api_client = pytest.importorskip("launchdarkly_api")

from launchdarkly_api import (  # noqa: E402
    ApiClient,
    Configuration,
    ExperimentPatchInput,
    ExperimentPost,
    ExperimentsApi,
    FeatureFlagsApi,
    FlagInput,
    IterationInput,
    MetricInput,
    PatchOperation,
    PatchWithComment,
    RandomizationSettingsPut,
    RandomizationUnitInput,
    TreatmentInput,
    TreatmentParameterInput,
)
from launchdarkly_api.exceptions import BadRequestException, ConflictException, NotFoundException  # noqa: E402

from tests.launchdarkly.helpers import PROJECT, TOKEN, get_flag  # noqa: E402
from tests.speccheck import HttpClient  # noqa: E402

ENV = "production"
pytestmark = pytest.mark.filterwarnings("ignore:POST .*iterations is deprecated:DeprecationWarning")


@pytest.fixture
def client_api(live_server):
    live_server.runtime.reset()
    config = Configuration(host=live_server.url)
    config.api_key["ApiKey"] = TOKEN
    with ApiClient(config) as api_client:
        yield ExperimentsApi(api_client), HttpClient(live_server.url, {"Authorization": TOKEN})


@pytest.fixture
def flags_api(live_server):
    live_server.runtime.reset()
    config = Configuration(host=live_server.url)
    config.api_key["ApiKey"] = TOKEN
    with ApiClient(config) as api_client:
        yield FeatureFlagsApi(api_client)


def _iteration(raw, flag_key: str, hypothesis: str) -> IterationInput:
    row = get_flag(raw, flag_key)
    variations = row["variations"]
    return IterationInput(
        hypothesis=hypothesis,
        metrics=[MetricInput(key="checkout-completed", primary=True), MetricInput(key="revenue-per-user")],
        primary_single_metric_key="checkout-completed",
        treatments=[
            TreatmentInput(
                name="Control",
                baseline=True,
                allocation_percent="50",
                parameters=[TreatmentParameterInput(flag_key=flag_key, variation_id=variations[0]["_id"])],
            ),
            TreatmentInput(
                name="Compact",
                baseline=False,
                allocation_percent="50",
                parameters=[TreatmentParameterInput(flag_key=flag_key, variation_id=variations[1]["_id"])],
            ),
        ],
        flags={flag_key: FlagInput(rule_id="fallthrough", flag_config_version=row["environments"][ENV]["version"])},
        randomization_unit="user",
    )


def test_full_journey_through_the_official_client(client_api):
    api, raw = client_api
    created = api.create_experiment(
        PROJECT,
        ENV,
        ExperimentPost(
            name="Pricing layout (client)",
            key="client-journey",
            description="Driven by launchdarkly-api",
            iteration=_iteration(raw, "pricing-page-layout", "Compact layout sells more"),
            tags=["client"],
        ),
    )
    assert created is not None, "create_experiment must answer 201 for the client to return a model"
    assert created.key == "client-journey"
    assert created.current_iteration.status == "not_started"

    iteration = api.create_iteration(
        PROJECT, ENV, "client-journey", _iteration(raw, "pricing-page-layout", "Second try")
    )
    assert iteration is not None and iteration.status == "not_started"
    assert iteration.treatments[0].allocation_percent == "50"

    started = api.patch_experiment(
        PROJECT,
        ENV,
        "client-journey",
        ExperimentPatchInput(comment="go", instructions=[{"kind": "startIteration", "changeJustification": "Launch"}]),
    )
    assert started.current_iteration.status == "running"
    assert started.current_iteration.id == iteration.id

    full = api.get_experiment(
        PROJECT,
        ENV,
        "client-journey",
        expand="previousIterations,draftIteration,secondaryMetrics,treatments,analysisConfig,mutableFieldsByStatus",
    )
    assert full.current_iteration.started_at > 0
    assert [m.key for m in full.current_iteration.secondary_metrics] == ["revenue-per-user"]
    assert full.mutable_fields_by_status is not None
    winner = full.current_iteration.treatments[1].id

    with pytest.raises(BadRequestException) as bad:
        api.patch_experiment(
            PROJECT,
            ENV,
            "client-journey",
            ExperimentPatchInput(instructions=[{"kind": "stopIteration", "winningTreatmentId": "not-a-treatment"}]),
        )
    assert bad.value.data.code == "invalid_request"

    stopped = api.patch_experiment(
        PROJECT,
        ENV,
        "client-journey",
        ExperimentPatchInput(
            instructions=[{"kind": "stopIteration", "winningTreatmentId": winner, "winningReason": "Compact won"}]
        ),
        _content_type="application/json; domain-model=launchdarkly.semanticpatch",
    )
    assert stopped.current_iteration.status == "stopped"
    assert stopped.current_iteration.winning_treatment_id == winner
    assert stopped.current_iteration.ended_at >= stopped.current_iteration.started_at

    archived = api.patch_experiment(
        PROJECT, ENV, "client-journey", ExperimentPatchInput(instructions=[{"kind": "archiveExperiment"}])
    )
    assert archived.archived_date is not None

    active = api.get_experiments(PROJECT, ENV, limit=2, filter="status:running", expand="treatments")
    assert active.total_count == 2 and "client-journey" not in [e.key for e in active.items]
    archived_list = api.get_experiments(PROJECT, ENV, lifecycle_state="archived", filter="flagKey:pricing-page-layout")
    assert [e.key for e in archived_list.items] == ["client-journey"]
    both = api.get_experiments(
        PROJECT, ENV, lifecycle_state="active,archived", limit=3, offset=3, expand="previousIterations,draftIteration"
    )
    assert both.total_count == 6 and len(both.items) == 3
    anywhere = api.get_experiments_any_env(PROJECT, filter="metricKey:checkout-completed")
    assert {e.environment_key for e in anywhere.items} == {"production", "test"}


def test_settings_through_the_official_client(client_api):
    api, _raw = client_api
    settings = api.get_experimentation_settings(PROJECT)
    assert settings.randomization_units[0].randomization_unit == "user"
    updated = api.put_experimentation_settings(
        PROJECT,
        RandomizationSettingsPut(
            randomization_units=[
                RandomizationUnitInput(randomization_unit="organization", default=True),
                RandomizationUnitInput(randomization_unit="user"),
            ]
        ),
    )
    assert [u.randomization_unit for u in updated.randomization_units] == ["organization", "user"]
    assert api.get_experimentation_settings(PROJECT).randomization_units[0].default is True


def test_client_sees_vendor_errors(client_api):
    api, raw = client_api
    with pytest.raises(NotFoundException) as missing:
        api.get_experiment(PROJECT, ENV, "no-such-experiment")
    assert missing.value.data.code == "not_found"
    api.create_experiment(
        PROJECT,
        ENV,
        ExperimentPost(name="Rival", key="rival", iteration=_iteration(raw, "checkout-button-color", "Clash")),
    )
    with pytest.raises(ConflictException) as conflict:
        api.patch_experiment(PROJECT, ENV, "rival", ExperimentPatchInput(instructions=[{"kind": "startIteration"}]))
    assert conflict.value.data.code == "optimistic_locking_error"


def test_every_seeded_experiment_reads_cleanly(client_api):
    api, _raw = client_api
    expand = "previousIterations,draftIteration,secondaryMetrics,treatments,analysisConfig"
    for project in (PROJECT, "mobile-app"):
        listing = api.get_experiments_any_env(project, lifecycle_state="active,archived", expand=expand)
        for item in listing.items:
            one = api.get_experiment(project, item.environment_key, item.key, expand=expand + ",mutableFieldsByStatus")
            assert one.key == item.key


def test_legacy_experiments_through_the_flags_client(flags_api):
    row = flags_api.get_feature_flag(PROJECT, "free-shipping-threshold")
    assert [i.metric_key for i in row.experiments.items] == ["revenue-per-user", "checkout-completed"]
    patched = flags_api.patch_feature_flag(
        PROJECT,
        "free-shipping-threshold",
        PatchWithComment(
            comment="start recording",
            patch=[
                PatchOperation(op="add", path="/experiments/items/1/environments/0", value="production"),
                PatchOperation(op="replace", path="/experiments/baselineIdx", value=2),
            ],
        ),
    )
    assert patched.experiments.baseline_idx == 2
    assert patched.experiments.items[1].environments == ["production"]
    assert patched.version == row.version + 1
