"""What a test author feels: reset, the fixture's cost per test, session start, a consumer's suite.

Every figure is measured before and after, side by side in one run:

* before: the pytest plugin as it was at commit ``BEFORE`` (read with ``git show``; its fixtures
  drove Flask's test client) and a reset that copies the whole baseline back;
* after: this checkout (``mockserver.Client`` over an in-process WSGI transport or HTTP, a reset
  that copies back only the rows changed since the previous one).

Sections (targets in brackets):

1. reset at the default size after a test that wrote 0, 3, 30 or 300 experiments, and after one
   that loaded a fixture (≤ 1 ms, independent of what was written);
2. per-test overhead of the fixtures inside pytest: 200 tests that take the fixture against 200
   that do not (in process ≤ 1.5 ms; over HTTP to a separate ``mockserver serve`` ≤ 3 ms);
3. session start: the set-up of the first test that takes the fixture (≤ 0.3 s; the plugin's own
   import at pytest start-up is pytest alone);
4. a consumer's suite: 50 tests of 3 requests each through its own ``requests`` code (≤ 1 s in
   process).

    python benchmarks/plugin_overhead.py [--rounds 5] [--json results.json]

Runs pytest in subprocesses on 127.0.0.1; kills what it starts. About 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEFORE = "fdd9bcf"  # the last commit with the Flask-test-client plugin and the full-copy reset
TOKEN = "bench-token"
PH = {"Authorization": "Bearer phx_bench"}

FULL_COPY = textwrap.dedent(
    """
    # "before": every reset copies the whole baseline back, as reset did at that commit
    from mockserver.core.store import Store
    Store._restore_changed = lambda self, base: False
    """
)

TIMER = textwrap.dedent(
    """
    import json, os, time
    import pytest

    _marks = []
    _setup = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(item):
        started = time.perf_counter()
        try:
            return (yield)
        finally:
            _setup.append(time.perf_counter() - started)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(nodeid, location):
        _marks.append(time.perf_counter())

    def pytest_sessionfinish(session):
        out = os.environ.get("BENCH_OUT")
        if out and _marks:
            # the first test's set-up carries the session start; the rest are steady state
            per_test = (_marks[-1] - _marks[0]) / (len(_marks) - 1) if len(_marks) > 1 else None
            with open(out, "w") as fh:
                json.dump({"per_test": per_test, "first_setup": _setup[0], "tests": len(_marks)}, fh)
    """
)


# ---------------------------------------------------------------------------------------------
# helpers


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio(before: float | None, after: float) -> str:
    return "—" if before is None or after == 0 else f"{before / after:.1f}x"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def old_plugin(directory: Path) -> bool:
    """Write the plugin as it was at BEFORE into ``directory``; False when git cannot show it."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE}:mockserver/pytest_plugin.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    (directory / "mockserver_before_plugin.py").write_text(source)
    return True


def run_pytest(suite: Path, *args: str, before: bool, env: dict[str, str] | None = None) -> dict[str, float]:
    """One pytest run in a subprocess: wall time, pytest's own duration and the timer's per-test figure."""
    out = suite / f"bench-{time.perf_counter_ns()}.json"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKSERVER_", "PYTEST_"))}
    paths = [str(suite), str(suite.parent), str(ROOT / "tests" / "consumer"), str(ROOT)]
    environment.update(PYTHONPATH=os.pathsep.join(paths), BENCH_OUT=str(out), **(env or {}))
    plugin = ["-p", "no:mockserver", "-p", "mockserver_before_plugin"] if before else []
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *plugin, *args]
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=suite, env=environment, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"pytest failed in {suite}:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    found = re.search(r"passed in ([\d.]+)s", result.stdout)
    figures = {"wall": wall, "pytest": float(found.group(1)) if found else float("nan")}
    if out.exists():
        figures.update(json.loads(out.read_text()))
        out.unlink()
    return figures


