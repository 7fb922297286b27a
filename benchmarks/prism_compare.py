"""This mock against Stoplight Prism on the same specs/, side by side in one run.

Installs what is missing (Prism from npm into benchmarks/.tools, wrk from Debian), starts
``mockserver serve`` with its default settings (waitress, strict response validation) and one
Prism per spec (``prism mock specs/<vendor>.yaml``, which validates requests too), then drives
both with the same wrk client at 1 and 16 connections: experiment detail GET, list GET
(limit=10) and create POST, for PostHog and LaunchDarkly. Prints requests/s, p50/p99 latency,
the ours/Prism throughput ratio, cold start (process start to the first 200), idle and loaded
RSS (Prism: its whole process tree), and our list latency with 100, 1,000 and 10,000 stored
experiments, each loaded as a state document (``--fixture``).

    python benchmarks/prism_compare.py [--seconds 8] [--json results.json]

Every child is started in its own process group and killed at the end, also on error or
Ctrl-C; every wait is bounded, and the whole run stops after ``--budget`` seconds.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import copy
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(__file__).resolve().parent / ".tools"
PRISM = TOOLS / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
PH_AUTH = "Bearer phx_bench"
LD_AUTH = "api-bench"
PH_BASE = "/api/projects/1/experiments"
LD_BASE = "/api/v2/projects/default/environments/production/experiments"
LD_FLAG = "pricing-page-layout"
CONCURRENCY = (1, 16)
SIZES = (100, 1_000, 10_000)
WORKLOADS = ("detail GET", "list GET (limit=10)", "create POST")
VENDORS = ("posthog", "launchdarkly")

_children: list[subprocess.Popen] = []
_deadline = float("inf")


class OutOfTime(RuntimeError):
    pass


def check_time() -> None:
    if time.monotonic() > _deadline:
        raise OutOfTime("the run went over --budget; stopping")


# -- tools ----------------------------------------------------------------------------------------


def run_bounded(cmd: list[str], seconds: float) -> bool:
    print(f"$ {' '.join(cmd)}", file=sys.stderr)
    try:
        return subprocess.run(cmd, timeout=seconds, stdout=subprocess.DEVNULL, check=False).returncode == 0
    except (subprocess.TimeoutExpired, OSError) as exc:
        print(f"  failed: {exc}", file=sys.stderr)
        return False


def ensure_tools() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        apt = ["apt-get", "install", "-y", "-q", "wrk"]
        if not run_bounded(apt, 300):
            run_bounded(["apt-get", "update", "-q"], 300)
            run_bounded(apt, 300)
        wrk = shutil.which("wrk")
        if wrk is None:
            sys.exit("wrk is missing and could not be installed (apt-get install wrk)")
    if not PRISM.exists():
        if shutil.which("npm") is None:
            sys.exit("npm is missing: install Node.js (Debian: apt-get install -y nodejs npm)")
        TOOLS.mkdir(parents=True, exist_ok=True)
        cmd = ["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel=error", PRISM_PACKAGE]
        if not run_bounded(cmd, 600) or not PRISM.exists():
            sys.exit(f"could not install {PRISM_PACKAGE} into {TOOLS}")
    return wrk


# -- processes ------------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Distinct free ports: the sockets stay open until all are picked."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


def spawn(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    """``python -m`` imports from ``cwd`` first: another checkout's server must start in that checkout."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop(); read when the process dies early
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log  # type: ignore[attr-defined]
    _children.append(proc)
    return proc


def output_of(proc: subprocess.Popen) -> str:
    log = proc.log  # type: ignore[attr-defined]
    log.seek(0)
    return log.read()[-2000:].decode("utf-8", "replace")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group: Prism's node children too
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    if proc in _children:
        _children.remove(proc)
    log = getattr(proc, "log", None)
    if log is not None:
        log.close()


def stop_all() -> None:
    for proc in list(_children):
        stop(proc)


