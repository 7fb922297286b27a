"""The whole experimentation workflow with the official `launchdarkly-api` client (25.x) alone.

Metrics, a funnel metric group, a new flag turned on with a semantic patch, a holdout, a
frequentist experiment on that flag in that holdout, its start, results, a stop with a winner and
an archive; a Bayesian experiment beside it. Every call goes through the client's strict models,
no /__admin call is made, and the only help from the test is time passing (the server's clock
moves on while the experiment runs, as it would in a week). The client types a flag PATCH body as
a JSON Patch, so the semantic patch goes through its own transport and is read into its
FeatureFlag model; the results endpoints left the client in 18.0.0, so they are fetched the same
way and read as JSON.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

ld_api_client = pytest.importorskip("launchdarkly_api")

from launchdarkly_api import (  # noqa: E402
    AccountMembersApi,
    ApiClient,
    Configuration,
    ContextsApi,
    EnvironmentsApi,
    ExperimentPatchInput,
    ExperimentPost,
    ExperimentsApi,
    FeatureFlag,
    FeatureFlagBody,
    FeatureFlagsApi,
    FlagInput,
    FlagStatusRep,
    HoldoutPatchInput,
    HoldoutPostRequest,
    HoldoutsApi,
    IterationInput,
    LayerPatchInput,
    LayerPost,
    LayersApi,
    MetricGroupPost,
    MetricInMetricGroupInput,
    MetricInput,
    MetricPost,
    MetricsApi,
    MetricsBetaApi,
    OtherApi,
    PatchOperation,
    ProjectsApi,
    TreatmentInput,
    TreatmentParameterInput,
    UpsertContextKindPayload,
    UrlPost,
    Variation,
)
from launchdarkly_api.exceptions import BadRequestException, ForbiddenException  # noqa: E402

from mockserver.server import MockServer  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.launchdarkly.helpers import ENV, PROJECT, SEMANTIC, TOKEN  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:POST .*iterations is deprecated:DeprecationWarning")


@pytest.fixture
def server():
    with MockServer(make_settings()) as running:
        yield running


def _client(server: MockServer, **headers: str) -> ApiClient:
    config = Configuration(host=server.url)
    config.api_key["ApiKey"] = TOKEN
    api_client = ApiClient(config)
    for name, value in headers.items():
        api_client.set_default_header(name, value)  # the client lets its defaults win over per-call _headers
    return api_client


@pytest.fixture
def client(server):
    with _client(server) as api_client:
        yield api_client


@pytest.fixture
def beta(server):
    """Metric groups are beta: a client whose every request says LD-API-Version: beta."""
    with _client(server, **{"LD-API-Version": "beta"}) as api_client:
        yield api_client


def _iteration(flags_api: FeatureFlagsApi, flag_key: str, metrics: list[MetricInput], **extra) -> IterationInput:
    flag = flags_api.get_feature_flag(PROJECT, flag_key)
    variations = flag.variations
    treatments = [
        TreatmentInput(
            name="Control" if index == 0 else (variation.name or f"Variant {index}"),
            baseline=index == 0,
            allocation_percent=str(100 // len(variations) + (100 % len(variations) if index == 0 else 0)),
            parameters=[TreatmentParameterInput(flag_key=flag_key, variation_id=variation.id)],
        )
        for index, variation in enumerate(variations)
    ]
    return IterationInput(
        hypothesis="The new layout converts better",
        metrics=metrics,
        treatments=treatments,
        flags={flag_key: FlagInput(rule_id="fallthrough", flag_config_version=flag.environments[ENV].version)},
        randomization_unit="user",
        **extra,
    )


def _semantic_flag_patch(client: ApiClient, flag_key: str, body: dict) -> FeatureFlag:
    """PATCH a flag with the semantic-patch media type through the client's transport, into its model."""
    params = client.param_serialize(
        method="PATCH",
        resource_path="/api/v2/flags/{projectKey}/{featureFlagKey}",
        path_params={"projectKey": PROJECT, "featureFlagKey": flag_key},
        header_params={"Content-Type": SEMANTIC, "Accept": "application/json"},
        body=body,
        auth_settings=["ApiKey"],
    )
    response = client.call_api(*params)
    response.read()
    return client.response_deserialize(response, {"200": "FeatureFlag"}).data


def _results(client: ApiClient, experiment: str, metric: str) -> dict:
    """GET …/metrics/{metricKey}/results through the client's request machinery (no method for it in 25.x)."""
    params = client.param_serialize(
        method="GET",
        resource_path="/api/v2/projects/{projectKey}/environments/{environmentKey}/experiments/{experimentKey}"
        "/metrics/{metricKey}/results",
        path_params={"projectKey": PROJECT, "environmentKey": ENV, "experimentKey": experiment, "metricKey": metric},
        query_params=[("expand", "traffic")],
        header_params={"Accept": "application/json"},
        auth_settings=["ApiKey"],
    )
    response = client.call_api(*params)
    response.read()
    return client.response_deserialize(response, {"200": "object"}).data


