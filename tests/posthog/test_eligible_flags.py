"""experiments/eligible_feature_flags/: the flags PostHog offers for a new experiment, and only those filters."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import P, assert_error
from tests.posthog.test_feature_flags import FLAG_FIELDS, GROUP, _variants

URL = f"{P}/experiments/eligible_feature_flags/"


def _keys(api, query=""):
    paged = query if "limit=" in query else f"limit=100&{query}"
    return [f["key"] for f in api.get(f"{URL}?{paged}").json()["results"]]


def _flag(api, key, multivariate=None, **fields):
    filters = {"groups": [GROUP], **({"multivariate": multivariate} if multivariate else {})}
    response = api.post(f"{P}/feature_flags/", json_body={"key": key, "filters": filters, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_control_must_be_the_first_of_two_or_more_variants(api):
    _flag(api, "control-first", _variants(("control", 50), ("test", 50)))
    _flag(api, "control-second", _variants(("test", 50), ("control", 50)))
    _flag(api, "control-alone", _variants(("control", 100)))
    _flag(api, "boolean")
    keys = _keys(api)
    assert "control-first" in keys and "new-pricing-table" in keys and "ai-summary-beta" in keys
    assert not {"control-second", "control-alone", "boolean", "dark-mode-default"} & set(keys)


def test_answers_full_flags_newest_first_deleted_ones_included(api):
    flag = _flag(api, "gone", _variants(("control", 50), ("test", 50)))
    api.patch(f"{P}/feature_flags/{flag['id']}/", json_body={"deleted": True})
    body = api.get(URL).json()
    assert set(body) == {"results", "count"} and body["count"] == 19 and len(body["results"]) == 19
    assert body["results"][0]["key"] == "gone" and body["results"][0]["deleted"] is True  # PostHog does not skip them
    assert set(body["results"][0]) == FLAG_FIELDS
    stamps = [f["created_at"] for f in body["results"]]
    assert stamps == sorted(stamps, reverse=True)


def test_paging(api):
    everything = _keys(api, "order=key")
    assert api.get(URL).json()["count"] == len(everything) == 18 and len(api.get(URL).json()["results"]) == 18
    assert _keys(api, "order=key&limit=2&offset=3") == everything[3:5]
    assert api.get(f"{URL}?limit=0").json() == {"results": [], "count": 18}
    assert _keys(api, "order=key&offset=-4") == everything  # a negative offset counts as 0
    assert len(api.get(f"{URL}?limit=5000").json()["results"]) == 18  # capped at 100


def test_orders(api):
    assert _keys(api, "order=key") == sorted(_keys(api, "order=key"))
    names = [f["name"] for f in api.get(f"{URL}?limit=100&order=-name").json()["results"]]
    assert names == sorted(names, reverse=True)
    assert_error(api.get(f"{URL}?order=bogus"), 400, "Invalid order field: 'bogus'", "invalid_input", None)
    assert_error(api.get(f"{URL}?order=-id"), 400, "Invalid order field: '-id'")


def test_filters(api):
    every = api.get(f"{URL}?limit=100").json()["results"]
    pricing = {f["key"] for f in every if "pricing" in f["key"] or "pricing" in f["name"].lower()}
    assert pricing and set(_keys(api, "search=PRICING")) == pricing  # key or name, any case
    inactive = _keys(api, "active=false")
    assert (
        inactive
        and set(inactive) == set(_keys(api, "active=anything"))
        and not set(inactive) & set(_keys(api, "active=true"))
    )
    assert set(_keys(api, "created_by_id=1")) < set(_keys(api))
    assert _keys(api, "evaluation_runtime=server") == []
    assert _keys(api, "evaluation_runtime=all") == _keys(api)
    assert _keys(api, "has_evaluation_contexts=true") == []
    assert _keys(api, "has_evaluation_contexts=no") == _keys(api)
    flag = _flag(api, "scoped", _variants(("control", 50), ("test", 50)), evaluation_contexts=["production"])
    assert _keys(api, "has_evaluation_contexts=1") == [flag["key"]]
    assert _keys(api, "has_evaluation_contexts=false") == [k for k in _keys(api) if k != "scoped"]
    assert [f["key"] for f in api.get("/api/projects/2/experiments/eligible_feature_flags/").json()["results"]] == [
        "onboarding-video-length",
        "mobile-onboarding-v2",
    ]


@pytest.mark.parametrize("query", ["created_by_id=abc", "limit=-1", "offset=1.5"])
def test_values_that_are_not_numbers(api, query):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 400