def our_env() -> dict[str, str]:
    """The defaults of ``mockserver serve``: no MOCKSERVER_* override leaks in from the shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}


def start_ours(port: int, fixture: str | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if fixture:
        cmd += ["--fixture", fixture]
    return spawn(cmd, our_env())


def start_prism(spec: str, port: int) -> subprocess.Popen:
    # -v warn: no line per request (ours logs at WARNING too); request validation stays on.
    cmd = [str(PRISM), "mock", f"specs/{spec}.yaml", "-h", "127.0.0.1", "-p", str(port), "-v", "warn"]
    return spawn(cmd)


def fetch(
    port: int, path: str, auth: str, method: str = "GET", body: Any = None, timeout: float = 10
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Accept", "application/json")
    if auth:
        req.add_header("Authorization", auth)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:300]


def wait_ready(proc: subprocess.Popen, port: int, path: str, auth: str, started: float, limit: float = 60) -> float:
    """Seconds from ``started`` to the first 200 on ``path``."""
    while time.monotonic() - started < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before answering {path}:\n{output_of(proc)}")
        try:
            if fetch(port, path, auth, timeout=2)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"no 200 on {path} within {limit} s")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(parents.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class PeakRss:
    """Samples the RSS of some process trees every 0.2 s while load runs."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak = {name: 0.0 for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], tree_rss_mb(pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# -- load -----------------------------------------------------------------------------------------


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def lua_script(method: str, path: str, auth: str, body: dict[str, Any] | None, tag: str) -> str:
    """A wrk script; a POST body gets a unique key per request (``@KEY@`` in the template)."""
    headers = f'wrk.headers["Authorization"] = {lua_string(auth)}\nwrk.headers["Accept"] = "application/json"\n'
    if body is None:
        return f'wrk.method = "{method}"\n{headers}'
    before, after = json.dumps(body).split("@KEY@")
    return f"""{headers}wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
function request()
  counter = counter + 1
  local key = "{tag}-" .. tid .. "-" .. counter
  return wrk.format("{method}", {lua_string(path)}, nil, {lua_string(before)} .. key .. {lua_string(after)})
end
"""


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


@dataclass
class Run:
    rps: float
    p50: float
    p99: float
    requests: int
    non_2xx: int
    socket_errors: int


