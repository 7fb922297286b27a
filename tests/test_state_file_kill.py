"""`--state-file` (SQLite) under `kill -9` at random moments during writes: restart sees every acknowledged write."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import requests

from tests.test_cli import free_port, wait_healthy

PH = {"Authorization": "Bearer phx_kill"}
ROUNDS = 5


def _start(state_file, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            str(port),
            "--state-file",
            str(state_file),
            "--now",
            "2026-11-20T12:00:00Z",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _writer(url: str, acknowledged: list[int], stop: threading.Event, prefix: str) -> None:
    session = requests.Session()
    n = 0
    while not stop.is_set() and n < 500:
        try:
            r = session.post(
                f"{url}/api/projects/1/experiments/",
                headers=PH,
                timeout=5,
                json={"name": f"{prefix} {n}", "feature_flag_key": f"{prefix}-{n}"},
            )
        except requests.RequestException:
            return  # the server was killed mid-request: not acknowledged
        if r.status_code == 201:
            acknowledged.append(r.json()["id"])
        n += 1


def test_random_kills_never_lose_an_acknowledged_write_or_tear_the_file(tmp_path):
    rng = random.Random(20261123)
    state_file = tmp_path / "state.db"
    acknowledged: list[int] = []
    for round_no in range(ROUNDS):
        port = free_port()
        proc = _start(state_file, port)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc)
            stop = threading.Event()
            thread = threading.Thread(target=_writer, args=(url, acknowledged, stop, f"k{round_no}"))
            thread.start()
            time.sleep(rng.uniform(0.05, 0.6))  # a random moment, writes in flight
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            stop.set()
            thread.join(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        with sqlite3.connect(state_file) as db:  # never torn: SQLite recovers its WAL on open
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            keys = db.execute("SELECT key FROM rows WHERE part = 'posthog' AND tbl = 'experiments'").fetchall()
        stored = {int(k) for (k,) in keys}
        assert set(acknowledged) <= stored, "an acknowledged write was lost"
    assert len(acknowledged) > ROUNDS  # the kills really landed during writes
    # a final restart serves every acknowledged experiment
    port = free_port()
    proc = _start(state_file, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        for exp_id in acknowledged[-10:]:
            got = requests.get(f"http://127.0.0.1:{port}/api/projects/1/experiments/{exp_id}/", headers=PH, timeout=5)
            assert got.status_code == 200
    finally:
        proc.kill()
        proc.wait(timeout=10)