def make_suite(base: Path, name: str, tests: str, *, full_copy: bool) -> Path:
    suite = base / name
    suite.mkdir()
    (suite / "conftest.py").write_text(TIMER + (FULL_COPY if full_copy else ""))
    (suite / "test_suite.py").write_text(textwrap.dedent(tests))
    return suite


# ---------------------------------------------------------------------------------------------
# 1. reset


def bench_reset(rounds: int) -> list[dict[str, object]]:
    from mockserver.app import create_app
    from mockserver.core.settings import Settings
    from mockserver.core.store import Store

    app = create_app(Settings(port=0))
    runtime = app.extensions["mockserver"]
    client = app.test_client()
    counter = iter(range(10**9))

    def write(n: int) -> Callable[[], None]:
        def go() -> None:
            for _ in range(n):
                i = next(counter)
                body = {"name": f"b{i}", "feature_flag_key": f"b{i}"}
                assert client.post("/api/projects/1/experiments/", headers=PH, json=body).status_code == 201

        return go

    def load_fixture() -> None:
        assert client.post("/__admin/fixtures/running-experiments/load").status_code == 200

    scenarios = [("nothing", write(0)), ("3 creates", write(3)), ("30 creates", write(30))]
    scenarios += [("300 creates", write(300)), ("a fixture load", load_fixture)]
    original = Store._restore_changed
    rows = []
    for label, action in scenarios:
        samples: dict[str, list[float]] = {"before": [], "after": []}
        repeats = max(3, rounds * (6 if label != "300 creates" else 3))
        for _ in range(repeats):
            for side in ("before", "after"):
                Store._restore_changed = original if side == "after" else (lambda self, base: False)  # type: ignore[method-assign]
                runtime.reset()
                action()
                gc.collect()
                gc.disable()  # as timeit does: a collection falls on whichever call crosses the threshold
                started = time.perf_counter()
                runtime.reset()
                samples[side].append((time.perf_counter() - started) * 1000)
                gc.enable()
        Store._restore_changed = original  # type: ignore[method-assign]
        rows.append({"after": label, "before_ms": median(samples["before"]), "after_ms": median(samples["after"])})
    return rows


# ---------------------------------------------------------------------------------------------
# 2. per-test overhead and 4. the consumer's suite


PLAIN = """
import pytest

@pytest.mark.parametrize("n", range(200))
def test_plain(n):
    pass
"""

WITH_FIXTURE = """
import pytest

@pytest.mark.parametrize("n", range(200))
def test_fixture(FIXTURE, n):
    pass
"""

CONSUMER = """
import pytest
from shop.experiments import PostHog

@pytest.mark.parametrize("n", range(50))
def test_flow(mockserver, n):
    posthog = PostHog(mockserver.url, "phx_bench")
    draft = posthog.create_draft(f"Bench {n}", f"bench-{n}")  # 1
    assert posthog.launch(draft["id"]) == "launched"          # 2
    assert posthog.get(draft["id"])["status"] == "running"    # 3
"""


