"""docker-compose.example.yml: its test runner runs a project's tests with the plugin against the
sidecar, with the token on both sides and the service name allowed as a Host."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import requests
import yaml

from tests.plugin.test_consumer import start_like_the_image

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN_VALUE = "compose-token"


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.example.yml").read_text())


def resolved(value: str) -> str:
    """Compose's ${NAME:-default} with NAME unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_the_runner_runs_tests_with_the_plugin_against_the_sidecar():
    services = compose()["services"]
    mock, runner = services["mockserver"], services["tests"]
    url = runner["environment"]["MOCKSERVER_URL"]
    host = urlsplit(url).hostname
    assert host == "mockserver" and host in services
    assert runner["depends_on"]["mockserver"]["condition"] == "service_healthy"
    # one token, on both sides, from the same variable
    assert runner["environment"]["MOCKSERVER_ADMIN_TOKEN"] == mock["environment"]["MOCKSERVER_ADMIN_TOKEN"]
    assert mock["environment"]["MOCKSERVER_ADMIN_TOKEN"].startswith("${MOCKSERVER_ADMIN_TOKEN")
    assert host in mock["environment"]["MOCKSERVER_ALLOWED_HOSTS"].split(",")
    command = runner["command"]
    assert "python -m pytest" in command
    workdir = Path(runner["working_dir"].replace("/app", str(ROOT), 1))
    assert (workdir / "pytest.ini").is_file() and list((workdir / "tests").glob("test_*.py"))
    copied = shlex.split(command.split("cp -r", 1)[1].split("&&", 1)[0])[:-1]
    for source in copied:
        assert (ROOT / source.removeprefix("/app/")).exists(), source
    dockerfile_copies = re.findall(r"^COPY (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert {c for c in dockerfile_copies} <= {Path(s).name for s in copied}


def test_the_sidecar_answers_its_service_name_with_the_token_only(tmp_path):
    environment = {k: resolved(str(v)) for k, v in compose()["services"]["mockserver"]["environment"].items()}
    environment["MOCKSERVER_ADMIN_TOKEN"] = TOKEN_VALUE
    as_runner = {"Host": "mockserver:8010", "X-Mockserver-Admin-Token": TOKEN_VALUE}
    with start_like_the_image(tmp_path, **environment) as url:
        assert requests.post(url + "/__admin/reset", json={}, headers=as_runner, timeout=5).status_code == 200
        no_token = requests.post(url + "/__admin/reset", json={}, headers={"Host": "mockserver:8010"}, timeout=5)
        assert no_token.status_code == 401
    without = {k: v for k, v in environment.items() if k != "MOCKSERVER_ALLOWED_HOSTS"}
    with start_like_the_image(tmp_path, **without) as url:
        refused = requests.post(url + "/__admin/reset", json={}, headers=as_runner, timeout=5)
        assert refused.status_code == 403 and "--allowed-hosts mockserver" in refused.text
