"""MockServer without pytest: a real socket in a thread, configured like the CLI."""

from __future__ import annotations

import pytest
import requests

from mockserver.server import MockServer


def test_with_mockserver_seed_gives_a_url():
    with MockServer(seed=1) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert requests.get(server.url + "/__admin/health", timeout=5).json()["seed"] == 1
    assert server._server is None


def test_mockserver_takes_any_setting(tmp_path):
    state = tmp_path / "state.json"
    with MockServer(fixture="empty", state_file=str(state), no_auth=True) as server:
        listed = requests.get(server.url + "/api/projects/1/experiments/", timeout=5)
        assert listed.status_code == 200 and listed.json()["count"] == 0
    assert state.is_file()


def test_one_state_file_is_held_by_one_server_until_it_stops(tmp_path):
    state = str(tmp_path / "state.sqlite")
    with MockServer(state_file=state) as first:
        with pytest.raises(OSError, match="in use by another mockserver"):
            MockServer(state_file=state)
        assert first.runtime.state_file is not None
    with MockServer(state_file=state) as again:  # let go at stop
        assert again.url.startswith("http://127.0.0.1:")


def test_a_start_that_fails_on_its_tls_files_lets_the_state_file_go(tmp_path):
    state = str(tmp_path / "state.sqlite")
    with pytest.raises(ValueError):
        MockServer(state_file=state, tls_cert=str(tmp_path / "missing.pem"), tls_key=str(tmp_path / "missing.key"))
    with MockServer(state_file=state) as again:  # not held until a garbage collection
        assert again.url.startswith("http://127.0.0.1:")