def test_the_whole_workflow_through_the_official_client(server, client, beta):
    other, members, projects = OtherApi(client), AccountMembersApi(client), ProjectsApi(client)
    contexts, metrics_api, groups_api = ContextsApi(client), MetricsApi(client), MetricsBetaApi(beta)
    holdouts_api, layers_api, experiments_api = HoldoutsApi(client), LayersApi(client), ExperimentsApi(client)
    flags_api, envs = FeatureFlagsApi(client), EnvironmentsApi(client)

    # Who am I, and where do I work?
    identity = other.get_caller_identity()
    assert identity.token_kind == "personal" and identity.member_id
    me = members.get_member("me")
    assert me.id == identity.member_id and me.role == "owner"
    project = projects.get_project(PROJECT, expand="environments")
    assert ENV in {env.key for env in project.environments.items}
    production = envs.get_environment(PROJECT, ENV)
    assert production.api_key.startswith("sdk-")
    kinds = contexts.get_context_kinds_by_project_key(PROJECT)
    assert "user" in {kind.key for kind in kinds.items}
    created_kind = contexts.put_context_kind(PROJECT, "team", UpsertContextKindPayload(name="Team"))
    assert created_kind.status == "created"

    # Metrics: a custom conversion, a numeric one, a page view and a click, then one patched.
    signup = metrics_api.post_metric(
        PROJECT, MetricPost(key="wf-signup", name="Signed up", kind="custom", event_key="signed-up", is_numeric=False)
    )
    assert signup.kind == "custom" and signup.event_key == "signed-up"
    revenue = metrics_api.post_metric(
        PROJECT,
        MetricPost(
            key="wf-revenue",
            kind="custom",
            event_key="purchase",
            is_numeric=True,
            success_criteria="HigherThanBaseline",
            unit="USD",
        ),
    )
    assert revenue.is_numeric and revenue.unit_aggregation_type == "average"
    pricing = metrics_api.post_metric(
        PROJECT,
        MetricPost(key="wf-pricing-viewed", kind="pageview", urls=[UrlPost(kind="substring", substring="/pricing")]),
    )
    cta = metrics_api.post_metric(
        PROJECT,
        MetricPost(
            key="wf-cta-clicked",
            kind="click",
            selector="#buy",
            urls=[UrlPost(kind="exact", url="https://example.com/pricing")],
        ),
    )
    with pytest.raises(BadRequestException) as refused:
        metrics_api.post_metric(PROJECT, MetricPost(key="wf-no-event", kind="custom", is_numeric=False))
    assert "eventKey" in refused.value.body
    renamed = metrics_api.patch_metric(
        PROJECT, "wf-signup", [PatchOperation(op="replace", path="/name", value="Completed sign-up")]
    )
    assert renamed.name == "Completed sign-up" and renamed.version == 2
    listed = metrics_api.get_metrics(PROJECT, filter="eventKind equals custom", limit=50)
    assert {"wf-signup", "wf-revenue"} <= {m.key for m in listed.items}

    # A funnel metric group (beta): page view, click, conversion.
    funnel = groups_api.create_metric_group(
        PROJECT,
        MetricGroupPost(
            key="wf-buy-funnel",
            name="Buy funnel",
            kind="funnel",
            maintainer_id=me.id,
            tags=["workflow"],
            metrics=[
                MetricInMetricGroupInput(key=pricing.key, name_in_group="Saw pricing"),
                MetricInMetricGroupInput(key=cta.key, name_in_group="Clicked buy"),
                MetricInMetricGroupInput(key=signup.key, name_in_group="Signed up"),
            ],
        ),
    )
    assert [m.name_in_group for m in funnel.metrics] == ["Saw pricing", "Clicked buy", "Signed up"]
    assert groups_api.get_metric_group(PROJECT, "wf-buy-funnel").kind == "funnel"
    with pytest.raises(ForbiddenException):
        MetricsBetaApi(client).get_metric_group(PROJECT, "wf-buy-funnel")  # without the beta header

    # A new flag for the experiment, turned on in production with a semantic patch.
    flag = flags_api.post_feature_flag(
        PROJECT,
        FeatureFlagBody(
            key="wf-checkout-layout",
            name="Checkout layout",
            variations=[Variation(value="classic", name="Classic"), Variation(value="compact", name="Compact")],
            tags=["workflow"],
        ),
    )
    assert isinstance(flag, FeatureFlag) and flag.environments[ENV].on is False
    turned_on = _semantic_flag_patch(
        client,
        flag.key,
        {"environmentKey": ENV, "comment": "ready", "instructions": [{"kind": "turnFlagOn"}]},
    )
    assert isinstance(turned_on, FeatureFlag)
    assert turned_on.environments[ENV].on is True and turned_on.version == flag.version + 1

    # A holdout, and a frequentist experiment in it on the new flag, in a layer.
    holdout = holdouts_api.post_holdout(
        PROJECT,
        ENV,
        HoldoutPostRequest(
            key="wf-holdout",
            name="Workflow holdout",
            description="Keeps 10% of users out",
            holdoutamount="10",
            randomizationunit="user",
            metrics=[MetricInput(key=signup.key)],
            primarymetrickey=signup.key,
        ),
    )
    assert holdout.status == "created" and holdout.holdout_amount == "10"
    layer = layers_api.create_layer(PROJECT, LayerPost(key="wf-layer", name="Workflow layer", description="Pricing"))
    assert layer.key == "wf-layer"

    iteration = _iteration(
        flags_api,
        flag.key,
        [
            MetricInput(key=signup.key),
            MetricInput(key=revenue.key),
            MetricInput(key=funnel.key, is_group=True),
        ],
        primary_single_metric_key=signup.key,
        attributes=["country"],
    )
    experiment = experiments_api.create_experiment(
        PROJECT,
        ENV,
        ExperimentPost(
            key="wf-pricing",
            name="Pricing layout",
            maintainer_id=me.id,
            holdout_id=holdout.id,
            iteration=iteration,
        ),
    )
    assert experiment.methodology == "frequentist"  # the vendor's default
    assert experiment.holdout_id == holdout.id
    assert experiment.current_iteration.status == "not_started"
    assert holdouts_api.get_holdout_by_id(PROJECT, ENV, holdout.id).status == "enabled"
    reserved = layers_api.update_layer(
        PROJECT,
        "wf-layer",
        LayerPatchInput(
            environment_key=ENV,
            instructions=[
                {"kind": "updateExperimentReservation", "experimentKey": "wf-pricing", "reservationPercent": 40}
            ],
        ),
    )
    assert reserved.environments[ENV].reservations[0].reservation_percent == 40

    started = experiments_api.patch_experiment(
        PROJECT, ENV, "wf-pricing", ExperimentPatchInput(instructions=[{"kind": "startIteration"}])
    )
    assert started.current_iteration.status == "running"
    assert started.current_iteration.layer_snapshot.reservation_percent == 40
    detail = holdouts_api.get_holdout(PROJECT, ENV, "wf-holdout", expand="rel-treatments")
    assert detail.status == "running" and detail.related_experiments[0].key == "wf-pricing"

    # A Bayesian experiment beside it.
    bayesian = experiments_api.create_experiment(
        PROJECT,
        ENV,
        ExperimentPost(
            key="wf-widget",
            name="Widget",
            methodology="bayesian",
            iteration=_iteration(flags_api, "recommendations-widget", [MetricInput(key=signup.key)]),
        ),
    )
    experiments_api.patch_experiment(
        PROJECT, ENV, bayesian.key, ExperimentPatchInput(instructions=[{"kind": "startIteration"}])
    )

    server.runtime.clock.advance(timedelta(days=7))  # a week of traffic

    frequentist = _results(client, "wf-pricing", signup.key)
    rows = frequentist["treatmentResults"]
    assert all("confidenceInterval" in r and "pBest" not in r for r in rows)
    assert all(r["units"] > 0 for r in rows)
    assert [r for r in rows if "pValue" in r] and all(0 <= r["pValue"] <= 1 for r in rows if "pValue" in r)
    assert {s.get("attributeValue") for s in frequentist["results"]} >= {None, "US", "GB"}
    posterior = _results(client, "wf-widget", signup.key)
    assert all("credibleInterval" in r and "pBest" in r for r in posterior["treatmentResults"])
    assert sum(r["pBest"] for r in posterior["treatmentResults"]) == pytest.approx(1, abs=1e-5)

    # Stop with a winner (it ships on the flag's fallthrough), then archive.
    full = experiments_api.get_experiment(PROJECT, ENV, "wf-pricing", expand="treatments")
    winner = full.current_iteration.treatments[1]
    stopped = experiments_api.patch_experiment(
        PROJECT,
        ENV,
        "wf-pricing",
        ExperimentPatchInput(
            instructions=[{"kind": "stopIteration", "winningTreatmentId": winner.id, "winningReason": "Clear lift"}]
        ),
    )
    assert stopped.current_iteration.status == "stopped"
    assert stopped.current_iteration.winning_treatment_id == winner.id
    flag = flags_api.get_feature_flag(PROJECT, flag.key)
    shipped = next(i for i, v in enumerate(flag.variations) if v.id == winner.id)
    assert flag.environments[ENV].fallthrough.variation == shipped
    status = flags_api.get_feature_flag_status(PROJECT, ENV, flag.key)
    assert isinstance(status, FlagStatusRep) and status.name in ("new", "inactive", "active", "launched")
    archived = experiments_api.patch_experiment(
        PROJECT, ENV, "wf-pricing", ExperimentPatchInput(instructions=[{"kind": "archiveExperiment"}])
    )
    assert archived.archived_date is not None
    ended = holdouts_api.patch_holdout(
        PROJECT, ENV, "wf-holdout", HoldoutPatchInput(instructions=[{"kind": "endHoldout"}])
    )
    assert ended.status == "ended"
    assert metrics_api.get_metric(PROJECT, signup.key, expand="experimentCount").experiment_count == 2
