"""GET /api/v2/flags/{projectKey}: filters, sort, pages and links, environments and summaries."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.launchdarkly.helpers import FLAGS, applied, create_flag

LIVE_DEFAULT = {
    "checkout-button-color",
    "new-onboarding-flow",
    "pricing-page-layout",
    "search-ranking-v2",
    "recommendations-widget",
    "dark-mode-default",
    "free-shipping-threshold",
}


def keys(client, query: str = "") -> list[str]:
    response = client.get(f"{FLAGS}?limit=100{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalCount"] == len(body["items"])
    return [item["key"] for item in body["items"]]


def test_default_listing_leaves_archived_out_and_shows_no_environments(ld_api):
    response = ld_api.get(FLAGS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {i["key"] for i in body["items"]} == LIVE_DEFAULT and body["totalCount"] == 7
    assert all("environments" not in item for item in body["items"])
    assert body["_links"] == {"self": {"href": "/api/v2/flags/default?limit=20&offset=0", "type": "application/json"}}
    first = body["items"][0]
    assert first["_links"]["self"]["href"] == f"/api/v2/flags/default/{first['key']}"
    created = [i["creationDate"] for i in body["items"]]
    assert created == sorted(created, reverse=True), "newest first by default"
    assert ld_api.get("/api/v2/flags/nope").status_code == 404


def test_environment_summaries_and_full_configurations(ld_api):
    summary = ld_api.get(f"{FLAGS}?env=test&filter=query:dark-mode").json()["items"][0]
    assert set(summary["environments"]) == {"test"}
    config = summary["environments"]["test"]
    assert not {"targets", "contextTargets", "rules", "prerequisites"} & set(config)
    assert config["_summary"]["variations"]["1"] == {
        "rules": 0,
        "nullRules": 0,
        "targets": 2,
        "contextTargets": 1,
    }
    assert config["_summary"]["variations"]["0"]["isFallthrough"] is True
    assert config["_summary"]["prerequisites"] == 0
    full = ld_api.get(f"{FLAGS}?env=test&env=production&summary=0&filter=query:dark-mode").json()["items"][0]
    assert set(full["environments"]) == {"test", "production"}
    assert full["environments"]["test"]["targets"][0]["values"] == ["qa-user-1", "qa-user-2"]
    assert "_summary" not in full["environments"]["test"]
    by_filter = ld_api.get(f"{FLAGS}?filter=filterEnv:production,query:dark-mode").json()["items"][0]
    assert set(by_filter["environments"]) == {"production"}
    rollout = ld_api.get(f"{FLAGS}?env=test&filter=query:free-shipping").json()["items"][0]
    assert rollout["environments"]["test"]["_summary"]["variations"]["1"]["rollout"] == 30000


def test_pages_and_links(ld_api):
    first = ld_api.get(f"{FLAGS}?limit=3&filter=state:live").json()
    assert first["totalCount"] == 7 and len(first["items"]) == 3
    links = first["_links"]
    assert set(links) == {"self", "next", "last"}
    assert links["next"]["href"] == "/api/v2/flags/default?filter=state%3Alive&limit=3&offset=3"
    assert links["last"]["href"] == "/api/v2/flags/default?filter=state%3Alive&limit=3&offset=6"
    middle = ld_api.get(f"{FLAGS}?limit=3&offset=3&filter=state:live").json()
    assert set(middle["_links"]) == {"self", "first", "prev", "next", "last"}
    assert middle["_links"]["prev"]["href"].endswith("offset=0")
    last = ld_api.get(f"{FLAGS}?limit=3&offset=6&filter=state:live").json()
    assert set(last["_links"]) == {"self", "first", "prev"} and len(last["items"]) == 1
    seen = [i["key"] for page in (first, middle, last) for i in page["items"]]
    assert len(seen) == len(set(seen)) == 7
    assert ld_api.get(f"{FLAGS}?limit=0").status_code == 400
    assert ld_api.get(f"{FLAGS}?offset=-1").status_code == 400


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("&filter=query:CHECKOUT", {"checkout-button-color"}),
        ("&filter=query:ranking", {"search-ranking-v2"}),
        ("&filter=tags:" + quote("checkout+pricing"), {"free-shipping-threshold"}),
        ("&filter=tags:checkout pricing", {"free-shipping-threshold"}),
        ("&tag=experiment", {"checkout-button-color", "search-ranking-v2", "recommendations-widget"}),
        ("&filter=type:permanent", {"free-shipping-threshold"}),
        ("&filter=state:archived", {"holiday-banner"}),
        ("&filter=archived:true", {"holiday-banner"}),
        ("&archived=true", {"holiday-banner"}),
        ("&filter=state:deprecated", set()),
        ("&filter=state:live", LIVE_DEFAULT),
        ("&filter=hasExperiment:true", LIVE_DEFAULT - {"dark-mode-default"}),
        ("&filter=hasExperiment:false", {"dark-mode-default"}),
        ("&filter=sdkAvailability:client", {"checkout-button-color"}),
        ("&filter=sdkAvailability:server", LIVE_DEFAULT - {"checkout-button-color"}),
        ("&filter=codeReferences.max:0", LIVE_DEFAULT),
        ("&filter=codeReferences.min:1", set()),
        ("&filter=guardedRollout:any", set()),
        ("&filter=applicationEvaluated:com.example.app", set()),
        ("&filter=releasePipeline:default", set()),
        ("&filter=query:e,type:temporary,state:live", LIVE_DEFAULT - {"free-shipping-threshold"}),
    ],
)
def test_filters(ld_api, query, expected):
    assert set(keys(ld_api, query)) == expected


def test_filters_on_dates_maintainers_and_evaluations(ld_api):
    rows = ld_api.get(f"{FLAGS}?limit=100").json()["items"]
    oldest = min(rows, key=lambda r: r["creationDate"])
    before = quote(json.dumps({"before": oldest["creationDate"] + 1}))
    assert keys(ld_api, f"&filter=creationDate:{before}") == [oldest["key"]]
    maintainer = rows[0]["maintainerId"]
    assert set(keys(ld_api, f"&filter=maintainerId:{maintainer}")) == LIVE_DEFAULT
    assert keys(ld_api, "&filter=maintainerTeamKey:nobody") == []
    recent = quote(json.dumps({"after": 1_000}))
    evaluated = set(keys(ld_api, f"&filter=evaluated:{recent},filterEnv:production"))
    assert evaluated == LIVE_DEFAULT
    future = quote(json.dumps({"after": 10**13}))
    assert keys(ld_api, f"&filter=evaluated:{future},filterEnv:production") == []
    assert set(keys(ld_api, "&filter=contextKindsEvaluated:user")) == LIVE_DEFAULT
    assert keys(ld_api, "&filter=contextKindsEvaluated:user+device") == []
    create_flag(ld_api, "never-asked")
    assert "never-asked" not in keys(ld_api, "&filter=contextKindsEvaluated:user,filterEnv:production")
    deprecated = ld_api.get("/api/v2/flags/mobile-app?filter=state:deprecated").json()["items"]
    assert [f["key"] for f in deprecated] == ["app-rating-request"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("filter=colour:red", "Unsupported filter field 'colour'"),
        ("filter=query", "each filter is field:value"),
        ("filter=state:gone", "state takes one of"),
        ("filter=hasExperiment:maybe", "true or false"),
        ("filter=creationDate:yesterday", "before"),
        ("filter=evaluated:" + quote('{"after": 1}'), "needs filterEnv"),
        ("filter=filterEnv:staging", "unknown environment 'staging'"),
        ("filter=codeReferences.min:some", "whole number"),
        ("filter=sdkAvailability:desktop", "sdkAvailability"),
        ("sort=colour", "Unsupported sort field 'colour'"),
        ("sort=targetingModifiedDate", "needs the env parameter"),
        ("sort=targetingModifiedDate,key&env=production", "cannot be combined"),
        ("expand=everything", "Unsupported expand"),
        ("compare=true", "compare is not available"),
    ],
)
def test_listing_refusals(ld_api, query, fragment):
    response = ld_api.get(f"{FLAGS}?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_request"
    assert fragment in response.json()["message"]


def test_sorting(ld_api):
    assert keys(ld_api, "&sort=key") == sorted(LIVE_DEFAULT)
    assert keys(ld_api, "&sort=-key") == sorted(LIVE_DEFAULT, reverse=True)
    by_name = ld_api.get(f"{FLAGS}?sort=name").json()["items"]
    assert [i["name"].lower() for i in by_name] == sorted(i["name"].lower() for i in by_name)
    by_type = keys(ld_api, "&sort=-type,key")
    assert by_type[0] != "free-shipping-threshold" and by_type[-1] == "free-shipping-threshold"
    by_date = ld_api.get(f"{FLAGS}?sort=creationDate").json()["items"]
    assert [i["creationDate"] for i in by_date] == sorted(i["creationDate"] for i in by_date)
    applied(ld_api, "pricing-page-layout", {"kind": "turnFlagOff"})
    modified = keys(ld_api, "&sort=-targetingModifiedDate&env=production")
    assert modified[0] == "pricing-page-layout"
    assert keys(ld_api, "&sort=tags")[:2] == ["checkout-button-color", "free-shipping-threshold"]


def test_new_flags_are_listed_first_and_expand_evaluation(ld_api):
    create_flag(ld_api, "brand-new")
    body = ld_api.get(f"{FLAGS}?limit=1").json()
    assert body["items"][0]["key"] == "brand-new" and body["totalCount"] == 8
    expanded = ld_api.get(f"{FLAGS}?env=production&expand=evaluation&filter=query:checkout").json()["items"][0]
    kinds = expanded["environments"]["production"]["evaluation"]["contextKinds"]
    assert kinds and kinds[0] == "user"
    fresh = ld_api.get(f"{FLAGS}?env=production&expand=evaluation&filter=query:brand-new").json()["items"][0]
    assert fresh["environments"]["production"]["evaluation"] == {"contextKinds": []}
