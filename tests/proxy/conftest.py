"""A second instance of this server on loopback stands in for the real vendors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockserver.server import MockServer
from tests.conftest import make_settings

PH_REAL = "phx_real_user_key"
LD_REAL = "api-real-user-key"
PH = {"Authorization": f"Bearer {PH_REAL}"}
LD = {"Authorization": LD_REAL}


@pytest.fixture
def upstream() -> Iterator[MockServer]:
    """The "vendor": another seed (so its answers differ from the proxy's own), strict about keys."""
    with MockServer(make_settings(seed=7, strict_auth=True)) as server:
        grants = (("posthog", PH_REAL, {"scopes": ["*"]}), ("launchdarkly", LD_REAL, {"role": "admin"}))
        for vendor, key, grant in grants:
            body = {"vendor": vendor, "key": key, **grant}
            reply = requests.post(f"{server.url}/__admin/api-keys", json=body, timeout=10)
            assert reply.status_code == 201, reply.text
        yield server


def proxy_for(upstream: MockServer, **settings) -> MockServer:
    target = f"posthog={upstream.url},launchdarkly={upstream.url}"
    return MockServer(make_settings(upstream=target, **settings))


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return tmp_path / "recorded.json"


@pytest.fixture
def proxy(upstream: MockServer, recording: Path) -> Iterator[MockServer]:
    with proxy_for(upstream, record=str(recording)) as server:
        yield server


def upstream_paths(server: MockServer) -> list[str]:
    return [e["path"] for e in server.runtime.journal.entries()]
