"""The README's control-API, frontend, sidecar and state-file examples, run as written.

The snippets live in tests/readme_examples/ and the README quotes them verbatim (checked below
once the README has the sections). Only the address changes: 127.0.0.1:8010 becomes a free port.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "tests" / "readme_examples"
ADDRESS = "http://127.0.0.1:8010"
pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(script: str, cwd: Path, port: int | None = None, url: str | None = None) -> str:
    """Run a snippet with bash; a server it starts in the background is stopped afterwards."""
    port = port or free_port()
    script = script.replace(ADDRESS, url or f"http://127.0.0.1:{port}")
    if "&\n" in script:
        script += "\nkill %1\nwait %1 || true\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    env.update(MOCKSERVER_PORT=str(port), PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def json_values(out: str) -> list:
    """Every JSON object printed (curl adds no newlines between bodies)."""
    decoder, values, index = json.JSONDecoder(), [], out.find("{")
    while index != -1:
        value, end = decoder.raw_decode(out, index)
        values.append(value)
        index = out.find("{", end)
    return values


def test_control_api_example(own_server, tmp_path):
    server, _client = own_server()
    out = run((EXAMPLES / "control_api.sh").read_text(), tmp_path, url=server.url)
    fault = json_values(out)[0]
    assert fault["status"] == 503 and fault["times"] == 1 and fault["fired"] == 0
    assert "}503\n200\n" in out
    assert '"operation_id":"experiments_retrieve"' in out and '"total":1' in out
    assert '{"now":"2030-01-01T00:00:00Z","frozen":true}' in out
    assert '{"now":"2030-01-15T00:00:00Z","frozen":true}' in out
    assert '"fixture":"approval-required"' in out
    assert out.count('"status":"loaded"') == 2
    assert out.rstrip().endswith('{"status":"reset","seed":42}')
    saved = json.loads((tmp_path / "saved-state.json").read_text())
    assert saved["format"] == "mockserver/state@1"


def test_frontend_example(tmp_path):
    out = run((EXAMPLES / "frontend.sh").read_text(), tmp_path)
    head = out[out.index("HTTP/1.1 ") : out.index("\n\n")]  # text mode turned \r\n into \n
    assert head.startswith("HTTP/1.1 200")
    assert "Access-Control-Allow-Origin: http://localhost:5173" in head
    (created,) = json_values(out)
    assert created["name"] == "From the browser" and created["status"] == "draft"


def test_sidecar_example(own_server, tmp_path):
    server, _client = own_server()
    out = run((EXAMPLES / "sidecar.sh").read_text(), tmp_path, url=server.url)
    health, listed = json_values(out)
    assert health["status"] == "ok"
    assert listed["count"] == 12


def test_state_file_example(tmp_path):
    script = (EXAMPLES / "state_file.sh").read_text()
    out = run(script, tmp_path)
    assert json_values(out)[0]["status"] == "paused"
    with sqlite3.connect(tmp_path / "mock-state.db") as db:
        (flag,) = db.execute("SELECT value FROM rows WHERE part = 'posthog' AND tbl = 'flags' AND key = '8'").fetchone()
    assert json.loads(flag)["active"] is False
    again = run(script.replace("/pause/", "/resume/"), tmp_path)  # restarts from the file: still paused
    assert json_values(again)[0]["status"] == "running"


def test_custom_fixture_example(make_client):
    from mockserver.app import create_app

    client = make_client()
    doc = json.loads((EXAMPLES / "my-scenario.json").read_text())
    assert client.put("/__admin/state", json_body=doc).json()["description"] == doc["description"]
    assert client.get("/api/projects/1/experiments/").json()["count"] == 0
    assert client.get("/__admin/clock").json() == {"now": "2026-06-01T09:00:00Z", "frozen": True}
    app = create_app(make_settings(fixture=str(EXAMPLES / "my-scenario.json")))
    assert app.extensions["mockserver"].store.data["posthog"]["approval_policies"]["1"]["quorum"] == 2


def test_readme_quotes_the_examples_verbatim():
    readme = ROOT / "README.md"
    text = readme.read_text() if readme.is_file() else ""
    if "## pytest plugin" not in text:
        pytest.skip("README has no pytest-plugin section yet")
    for name in (
        "example_pytest.py",
        "control_api.sh",
        "frontend.sh",
        "sidecar.sh",
        "state_file.sh",
        "my-scenario.json",
    ):
        assert (EXAMPLES / name).read_text().strip() in text, f"README does not quote tests/readme_examples/{name}"
