"""The app under test, pointed at whatever the mockserver fixture is in this run."""

from __future__ import annotations

import pytest
from shop.experiments import LaunchDarkly, PostHog


@pytest.fixture
def posthog(mockserver) -> PostHog:
    return PostHog(mockserver.url, "phx_consumer")


@pytest.fixture
def launchdarkly(mockserver) -> LaunchDarkly:
    return LaunchDarkly(mockserver.url, "api-consumer")
