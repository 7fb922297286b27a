"""The README's pytest section: its snippets are quoted verbatim and pass as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.server import MockServer
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "tests" / "readme_examples"
SNIPPETS = (
    "example_pytest.py",
    "example_app_code.py",
    "example_module_state.py",
    "example_client.py",
    "example_transports.py",
)


def section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## pytest plugin")
    return text[start : text.index("\n## ", start + 1)]


@pytest.mark.parametrize("name", SNIPPETS)
def test_the_section_quotes_the_snippet(name):
    assert (EXAMPLES / name).read_text().strip() in section(), f"README does not quote tests/readme_examples/{name}"


@pytest.mark.parametrize("mode", [[], ["--mockserver-in-process"]])
def test_the_test_snippets_pass_in_each_mode(pytester: pytest.Pytester, mode):
    for name in SNIPPETS[:3]:
        pytester.makepyfile(**{f"test_{name.removesuffix('.py')}": (EXAMPLES / name).read_text()})
    pytester.runpytest("-p", "no:cacheprovider", *mode).assert_outcomes(passed=7)


def test_the_client_snippet_runs_against_a_server_with_a_token():
    with MockServer(make_settings(admin_token="readme-token")) as server:
        env = {**os.environ, "MOCKSERVER_URL": server.url, "MOCKSERVER_ADMIN_TOKEN": "readme-token"}
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / "example_client.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["42", "0", f"{server.url}/api/projects/1"]
        assert server.runtime.faults.list()[0]["operation_id"] == "experiments_retrieve"


def test_the_transports_snippet_runs_as_a_script():
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "example_transports.py")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
