"""The README's "Frontend development" part about the console: its picture exists, its example runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SNIPPET = Path(__file__).with_name("readme_specs.sh").read_text()


def test_readme_shows_the_console_picture_and_the_urls():
    assert "![The console's experiments view](docs/console.png)" in README
    assert (ROOT / "docs" / "console.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for url in ("`/__admin/ui`", "`/__admin/docs`", "http://127.0.0.1:8010/"):
        assert url in README


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_spec_download_example_runs(live_server, tmp_path):
    assert SNIPPET.strip() in README, "README does not quote tests/console/readme_specs.sh"
    script = SNIPPET.replace("http://127.0.0.1:8010", live_server.url)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["docs"] == "/__admin/docs"
    assert yaml.safe_load((tmp_path / "posthog.yaml").read_text())["servers"][0]["url"] == live_server.url
    assert json.loads((tmp_path / "launchdarkly.json").read_text())["openapi"].startswith("3.1")
    assert "/__admin/settings" in yaml.safe_load((tmp_path / "admin.yaml").read_text())["paths"]
