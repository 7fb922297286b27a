"""Shared fixtures: an in-process client and a live loopback server, both spec-checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mockserver.app import create_app
from mockserver.core.settings import Settings, build
from mockserver.server import MockServer
from tests.speccheck import FlaskClient, HttpClient

# A project of its own with its own pytest.ini, run in three modes by tests/plugin/test_consumer.py.
collect_ignore = ["consumer"]

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
PH_KEY = {"Authorization": "Bearer phx_test_key"}


def make_settings(**overrides) -> Settings:
    values = {"seed": 42, "now": NOW, "port": 0}
    values.update(overrides)
    return build(values)


@pytest.fixture
def app():
    return create_app(make_settings())


@pytest.fixture
def client(app) -> FlaskClient:
    """Flask test client with a PostHog key; every response checked against specs/."""
    return FlaskClient(app, PH_KEY)


@pytest.fixture(scope="session")
def live_server():
    with MockServer(make_settings()) as server:
        yield server


@pytest.fixture
def http(live_server) -> HttpClient:
    """Real HTTP on 127.0.0.1 against a shared server, reset before each test."""
    live_server.runtime.reset()
    return HttpClient(live_server.url, PH_KEY)


@pytest.fixture(params=["flask", "http"])
def api(request, app, live_server):
    """Both transports: each test using it runs through the test client and over loopback HTTP."""
    if request.param == "flask":
        return FlaskClient(app, PH_KEY)
    live_server.runtime.reset()
    return HttpClient(live_server.url, PH_KEY)


def pytest_configure(config) -> None:
    """One random fuzzing seed per run, chosen before xdist starts its workers so they all share it."""
    import os
    import random

    os.environ.setdefault("MOCKSERVER_FUZZ_SEED", str(random.SystemRandom().randrange(1, 2**31)))


def pytest_report_header(config) -> str:
    import os

    return f"fuzzing: random seed {os.environ['MOCKSERVER_FUZZ_SEED']} (replay with MOCKSERVER_FUZZ_SEED=<seed>)"