class Sidecar:
    """``mockserver serve`` (waitress) in a subprocess with a token, as --mockserver-url finds it."""

    def __init__(self) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
        env.update(MOCKSERVER_PORT=str(self.port), MOCKSERVER_ADMIN_TOKEN=TOKEN, MOCKSERVER_LOG_LEVEL="WARNING")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        import urllib.request

        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/__admin/health", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("mockserver serve did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def bench_pytest(rounds: int, have_before: bool) -> dict[str, list[dict[str, object]]]:
    sidecar = Sidecar()
    remote = {"MOCKSERVER_URL": sidecar.url, "MOCKSERVER_ADMIN_TOKEN": TOKEN}
    try:
        with tempfile.TemporaryDirectory(prefix="mockserver-bench-") as tmp:
            base = Path(tmp)
            if have_before:
                old_plugin(base)
            suites = {
                "plain": make_suite(base, "plain", PLAIN, full_copy=False),
                "app-after": make_suite(
                    base, "app_after", WITH_FIXTURE.replace("FIXTURE", "mockserver_app"), full_copy=False
                ),
                "app-before": make_suite(
                    base, "app_before", WITH_FIXTURE.replace("FIXTURE", "mockserver_app"), full_copy=True
                ),
                "live-after": make_suite(
                    base, "live_after", WITH_FIXTURE.replace("FIXTURE", "mockserver"), full_copy=False
                ),
                "live-before": make_suite(
                    base, "live_before", WITH_FIXTURE.replace("FIXTURE", "mockserver"), full_copy=True
                ),
                "consumer-after": make_suite(base, "consumer_after", CONSUMER, full_copy=False),
                "consumer-before": make_suite(base, "consumer_before", CONSUMER, full_copy=True),
            }
            one = {
                "app": make_suite(base, "one_app", "def test_one(mockserver_app):\n    pass\n", full_copy=False),
                "live": make_suite(base, "one_live", "def test_one(mockserver):\n    pass\n", full_copy=False),
            }
            samples: dict[str, list[dict[str, float]]] = {}

            def sample(
                key: str, suite: Path, *args: str, before: bool = False, env: dict[str, str] | None = None
            ) -> None:
                if before and not have_before:
                    return
                samples.setdefault(key, []).append(run_pytest(suite, *args, before=before, env=env))

            for _ in range(rounds):
                sample("plain", suites["plain"])
                sample("app-before", suites["app-before"], before=True)
                sample("app-after", suites["app-after"])
                sample("live-before", suites["live-before"], before=True)
                sample("live-after", suites["live-after"])
                sample("remote-after", suites["live-after"], env=remote)
                sample("start-app-before", one["app"], before=True)
                sample("start-app-after", one["app"])
                sample("start-live-before", one["live"], before=True)
                sample("start-live-after", one["live"])
                sample("consumer-before", suites["consumer-before"], before=True)
                sample("consumer-after", suites["consumer-after"], "--mockserver-in-process")
                sample("consumer-local", suites["consumer-after"])
                sample("consumer-remote", suites["consumer-after"], env=remote)
    finally:
        sidecar.stop()

    def med(key: str, field: str, pick: Callable[[list[float]], float] = median) -> float | None:
        found = [s[field] for s in samples.get(key, []) if s.get(field) is not None]
        return pick(found) if found else None

    plain = med("plain", "per_test") or 0.0
    plain_min = med("plain", "per_test", min) or 0.0

    def overhead(key: str, pick: Callable[[list[float]], float] = median) -> float | None:
        value = med(key, "per_test", pick)
        return None if value is None else (value - (plain if pick is median else plain_min)) * 1000

    def start(key: str, pick: Callable[[list[float]], float] = median) -> float | None:
        return med(key, "first_setup", pick)

    def summary(key: str | None) -> dict[str, float | None]:
        if key is None:
            return {"pytest_s": None, "pytest_min_s": None, "per_test_ms": None, "wall_s": None}
        per_test = med(key, "per_test")
        return {
            "pytest_s": med(key, "pytest"),
            "pytest_min_s": med(key, "pytest", min),
            "per_test_ms": None if per_test is None else per_test * 1000,
            "wall_s": med(key, "wall"),
        }

    return {
        "per_test": [
            {
                "fixture": fixture,
                "before_ms": overhead(f"{key}-before"),
                "after_ms": overhead(f"{key}-after"),
                "before_min_ms": overhead(f"{key}-before", min),
                "after_min_ms": overhead(f"{key}-after", min),
            }
            for fixture, key in (
                ("mockserver_app (in process)", "app"),
                ("mockserver (local server)", "live"),
                ("mockserver --mockserver-url (HTTP)", "remote"),
            )
        ],
        "session_start": [
            {
                "fixture": fixture,
                "before_s": start(f"start-{key}-before"),
                "after_s": start(f"start-{key}-after"),
                "before_min_s": start(f"start-{key}-before", min),
                "after_min_s": start(f"start-{key}-after", min),
            }
            for fixture, key in (("mockserver_app", "app"), ("mockserver", "live"))
        ],
        "consumer": [
            {
                "mode": "in process (after: --mockserver-in-process; before: the local server, the only way)",
                "before": summary("consumer-before"),
                "after": summary("consumer-after"),
            },
            {
                "mode": "local server",
                "before": summary("consumer-before"),
                "after": summary("consumer-local"),
            },
            {
                "mode": "--mockserver-url (mockserver serve, waitress)",
                "before": summary(None),
                "after": summary("consumer-remote"),
            },
        ],
        "plain_per_test_ms": plain * 1000,
        "plain_per_test_min_ms": plain_min * 1000,
    }


