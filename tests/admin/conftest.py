"""Control-API fixtures: spec-checked clients (admin.yaml included) on fresh apps and servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.app import create_app
from mockserver.server import MockServer
from tests.conftest import PH_KEY, make_settings
from tests.speccheck import FlaskClient, HttpClient

LD_KEY = {"Authorization": "api-admin-tests"}


@pytest.fixture
def make_client():
    """A spec-checked test client on a fresh app built with these settings."""

    def make(headers: dict[str, str] | None = None, **settings) -> FlaskClient:
        return FlaskClient(create_app(make_settings(**settings)), PH_KEY if headers is None else headers)

    return make


@pytest.fixture
def own_server() -> Iterator:
    """A private live server (its faults and journal do not leak into the shared one)."""
    servers: list[MockServer] = []

    def start(headers: dict[str, str] | None = None, **settings) -> tuple[MockServer, HttpClient]:
        server = MockServer(make_settings(**settings)).start()
        servers.append(server)
        return server, HttpClient(server.url, PH_KEY if headers is None else headers)

    yield start
    for server in servers:
        server.stop()
