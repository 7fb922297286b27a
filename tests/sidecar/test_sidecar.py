"""The Docker sidecar without Docker: the image's exact command, from a non-editable install.

The Dockerfile is parsed for its ENV, CMD and HEALTHCHECK; the wheel is installed into a private
directory and the CMD is started from an empty working directory on a free port (werkzeug's
``dev_server`` pattern), with MOCKSERVER_* variables as the container would get them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
PH = {"Authorization": "Bearer phx_sidecar"}


def dockerfile() -> dict[str, object]:
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    env: dict[str, str] = {}
    cmd: list[str] = []
    health: list[str] = []
    runs_as_user: list[str] = []
    user = None
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("USER "):
            user = line[5:].strip()
        elif line.startswith("RUN ") and user is not None:
            runs_as_user.append(line[4:])
        elif line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
        elif line.startswith("CMD "):
            cmd = json.loads(line[4:])
        elif line.startswith("HEALTHCHECK "):
            health = json.loads(line.split(" CMD ", 1)[1])
    return {"env": env, "cmd": cmd, "health": health, "text": text, "runs_as_user": runs_as_user}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """``pip install .`` as the image does, into a private target directory."""
    base = tmp_path_factory.mktemp("sidecar-install")
    wheels, site = base / "wheels", base / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("mockserver-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return site


@dataclass
class Sidecar:
    proc: subprocess.Popen
    url: str
    env: dict[str, str]

    def output(self) -> str:
        self.proc.wait(timeout=10)
        return self.proc.stdout.read() if self.proc.stdout else ""


@pytest.fixture
def sidecar(installed, tmp_path) -> Iterator:
    spec = dockerfile()
    procs: list[subprocess.Popen] = []

    def environment(port: int, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
        env.update(spec["env"])  # type: ignore[arg-type]
        env.update(MOCKSERVER_HOST="127.0.0.1", MOCKSERVER_PORT=str(port), PYTHONPATH=str(installed))
        env.update(overrides)
        return env

    def start(wait: bool = True, **overrides: str) -> Sidecar:
        port = free_port()
        env = environment(port, **overrides)
        cmd = list(spec["cmd"])  # type: ignore[arg-type]
        assert cmd[0] == "mockserver"
        argv = [str(installed / "bin" / "mockserver"), *cmd[1:]]
        proc = subprocess.Popen(
            argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        procs.append(proc)
        car = Sidecar(proc, f"http://127.0.0.1:{port}", env)
        if wait:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise AssertionError(f"sidecar exited early:\n{car.output()}")
                try:
                    if requests.get(car.url + "/__admin/health", timeout=1).status_code == 200:
                        return car
                except requests.RequestException:
                    time.sleep(0.05)
            raise AssertionError("sidecar did not become healthy")
        return car

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def test_the_image_runs_waitress_from_the_installed_package(sidecar, installed):
    car = sidecar()
    health = requests.get(car.url + "/__admin/health").json()
    assert health["status"] == "ok" and health["seed"] == 42
    assert set(health["vendors"]) == {"posthog", "launchdarkly"}
    response = requests.get(car.url + "/api/projects/1/experiments/", headers=PH)
    assert response.status_code == 200 and response.json()["count"] == 12
    assert response.headers["Server"] == "mockserver"  # waitress's ident; werkzeug would say Werkzeug/…
    fixtures = {f["name"] for f in requests.get(car.url + "/__admin/fixtures").json()["fixtures"]}
    assert {"demo", "empty", "approval-required", "running-experiments"} <= fixtures
    where = subprocess.run(
        [sys.executable, "-c", "import mockserver; print(mockserver.__file__)"],
        env=car.env,
        capture_output=True,
        text=True,
        cwd=installed.parent,
        check=True,
    ).stdout
    assert where.startswith(str(installed))


def test_the_image_warms_the_start_up_cache_for_its_user(installed, tmp_path):
    """The build step run as the image's user fills its cache; the sidecar then starts from it."""
    (step,) = dockerfile()["runs_as_user"]
    argv = shlex.split(step)
    assert argv[0] == "python"
    home = tmp_path / "data"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKSERVER_", "XDG_"))}
    env.update(HOME=str(home), PYTHONPATH=str(installed))
    subprocess.run([sys.executable, *argv[1:]], env=env, cwd=home, check=True, capture_output=True, timeout=120)
    cache = home / ".cache" / "mockserver"
    assert {p.name.split("-")[0] for p in (cache / "specs").glob("*.marshal")} >= {"posthog", "launchdarkly", "admin"}
    assert {p.name.split("-")[0] for p in (cache / "seeds").glob("*.marshal")} == {"posthog", "launchdarkly"}
    code = "import sys\nfrom mockserver.app import create_app\ncreate_app()\nprint('faker' in sys.modules)\n"
    started = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=home, capture_output=True, text=True, timeout=120
    )
    assert started.stdout.split() == ["False"], started.stderr[-2000:]