def wrk_run(wrk: str, port: int, path: str, script: str, clients: int, seconds: float) -> Run:
    check_time()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        cmd = [
            wrk,
            f"-t{min(clients, 2)}",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            handle.name,
            f"http://127.0.0.1:{port}{path}",
        ]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
        )
        _children.append(proc)  # killed with the rest if the run is interrupted
        try:
            out = proc.communicate(timeout=seconds + 30)[0]
        finally:
            stop(proc)
    finally:
        os.unlink(handle.name)
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    requests = re.search(r"^\s+(\d+) requests in", out, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if not (pct and requests and rps):
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Run(
        rps=float(rps.group(1)),
        p50=_ms(pct["50"]),
        p99=_ms(pct["99"]),
        requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
    )


# -- workloads ------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    port: int
    pid: int
    reset: bool = False  # ours: back to the seeded world before each run
    results: dict[tuple[str, str, int], Run] = field(default_factory=dict)


def workloads(our_port: int) -> dict[str, dict[str, tuple[str, str, str, dict[str, Any] | None, int]]]:
    """Per vendor and workload: method, path, auth, body (``@KEY@`` made unique), expected status.

    Ids and keys are read from our seeded world; create bodies are valid for both servers.
    """
    status, listed = fetch(our_port, f"{PH_BASE}/?limit=1", PH_AUTH)
    assert status == 200, listed
    ph_id = listed["results"][0]["id"]
    status, listed = fetch(our_port, f"{LD_BASE}?limit=1", LD_AUTH)
    assert status == 200, listed
    ld_key = listed["items"][0]["key"]
    status, flag = fetch(our_port, f"/api/v2/flags/default/{LD_FLAG}", LD_AUTH)
    assert status == 200, flag
    variations = flag["variations"]
    ld_body = {
        "key": "@KEY@",
        "name": "Bench experiment",
        "iteration": {
            "hypothesis": "The variant converts better",
            "randomizationUnit": "user",
            "metrics": [{"key": "checkout-completed"}],
            "flags": {
                LD_FLAG: {"ruleId": "fallthrough", "flagConfigVersion": flag["environments"]["production"]["version"]}
            },
            "treatments": [
                {
                    "name": f"T{j}",
                    "baseline": j == 0,
                    "allocationPercent": "50",
                    "parameters": [{"flagKey": LD_FLAG, "variationId": variations[j]["_id"]}],
                }
                for j in (0, 1)
            ],
        },
    }
    ph_body = {"name": "Bench experiment", "feature_flag_key": "@KEY@"}
    return {
        "posthog": {
            "detail GET": ("GET", f"{PH_BASE}/{ph_id}/", PH_AUTH, None, 200),
            "list GET (limit=10)": ("GET", f"{PH_BASE}/?limit=10", PH_AUTH, None, 200),
            "create POST": ("POST", f"{PH_BASE}/", PH_AUTH, ph_body, 201),
        },
        "launchdarkly": {
            "detail GET": ("GET", f"{LD_BASE}/{ld_key}", LD_AUTH, None, 200),
            "list GET (limit=10)": ("GET", f"{LD_BASE}?limit=10", LD_AUTH, None, 200),
            "create POST": ("POST", LD_BASE, LD_AUTH, ld_body, 201),
        },
    }


def precheck(target: Target, method: str, path: str, auth: str, body: Any, expected: int) -> None:
    sample = json.loads(json.dumps(body).replace("@KEY@", f"precheck-{time.monotonic_ns()}")) if body else None
    status, answer = fetch(target.port, path, auth, method, sample)
    if status != expected:
        raise RuntimeError(f"{target.name} {method} {path}: {status}, expected {expected}: {answer!r}")


def reset(port: int) -> None:
    status, answer = fetch(port, "/__admin/reset", "", "POST", {})
    if status != 200:
        raise RuntimeError(f"reset failed: {status} {answer!r}")


# -- cold start and list growth -------------------------------------------------------------------


def cold_start(runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"ours": [], "prism posthog": [], "prism launchdarkly": []}
    for _ in range(runs):
        check_time()
        port = free_port()
        began = time.monotonic()
        proc = start_ours(port)
        try:
            times["ours"].append(wait_ready(proc, port, f"{PH_BASE}/1/", PH_AUTH, began))
        finally:
            stop(proc)
        for vendor, path, auth in (("posthog", f"{PH_BASE}/1/", PH_AUTH), ("launchdarkly", f"{LD_BASE}/x", LD_AUTH)):
            port = free_port()
            began = time.monotonic()
            proc = start_prism(vendor, port)
            try:
                times[f"prism {vendor}"].append(wait_ready(proc, port, path, auth, began))
            finally:
                stop(proc)
    return times


def state_with(base: dict[str, Any], size: int) -> dict[str, Any]:
    """The seeded world with exactly ``size`` experiments per vendor in project 1 / default+production.

    Copies of the seeded experiments, each PostHog copy with a flag of its own, newest first by
    creation time as a real project would have them.
    """
    posthog = copy.deepcopy(base["data"]["posthog"])
    templates = [e for e in posthog["experiments"].values() if e["team_id"] == 1 and not e.get("deleted")]
    flags = posthog["flags"]
    posthog["experiments"] = {}
    next_flag = max(int(k) for k in flags) + 1
    for i in range(1, size + 1):
        exp = copy.deepcopy(templates[i % len(templates)])
        flag = copy.deepcopy(flags[str(exp["feature_flag_id"])])
        flag.update(id=next_flag, key=f"bench-flag-{i}", name=f"Feature Flag for bench {i}")
        flags[str(next_flag)] = flag
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_735_689_600 + i * 60))
        exp.update(id=i, name=f"Bench {i} {exp['name']}", feature_flag_id=next_flag, archived=False, created_at=stamp)
        posthog["experiments"][str(i)] = exp
        next_flag += 1
    posthog["sequences"].update(experiment=size, flag=next_flag)

    launchdarkly = copy.deepcopy(base["data"]["launchdarkly"])
    seeded = launchdarkly["experiments"]
    templates = [e for k, e in seeded.items() if k.startswith("default/production/") and not e.get("archivedDate")]
    launchdarkly["experiments"] = {k: e for k, e in seeded.items() if not k.startswith("default/production/")}
    for i in range(1, size + 1):
        exp = copy.deepcopy(templates[i % len(templates)])
        key = f"bench-{i}"
        exp.update(key=key, name=f"Bench {i}", _id=f"{i:024x}", _creationDate=1_735_689_600_000 + i * 60_000)
        launchdarkly["experiments"][f"default/production/{key}"] = exp
    return {
        "format": base["format"],
        "description": f"benchmark: {size} experiments per vendor",
        "seed": base.get("seed", 42),
        "data": {"admin": base["data"]["admin"], "posthog": posthog, "launchdarkly": launchdarkly},
    }


