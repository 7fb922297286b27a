import asyncio

import pytest
from shop.experiments import UpstreamError


def test_lists_keys_with_httpx(launchdarkly, mockserver):
    keys = launchdarkly.experiment_keys()
    assert "checkout-button-test" in keys
    mockserver.requests.assert_called_once(
        "GET", "getExperiments", query={"limit": 50}, headers={"Authorization": "api-consumer"}
    )


def test_fetches_several_at_once_with_async_httpx(launchdarkly, mockserver):
    keys = launchdarkly.experiment_keys()[:3]
    found = asyncio.run(launchdarkly.experiments(keys))
    assert sorted(found) == sorted(keys)
    mockserver.requests.assert_called("GET", "getExperiment", times=3, status=200)


def test_a_rate_limit_surfaces(launchdarkly, mockserver):
    mockserver.launchdarkly.rate_limit(2, window_seconds=60)
    keys = launchdarkly.experiment_keys()[:2]  # one request of the two allowed
    with pytest.raises(UpstreamError, match="rate limited"):
        asyncio.run(launchdarkly.experiments(keys))
