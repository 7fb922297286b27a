"""./dev with stand-in interpreters: what it installs for serving and for testing, what it says on
a first run, and that a .venv made by another Python version is rebuilt."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

FAKE_PYTHON = r"""#!/usr/bin/env bash
# A stand-in interpreter: reports its version, makes venvs of itself, logs pip and pytest calls.
V=@VERSION@
LOG=@LOG@
here="$(cd "$(dirname "$0")" && pwd)"
case "$1" in
    -c) echo "$V" ;;
    -m)
        case "$2" in
            venv)
                mkdir -p "$3/bin"
                sed "s/^V=.*/V=$V/" "$0" > "$3/bin/python"
                chmod +x "$3/bin/python"
                echo "venv $V" >> "$LOG"
                ;;
            pip)
                shift 2
                echo "pip $*" >> "$LOG"
                if [[ "$*" == *" -e "* ]]; then
                    printf '#!/bin/sh\necho "mockserver $*"\n' > "$here/mockserver"
                    printf '#!/bin/sh\necho "ruff $*" >> %s\n' "$LOG" > "$here/ruff"
                    chmod +x "$here/mockserver" "$here/ruff"
                fi
                ;;
            pytest) shift 2; echo "pytest $*" >> "$LOG" ;;
        esac
        ;;
esac
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if shutil.which("bash") is None or shutil.which("sha256sum") is None:
        pytest.skip("needs bash and sha256sum")
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / "interpreters"
    bin_dir.mkdir()
    for version in ("3.10", "3.12", "3.13"):
        path = bin_dir / f"python{version}"
        path.write_text(FAKE_PYTHON.replace("@VERSION@", version).replace("@LOG@", str(tmp_path / "log")))
        path.chmod(0o755)
    return tmp_path


def dev(project: Path, *args: str, python: str = "python3.12") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": str(project / "interpreters" / python)}
    return subprocess.run(
        ["bash", str(project / "dev"), *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def log(project: Path) -> list[str]:
    path = project / "log"
    lines = path.read_text().splitlines() if path.exists() else []
    path.write_text("")
    return lines


def test_serve_installs_only_what_serving_needs_and_says_so(project):
    first = dev(project, "serve", "--port", "8011")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "mockserver serve --port 8011"
    assert "dev: creating .venv with" in first.stderr and "(3.12)" in first.stderr
    assert "dev: installing mockserver into .venv" in first.stderr
    calls = log(project)
    assert "pip install --quiet -e ." in calls and not any("[test]" in c for c in calls)
    again = dev(project, "serve")
    assert again.returncode == 0 and again.stderr == "" and log(project) == []  # nothing to do


def test_test_adds_the_test_tools_once(project):
    dev(project, "serve")
    log(project)
    first = dev(project, "test", "-x")
    assert first.returncode == 0, first.stderr
    assert "installing mockserver and its test tools" in first.stderr
    calls = log(project)
    assert "pip install --quiet -e .[test]" in calls
    assert calls[-2:] == ["ruff check mockserver tests benchmarks", "pytest -q -x"]
    assert dev(project, "serve").stderr == ""  # the test install covers serving


def test_a_venv_of_another_python_is_rebuilt(project):
    dev(project, "serve")
    log(project)
    other = dev(project, "serve", python="python3.13")
    assert other.returncode == 0, other.stderr
    assert "dev: .venv was made by Python 3.12, " in other.stderr and "is 3.13: rebuilding it" in other.stderr
    assert log(project)[0] == "venv 3.13"


def test_an_old_python_is_refused_with_the_way_out(project):
    old = dev(project, "serve", python="python3.10")
    assert old.returncode == 2
    assert "needs 3.11 or newer (run with PYTHON=python3.11)" in old.stderr
    assert not (project / ".venv").exists()
    missing = dev(project, "serve", python="python9")
    assert missing.returncode == 2 and "PYTHON=/path/to/python3.11" in missing.stderr


def test_usage_mentions_python(project):
    usage = dev(project)
    assert usage.returncode == 2 and "PYTHON=" in usage.stderr
