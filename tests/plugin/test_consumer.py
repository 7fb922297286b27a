"""A consumer project (tests/consumer: its own app and tests) passes unchanged in every mode: in
process, against a local server the plugin starts, and against a server started the way the
Docker image starts it (its CMD and ENV, bound to 0.0.0.0 with an admin token) via --mockserver-url."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.sidecar.test_sidecar import dockerfile, free_port

CONSUMER = Path(__file__).resolve().parent.parent / "consumer"
TOKEN = "consumer-ci-token"
TIMEOUT = 240  # seconds for one run of the consumer's suite


def run_consumer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKSERVER_", "PYTEST_"))}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=CONSUMER,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def passed(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    return summary


@contextlib.contextmanager
def start_like_the_image(cwd: Path, **overrides: str) -> Iterator[str]:
    """The Dockerfile's CMD with its ENV, MOCKSERVER_HOST=0.0.0.0 and a token, on a free port;
    reached on 127.0.0.1 (an IP literal, which a wildcard-bound server accepts)."""
    spec = dockerfile()
    cmd = list(spec["cmd"])  # type: ignore[arg-type]
    executable = shutil.which(cmd[0], path=str(Path(sys.executable).parent)) or shutil.which(cmd[0])
    assert executable, f"{cmd[0]} is not installed"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    env.update(spec["env"])  # type: ignore[arg-type]
    env.update(MOCKSERVER_HOST="0.0.0.0", MOCKSERVER_ADMIN_TOKEN=TOKEN)
    env.update(overrides)
    env["MOCKSERVER_PORT"] = str(port)
    proc = subprocess.Popen(
        [executable, *cmd[1:]], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "the server exited"
            try:
                if requests.get(url + "/__admin/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def image_like_server(tmp_path) -> Iterator[str]:
    with start_like_the_image(tmp_path) as url:
        yield url


def test_in_process():
    passed(run_consumer("--mockserver-in-process"))


def test_against_a_local_server():
    passed(run_consumer())


def test_against_the_image_command_with_a_token(image_like_server):
    refused = run_consumer("--mockserver-url", image_like_server)
    assert refused.returncode != 0 and "pass its token with --mockserver-admin-token" in refused.stdout
    summary = passed(run_consumer(env={"MOCKSERVER_URL": image_like_server, "MOCKSERVER_ADMIN_TOKEN": TOKEN}))
    in_process = passed(run_consumer("--mockserver-in-process"))
    assert summary.split(" passed")[0] == in_process.split(" passed")[0]  # the same tests, all of them