def test_dockerfile_is_a_slim_non_root_image_with_a_healthcheck():
    spec = dockerfile()
    text = spec["text"]
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)
    assert re.search(r"^USER (?!root)\S+$", text, re.M)
    assert spec["env"]["MOCKSERVER_HOST"] == "0.0.0.0"
    assert spec["cmd"] == ["mockserver", "serve"]
    assert "/__admin/health" in " ".join(spec["health"])


def test_the_healthcheck_command_passes_while_up_and_fails_when_down(sidecar):
    car = sidecar()
    health = dockerfile()["health"]
    ok = subprocess.run(health, env=car.env, capture_output=True, timeout=10)
    assert ok.returncode == 0, ok.stderr
    car.proc.send_signal(signal.SIGTERM)
    car.proc.wait(timeout=10)
    down = subprocess.run(health, env=car.env, capture_output=True, timeout=10)
    assert down.returncode != 0


def test_sigterm_exits_cleanly(sidecar):
    car = sidecar()
    assert requests.get(car.url + "/api/projects/1/experiments/4/", headers=PH).status_code == 200
    car.proc.send_signal(signal.SIGTERM)
    assert car.proc.wait(timeout=10) == 0
    out = car.output()
    assert "listening on http://127.0.0.1:" in out and "mockserver stopped" in out
    assert "Traceback" not in out


def test_every_setting_comes_from_mockserver_variables(sidecar):
    car = sidecar(
        MOCKSERVER_SEED="9",
        MOCKSERVER_FIXTURE="empty",
        MOCKSERVER_LATENCY="100-120",
        MOCKSERVER_NO_AUTH="true",
        MOCKSERVER_JOURNAL_SIZE="2",
        MOCKSERVER_CORS_ORIGINS="http://app.test",
        MOCKSERVER_THREADS="2",
    )
    assert requests.get(car.url + "/__admin/health").json()["seed"] == 9
    started = time.monotonic()
    listed = requests.get(car.url + "/api/projects/1/experiments/", headers={"Origin": "http://app.test"})
    assert time.monotonic() - started >= 0.1
    assert listed.status_code == 200 and listed.json()["count"] == 0  # fixture empty, no key needed
    assert listed.headers["Access-Control-Allow-Origin"] == "http://app.test"
    for _ in range(3):
        requests.get(car.url + "/api/projects/1/experiments/")
    journal = requests.get(car.url + "/__admin/requests").json()
    assert journal["capacity"] == 2 and journal["dropped"] == 2


def test_a_bad_setting_stops_with_a_clear_message(sidecar):
    car = sidecar(wait=False, MOCKSERVER_FIXTURE="nope")
    assert car.proc.wait(timeout=20) == 2
    assert "no fixture named 'nope'" in car.output()


def test_a_killed_sidecar_restarts_with_its_last_completed_write(sidecar, tmp_path):
    state = tmp_path / "data" / "state.json"
    car = sidecar(MOCKSERVER_STATE_FILE=str(state))
    created = requests.post(
        car.url + "/api/projects/1/experiments/",
        headers=PH,
        json={"name": "Outlives kill -9", "feature_flag_key": "kill-9"},
    )
    assert created.status_code == 201
    exp_id = created.json()["id"]
    launched = requests.post(f"{car.url}/api/projects/1/experiments/{exp_id}/launch/", headers=PH)
    assert launched.status_code == 200
    car.proc.send_signal(signal.SIGKILL)
    car.proc.wait(timeout=10)
    again = sidecar(MOCKSERVER_STATE_FILE=str(state))
    got = requests.get(f"{again.url}/api/projects/1/experiments/{exp_id}/", headers=PH)
    assert got.status_code == 200 and got.json()["status"] == "running"


def test_drop_connection_under_waitress(sidecar):
    car = sidecar()
    rule = requests.post(
        car.url + "/__admin/faults", json={"operation_id": "experiments_retrieve", "drop_connection": True, "times": 1}
    )
    assert rule.status_code == 201
    with pytest.raises(requests.ConnectionError):
        requests.get(car.url + "/api/projects/1/experiments/4/", headers=PH, timeout=5)
    assert requests.get(car.url + "/api/projects/1/experiments/4/", headers=PH).status_code == 200


def test_compose_example_waits_for_a_healthy_mock():
    compose = yaml.safe_load((ROOT / "docker-compose.example.yml").read_text())
    mock, runner = compose["services"]["mockserver"], compose["services"]["tests"]
    assert mock["build"] == "."
    assert "/__admin/health" in " ".join(mock["healthcheck"]["test"])
    assert runner["depends_on"]["mockserver"]["condition"] == "service_healthy"
    assert all(key.startswith("MOCKSERVER_") for key in mock["environment"])