# ---------------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--reset-only", action="store_true", help="only section 1 (no pytest runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as probe:
        have_before = old_plugin(Path(probe))
    print(
        f"# plugin overhead — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}; before = {BEFORE}"
        + ("" if have_before else " (not available: no git history, before columns empty)")
    )

    print("\n## 1. reset (Runtime.reset, default size; garbage collection paused while timed), median ms")
    print("   target: ≤ 1 ms whatever was written")
    print("| after the test wrote | before (full copy) | after | before/after |")
    print("|---|---:|---:|---:|")
    reset_rows = bench_reset(args.rounds)
    for row in reset_rows:
        print(
            f"| {row['after']} | {fmt(row['before_ms'], 3)} | {fmt(row['after_ms'], 3)} | "
            f"{ratio(row['before_ms'], row['after_ms'])} |"
        )  # type: ignore[arg-type]

    if args.reset_only:
        return
    figures = bench_pytest(args.rounds, have_before)
    print(
        "\n## 2. per-test overhead inside pytest (200 tests, minus what a plain test costs), median and min "
        "of the rounds, ms"
    )
    print("   targets: in process ≤ 1.5 ms, over HTTP ≤ 3 ms")
    print(
        f"   (a plain test: median {figures['plain_per_test_ms']:.2f} ms, "
        f"min {figures['plain_per_test_min_ms']:.2f} ms)"
    )
    print("| fixture | before | after | before/after | before, min | after, min |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in figures["per_test"]:
        print(
            f"| {row['fixture']} | {fmt(row['before_ms'])} | {fmt(row['after_ms'])} | "
            f"{ratio(row['before_ms'], row['after_ms'])} | {fmt(row['before_min_ms'])} | {fmt(row['after_min_ms'])} |"
        )

    print("\n## 3. session start (set-up of the first test with the fixture), median s — target ≤ 0.3 s")
    print("| fixture | before | after | before/after | before, min | after, min |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in figures["session_start"]:
        print(
            f"| {row['fixture']} | {fmt(row['before_s'], 3)} | {fmt(row['after_s'], 3)} | "
            f"{ratio(row['before_s'], row['after_s'])} | {fmt(row['before_min_s'], 3)} | {fmt(row['after_min_s'], 3)} |"
        )

    print("\n## 4. a consumer's suite: 50 tests of 3 requests, median; pytest's own time (session start")
    print("   included) and the steady cost of one test — target: ≤ 1 s in process")
    print(
        "| mode | before pytest s | after pytest s | before/after | before, min | after, min "
        "| before ms/test | after ms/test |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in figures["consumer"]:
        b, a = row["before"], row["after"]
        print(
            f"| {row['mode']} | {fmt(b['pytest_s'])} | {fmt(a['pytest_s'])} | {ratio(b['pytest_s'], a['pytest_s'])} | "
            f"{fmt(b['pytest_min_s'])} | {fmt(a['pytest_min_s'])} | {fmt(b['per_test_ms'])} | {fmt(a['per_test_ms'])} |"
        )

    if args.json:
        Path(args.json).write_text(json.dumps({"reset": reset_rows, **figures}, indent=2))


if __name__ == "__main__":
    main()
