"""The `mockserver serve` command as a user runs it: a real process on a free port."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from mockserver.cli import _parser, settings_from


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 15) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if requests.get(url + "/__admin/health", timeout=0.5).status_code == 200:
                return time.monotonic() - start
        except requests.ConnectionError:
            time.sleep(0.02)
    raise AssertionError("server did not become healthy")


@pytest.fixture
def serve():
    procs = []

    def start(*args: str, env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen]:
        port = free_port()
        full_env = {**os.environ, **(env or {})}
        if not any(a == "--port" for a in args) and "MOCKSERVER_PORT" not in (env or {}):
            args = (*args, "--port", str(port))
        else:
            port = int(args[args.index("--port") + 1]) if "--port" in args else int(env["MOCKSERVER_PORT"])
        proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", *args],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        return f"http://127.0.0.1:{port}", proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def test_serve_answers_and_stops_on_sigterm(serve):
    url, proc = serve("--seed", "42", "--now", "2026-11-20T12:00:00Z")
    wait_healthy(url, proc, timeout=60)  # the start-up time itself is measured in benchmarks/
    health = requests.get(url + "/__admin/health").json()
    assert health["status"] == "ok" and health["seed"] == 42
    listed = requests.get(url + "/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_x"})
    assert listed.status_code == 200 and listed.json()["count"] >= 12
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_environment_variables_configure_the_server(serve):
    port = free_port()
    url, proc = serve(env={"MOCKSERVER_PORT": str(port), "MOCKSERVER_SEED": "9", "MOCKSERVER_HOST": "127.0.0.1"})
    wait_healthy(url, proc)
    assert requests.get(url + "/__admin/health").json()["seed"] == 9


def test_flags_override_environment():
    args = _parser().parse_args(["serve", "--seed", "3", "--response-validation", "warn", "--strict-auth"])
    settings = settings_from(args, {"MOCKSERVER_SEED": "5", "MOCKSERVER_PORT": "9000"})
    assert (settings.seed, settings.port, settings.response_validation, settings.strict_auth) == (3, 9000, "warn", True)
    assert settings.host == "127.0.0.1"


def test_bad_settings_exit_with_a_message():
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "70000"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "port" in result.stderr


@pytest.mark.parametrize(
    ("variable", "raw", "words"),
    [
        ("MOCKSERVER_LOG_LEVEL", "bogus", "log level"),
        ("MOCKSERVER_STRICT_AUTH", "maybe", "MOCKSERVER_STRICT_AUTH"),
        ("MOCKSERVER_SEED", "-1", "seed must be between 0 and 9223372036854775807"),
    ],
)
def test_bad_variables_exit_with_a_one_line_message(variable, raw, words):
    env = {**os.environ, variable: raw}
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr


def test_routes_and_check_commands():
    routes = subprocess.run([sys.executable, "-m", "mockserver", "routes"], capture_output=True, text=True, timeout=60)
    assert routes.returncode == 0
    assert re.search(
        r"POST +/api/{scope}/{project_id}/experiments/{id}/launch/ +posthog +experiments_launch_create", routes.stdout
    )
    assert re.search(r"GET +/__admin/health +admin +health", routes.stdout)
    check = subprocess.run([sys.executable, "-m", "mockserver", "check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "ok  posthog.yaml" in check.stdout


def test_version_and_a_listing_cut_short_by_its_reader():
    from mockserver.version import __version__

    version = subprocess.run(
        [sys.executable, "-m", "mockserver", "--version"], capture_output=True, text=True, timeout=30
    )
    assert version.returncode == 0 and version.stdout.strip() == f"mockserver {__version__}"
    for command in ("routes", "fixtures"):
        piped = subprocess.run(
            f"{sys.executable} -m mockserver {command} | head -1",
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert piped.stdout.count("\n") == 1 and "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr


def test_serve_on_a_busy_port_exits_2_with_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == f"mockserver: cannot listen on 127.0.0.1:{port}: the port is in use"


def _serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", *args], capture_output=True, text=True, timeout=60
    )


def test_a_failed_start_says_one_line_and_leaves_the_state_file_alone(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = _serve("--port", port, "--state-file", str(tmp_path / "new.sqlite"))
        assert busy.returncode == 2 and "the port is in use" in busy.stderr
        assert not (tmp_path / "new.sqlite").exists()  # nothing was created before the port was known busy
        tls = _serve("--port", port, "--tls", "self-signed", "--tls-dir", str(tmp_path / "tls"))
        assert (
            tls.returncode == 2
            and tls.stderr.strip() == f"mockserver: cannot listen on 127.0.0.1:{port}: the port is in use"
        )
    (tmp_path / "dir").mkdir()
    (tmp_path / "torn.sqlite").write_bytes(b"SQLite format 3\x00garbage")
    for name, said in (("dir", "cannot be used"), ("torn.sqlite", "file is not a database")):
        result = _serve("--port", str(free_port()), "--state-file", str(tmp_path / name))
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_a_host_that_is_no_address_exits_2_with_one_line():
    bad = _serve("--host", "256.1.1.1", "--port", str(free_port()))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1, bad.stderr
    assert "cannot listen on 256.1.1.1:" in bad.stderr and "not an address" in bad.stderr
    empty = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MOCKSERVER_HOST": ""},
    )
    assert empty.returncode == 2 and "host must be an address or a name, not empty" in empty.stderr


def test_the_connection_limit_counts_client_connections_only():
    """waitress counts its own listening socket and wake-up pipe: --connection-limit 1 served nothing."""
    port = free_port()
    proc = _started("--port", str(port), "--connection-limit", "1")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        with requests.Session() as session:  # one keep-alive connection, used again and again
            assert all(session.get(f"{url}/__admin/health", timeout=5).ok for _ in range(3))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_https_prints_the_same_banner_and_closes_stalled_connections(tmp_path):
    import ssl

    port = free_port()
    proc = _started(
        "--port", str(port), "--tls", "self-signed", "--tls-dir", str(tmp_path), "--admin-token", "tk",
        "--channel-timeout", "2",
    )  # fmt: skip
    try:
        lines = []
        while proc.stdout is not None and not any("trust this CA" in line for line in lines):
            lines.append(proc.stdout.readline())
        banner = "".join(lines)
        assert f"mockserver listening on https://127.0.0.1:{port} (seed 42)" in banner
        assert f"control:  https://127.0.0.1:{port}/__admin (admin token required)" in banner
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        raw = socket.create_connection(("127.0.0.1", port), timeout=15)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            started = time.monotonic()
            answer = tls.recv(100)
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 8  # not cheroot's 10 s
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _started(*args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "mockserver", "serve", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_one_state_file_serves_one_server_and_a_clean_stop_leaves_it_whole(tmp_path):
    state = tmp_path / "state.sqlite"
    port = free_port()
    first = _started("--port", str(port), "--state-file", str(state), "--seed", "7")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, first)
        second = _serve("--port", str(free_port()), "--state-file", str(state))
        assert second.returncode == 2 and "in use by another mockserver (one state file, one server)" in second.stderr
        created = requests.post(
            f"{url}/api/projects/1/experiments/",
            json={"name": "Kept", "feature_flag_key": "kept"},
            headers={"Authorization": "Bearer phx"},
            timeout=10,
        )
        assert created.status_code == 201
        first.send_signal(signal.SIGTERM)
        banner = first.communicate(timeout=30)[0]
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0 and "(seed 7)" in banner
    wal = tmp_path / "state.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # folded into the file: the file alone is the state
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(state.read_bytes())
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM rows").fetchone()[0] > 0
    restarted = _started("--port", str(port), "--state-file", str(state), "--seed", "9")
    try:
        wait_healthy(url, restarted)
        assert requests.get(f"{url}/__admin/health", timeout=5).json()["seed"] == 7  # the file's seed wins
        names = [
            e["name"]
            for e in requests.get(
                f"{url}/api/projects/1/experiments/?limit=100", headers={"Authorization": "Bearer phx"}, timeout=5
            ).json()["results"]
        ]
        assert "Kept" in names
    finally:
        restarted.send_signal(signal.SIGTERM)
        banner = restarted.communicate(timeout=30)[0]
    assert "(seed 7)" in banner


def test_the_port_check_leaves_hosts_it_cannot_take_to_the_server():
    import errno

    from mockserver.cli import _check_port
    from mockserver.core.settings import Settings

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError) as busy:
            _check_port(Settings(port=port))
        assert busy.value.errno == errno.EADDRINUSE
        _check_port(Settings(host="*", port=port))  # waitress's own spelling: it resolves and binds it
    _check_port(Settings(port=0))
