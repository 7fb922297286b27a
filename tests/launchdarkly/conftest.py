"""LaunchDarkly fixtures: clients that send `Authorization: <token>` (no Bearer). Helpers live in helpers.py."""

from __future__ import annotations

import pytest

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.launchdarkly.helpers import LD_KEY
from tests.speccheck import FlaskClient, HttpClient


@pytest.fixture
def ld(app) -> FlaskClient:
    return FlaskClient(app, LD_KEY)


@pytest.fixture
def ld_http(live_server) -> HttpClient:
    live_server.runtime.reset()
    return HttpClient(live_server.url, LD_KEY)


@pytest.fixture(params=["flask", "http"])
def ld_api(request, app, live_server):
    """Both transports: the test runs through the Flask test client and over loopback HTTP."""
    if request.param == "flask":
        return FlaskClient(app, LD_KEY)
    live_server.runtime.reset()
    return HttpClient(live_server.url, LD_KEY)


@pytest.fixture
def beta_client() -> FlaskClient:
    return FlaskClient(create_app(make_settings(launchdarkly_require_beta=True)), LD_KEY)