def list_growth(wrk: str, base: dict[str, Any], seconds: float) -> dict[int, dict[str, Run]]:
    out: dict[int, dict[str, Run]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            check_time()
            path = Path(folder) / f"state-{size}.json"
            path.write_text(json.dumps(state_with(base, size)))
            port = free_port()
            began = time.monotonic()
            proc = start_ours(port, str(path))
            try:
                wait_ready(proc, port, "/__admin/health", "", began, limit=120)
                out[size] = {}
                for vendor, list_path, auth, total in (
                    ("posthog", f"{PH_BASE}/?limit=10", PH_AUTH, "count"),
                    ("launchdarkly", f"{LD_BASE}?limit=10", LD_AUTH, "total_count"),
                ):
                    status, page = fetch(port, list_path, auth)
                    if status != 200 or page[total] != size:
                        raise RuntimeError(f"{vendor} list with {size} loaded: {status} {str(page)[:200]}")
                    script = lua_script("GET", list_path, auth, None, "")
                    wrk_run(wrk, port, list_path, script, 1, 1)  # warm-up
                    out[size][vendor] = wrk_run(wrk, port, list_path, script, 1, seconds)
            finally:
                stop(proc)
    return out


# -- report ---------------------------------------------------------------------------------------


def machine_line() -> str:
    return f"{' '.join(os.uname())}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def tool_versions(wrk: str) -> str:
    prism = subprocess.run([str(PRISM), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    head = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=30)
    return f"Prism {prism} on Node {node}; {(head.stdout or head.stderr).splitlines()[0].strip()}"


def report(
    ours: Target,
    prism: dict[str, Target],
    cold: dict[str, list[float]],
    rss: dict[str, dict[str, float]],
    growth: dict[int, dict[str, Run]],
) -> tuple[str, dict[str, Any]]:
    lines = [
        "| vendor | workload | c | ours req/s | Prism req/s | ours/Prism | ours p50 | ours p99 | Prism p50 "
        "| Prism p99 | non-2xx ours/Prism |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    misses: list[str] = []
    data: dict[str, Any] = {"workloads": [], "cold_start_s": cold, "rss_mb": rss, "list_growth": {}}
    for vendor in VENDORS:
        for workload in WORKLOADS:
            for clients in CONCURRENCY:
                a = ours.results[(vendor, workload, clients)]
                b = prism[vendor].results[(vendor, workload, clients)]
                ratio = a.rps / b.rps if b.rps else float("inf")
                lines.append(
                    f"| {vendor} | {workload} | {clients} | {a.rps:,.0f} | {b.rps:,.0f} | {ratio:.2f} | "
                    f"{a.p50:.2f} | {a.p99:.2f} | {b.p50:.2f} | {b.p99:.2f} | "
                    f"{a.non_2xx + a.socket_errors}/{b.non_2xx + b.socket_errors} |"
                )
                data["workloads"].append(
                    {"vendor": vendor, "workload": workload, "c": clients, "ours": vars(a), "prism": vars(b)}
                )
                if clients == 16 and ratio < 3:
                    misses.append(f"{vendor} {workload} c=16: {ratio:.2f}x Prism's throughput (target 3x)")
                if clients == 16 and a.p99 >= 20:
                    misses.append(f"{vendor} {workload} c=16: p99 {a.p99:.1f} ms (target < 20 ms)")
    med = {name: statistics.median(values) * 1000 for name, values in cold.items()}
    lines += [
        "",
        "| | ours (both vendors, 1 process) | Prism posthog.yaml | Prism launchdarkly.yaml |",
        "|---|---:|---:|---:|",
        f"| cold start, median ms | {med['ours']:.0f} | {med['prism posthog']:.0f} | {med['prism launchdarkly']:.0f} |",
        f"| idle RSS, MB | {rss['idle']['ours']:.0f} | {rss['idle']['prism posthog']:.0f} | "
        f"{rss['idle']['prism launchdarkly']:.0f} |",
        f"| loaded RSS (peak), MB | {rss['loaded']['ours']:.0f} | {rss['loaded']['prism posthog']:.0f} | "
        f"{rss['loaded']['prism launchdarkly']:.0f} |",
    ]
    fastest_prism = min(med["prism posthog"], med["prism launchdarkly"])
    if med["ours"] >= fastest_prism:
        misses.append(f"cold start {med['ours']:.0f} ms vs Prism's {fastest_prism:.0f} ms")
    for kind in ("idle", "loaded"):
        smallest = min(rss[kind]["prism posthog"], rss[kind]["prism launchdarkly"])
        if rss[kind]["ours"] >= smallest:
            misses.append(f"{kind} RSS {rss[kind]['ours']:.0f} MB vs one Prism's {smallest:.0f} MB")
    lines += [
        "",
        "| stored experiments | PostHog p50 | PostHog p99 | PostHog req/s | LaunchDarkly p50 | LaunchDarkly p99 "
        "| LaunchDarkly req/s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, runs in growth.items():
        ph, ld = runs["posthog"], runs["launchdarkly"]
        lines.append(
            f"| {size:,} | {ph.p50:.2f} | {ph.p99:.2f} | {ph.rps:,.0f} | {ld.p50:.2f} | {ld.p99:.2f} | {ld.rps:,.0f} |"
        )
        data["list_growth"][size] = {vendor: vars(run) for vendor, run in runs.items()}
    small, large = growth[SIZES[0]], growth[SIZES[-1]]
    for vendor in VENDORS:
        growth_factor = large[vendor].p50 / small[vendor].p50
        data["list_growth"][f"{vendor}_factor_p50"] = growth_factor
        lines.append(f"\n{vendor}: list p50 with {SIZES[-1]:,} is {growth_factor:.1f}x the p50 with {SIZES[0]}")
        if growth_factor > 2:
            misses.append(f"{vendor} list p50 grows {growth_factor:.1f}x from {SIZES[0]} to {SIZES[-1]:,} (target 2x)")
    lines.append("\nTargets missed: " + ("; ".join(misses) if misses else "none"))
    data["misses"] = misses
    return "\n".join(lines), data


# -- main -----------------------------------------------------------------------------------------


def main() -> int:
    global _deadline
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="length of each measured wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per workload; the best is kept")
    parser.add_argument("--growth-seconds", type=int, default=5, help="length of each list-growth run")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts per server (median reported)")
    parser.add_argument("--budget", type=float, default=1200, help="stop the whole run after this many seconds")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    _deadline = time.monotonic() + args.budget
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    wrk = ensure_tools()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine_line()}", flush=True)
    print(tool_versions(wrk), flush=True)
    print(f"load average at start: {load_average()}", flush=True)
    try:
        print("cold starts…", file=sys.stderr, flush=True)
        cold = cold_start(args.cold_runs)

        our_port, ph_port, ld_port = free_ports(3)
        started = time.monotonic()
        our_proc = start_ours(our_port)
        wait_ready(our_proc, our_port, f"{PH_BASE}/1/", PH_AUTH, started)
        ph_proc = start_prism("posthog", ph_port)
        wait_ready(ph_proc, ph_port, f"{PH_BASE}/1/", PH_AUTH, started)
        ld_proc = start_prism("launchdarkly", ld_port)
        wait_ready(ld_proc, ld_port, f"{LD_BASE}/x", LD_AUTH, started)
        ours = Target("ours", our_port, our_proc.pid, reset=True)
        prism = {
            "posthog": Target("prism posthog", ph_port, ph_proc.pid),
            "launchdarkly": Target("prism launchdarkly", ld_port, ld_proc.pid),
        }
        pids = {"ours": our_proc.pid, "prism posthog": ph_proc.pid, "prism launchdarkly": ld_proc.pid}
        time.sleep(2)
        rss = {"idle": {name: tree_rss_mb(pid) for name, pid in pids.items()}}
        plan = workloads(our_port)
        tag = 0
        with PeakRss(pids) as peak:
            for vendor in VENDORS:
                for workload in WORKLOADS:
                    method, path, auth, body, expected = plan[vendor][workload]
                    pair = (ours, prism[vendor])
                    for target in pair:
                        if target.reset:
                            reset(target.port)
                        precheck(target, method, path, auth, body, expected)
                        tag += 1
                        wrk_run(wrk, target.port, path, lua_script(method, path, auth, body, f"w{tag}"), 16, 1)
                    for clients in CONCURRENCY:
                        # Rounds alternate the two servers; the best round of each is kept, the one
                        # least disturbed by whatever else the machine runs.
                        for _ in range(args.rounds):
                            for target in pair:
                                if target.reset:
                                    reset(target.port)
                                tag += 1
                                script = lua_script(method, path, auth, body, f"r{tag}")
                                run = wrk_run(wrk, target.port, path, script, clients, args.seconds)
                                best = target.results.get((vendor, workload, clients))
                                if best is None or run.rps > best.rps:
                                    target.results[(vendor, workload, clients)] = run
                                print(
                                    f"{target.name:18} {vendor:12} {workload:20} c={clients:<2} {run.rps:8.0f} "
                                    f"req/s p50 {run.p50:6.2f} ms p99 {run.p99:6.2f} ms non-2xx {run.non_2xx}",
                                    file=sys.stderr,
                                    flush=True,
                                )
        rss["loaded"] = peak.peak
        base = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{our_port}/__admin/state", timeout=30).read())
        for proc in (our_proc, ph_proc, ld_proc):
            stop(proc)
        print("list growth…", file=sys.stderr, flush=True)
        growth = list_growth(wrk, base, args.growth_seconds)
        table, data = report(ours, prism, cold, rss, growth)
        print(table)
        print(f"\nload average at the end: {load_average()}")
        if args.json:
            data["machine"] = machine_line()
            Path(args.json).write_text(json.dumps(data, indent=2))
        return 1 if data["misses"] else 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
