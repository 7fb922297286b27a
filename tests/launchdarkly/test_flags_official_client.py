"""The official `launchdarkly-api` client (25.x), unmodified, on the flag API of a live mock.

Every response goes through the client's strict pydantic models. The generated client types the
PATCH body as PatchWithComment, so a semantic patch goes through its own ApiClient (serialise,
call, deserialise into FeatureFlag) with the semantic-patch Content-Type, as integrations do.
"""

from __future__ import annotations

import pytest

ld_api_client = pytest.importorskip("launchdarkly_api")

from launchdarkly_api import (  # noqa: E402
    ApiClient,
    ClientSideAvailabilityPost,
    Configuration,
    FeatureFlagBody,
    FeatureFlagsApi,
    PatchOperation,
    PatchWithComment,
    Variation,
)
from launchdarkly_api.exceptions import BadRequestException, ConflictException, NotFoundException  # noqa: E402

from tests.launchdarkly.helpers import (  # noqa: E402
    PROJECT,
    SEMANTIC,
    TOKEN,
)


@pytest.fixture
def client(live_server):
    live_server.runtime.reset()
    config = Configuration(host=live_server.url)
    config.api_key["ApiKey"] = TOKEN
    with ApiClient(config) as api_client:
        yield api_client


def semantic_patch(api_client: ApiClient, flag_key: str, body: dict, dry_run: bool = False):
    """PATCH with the semantic-patch media type through the client's own transport and models."""
    query = [("dryRun", dry_run)] if dry_run else []
    request = api_client.param_serialize(
        method="PATCH",
        resource_path="/api/v2/flags/{projectKey}/{featureFlagKey}",
        path_params={"projectKey": PROJECT, "featureFlagKey": flag_key},
        query_params=query,
        header_params={"Content-Type": SEMANTIC, "Accept": "application/json"},
        body=body,
        auth_settings=["ApiKey"],
    )
    response = api_client.call_api(*request)
    response.read()
    return api_client.response_deserialize(response, {"200": "FeatureFlag"}).data


def test_create_list_turn_on_and_delete_through_the_official_client(client):
    flags = FeatureFlagsApi(client)
    created = flags.post_feature_flag(
        PROJECT,
        FeatureFlagBody(
            key="client-flag",
            name="Client flag",
            description="Made by launchdarkly-api",
            variations=[Variation(value="a", name="A"), Variation(value="b", name="B")],
            client_side_availability=ClientSideAvailabilityPost(using_environment_id=True, using_mobile_key=False),
            tags=["client"],
        ),
    )
    assert created is not None, "post_feature_flag must answer 201 for the client to return a model"
    assert created.key == "client-flag" and created.kind == "multivariate" and created.version == 1
    assert created.environments["production"].on is False

    listed = flags.get_feature_flags(PROJECT, env="production", summary=False, filter="tags:client", limit=5)
    assert listed.total_count == 1 and [f.key for f in listed.items] == ["client-flag"]
    assert listed.items[0].environments["production"].fallthrough.variation == 0
    summaries = flags.get_feature_flags(PROJECT, env="test", sort="-creationDate", limit=3, offset=1)
    assert summaries.total_count == 8 and len(summaries.items) == 3
    assert summaries.items[0].environments["test"].summary.prerequisites >= 0

    turned_on = semantic_patch(
        client, "client-flag", {"environmentKey": "production", "instructions": [{"kind": "turnFlagOn"}]}
    )
    assert turned_on.environments["production"].on is True and turned_on.version == 2
    assert flags.get_feature_flag(PROJECT, "client-flag").environments["production"].on is True

    preview = semantic_patch(client, "client-flag", {"instructions": [{"kind": "archiveFlag"}]}, dry_run=True)
    assert preview.archived is True and flags.get_feature_flag(PROJECT, "client-flag").archived is False

    renamed = flags.patch_feature_flag(
        PROJECT,
        "client-flag",
        PatchWithComment(comment="rename", patch=[PatchOperation(op="replace", path="/name", value="Renamed")]),
    )
    assert renamed.name == "Renamed" and renamed.version == 3

    statuses = flags.get_feature_flag_status_across_environments(PROJECT, "client-flag")
    assert statuses.environments["production"].name == "new"
    one = flags.get_feature_flag_status(PROJECT, "production", "pricing-page-layout")
    assert one.name == "launched" and one.last_requested is not None
    everything = flags.get_feature_flag_statuses(PROJECT, "production")
    assert len(everything.items) == 9

    flags.delete_feature_flag(PROJECT, "client-flag")
    with pytest.raises(NotFoundException) as missing:
        flags.get_feature_flag(PROJECT, "client-flag")
    assert missing.value.data.code == "not_found"


def test_official_client_sees_flag_errors(client):
    flags = FeatureFlagsApi(client)
    with pytest.raises(ConflictException) as taken:
        flags.post_feature_flag(PROJECT, FeatureFlagBody(key="dark-mode-default", name="Again"))
    assert taken.value.data.code == "conflict"
    with pytest.raises(ConflictException) as refused:
        flags.delete_feature_flag(PROJECT, "dark-mode-default")
    assert refused.value.data.code == "conflict" and "prerequisite" in refused.value.data.message
    with pytest.raises(BadRequestException) as bad:
        flags.get_feature_flags(PROJECT, filter="colour:red")
    assert bad.value.data.code == "invalid_request"


def test_every_seeded_flag_reads_cleanly(client):
    flags = FeatureFlagsApi(client)
    for project in (PROJECT, "mobile-app"):
        for state in ("live", "deprecated", "archived"):
            listing = flags.get_feature_flags(project, env="production", filter=f"state:{state}", expand="evaluation")
            for item in listing.items:
                one = flags.get_feature_flag(project, item.key, expand="evaluation")
                assert one.key == item.key and set(one.environments) == {"production", "test"}
