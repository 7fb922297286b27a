"""The README's copy-paste examples run as written against a live server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def block_after(heading: str) -> str:
    text = README.read_text()
    start = text.index(heading)
    match = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    assert match, f"no bash block after {heading!r}"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_posthog_walkthrough(live_server):
    live_server.runtime.reset()
    script = block_after("### Walk-through: draft → launch → end → archive").replace(
        "http://127.0.0.1:8010", live_server.url
    )
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '"detail":"Experiment must be ended before it can be archived."' in out
    assert '"status":"running"' in out and '"status":"stopped"' in out
    assert '"archived":true' in out
    assert out.rstrip().endswith("405")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_launchdarkly_walkthrough(live_server):
    live_server.runtime.reset()
    script = block_after("### Walk-through: create → iteration → start → get → stop → archive").replace(
        "http://127.0.0.1:8010", live_server.url
    )
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '"key":"layout-test"' in out and '"status":"not_started"' in out
    assert "Stop the running iteration (stopIteration) before archiving the experiment" in out
    assert '"status":"stopped"' in out and '"archivedDate"' in out
    assert "}200\n" in out and "HTTP/1.1 429" in out
    live_server.runtime.reset()
