"""What a write costs with ``--state-file x.sqlite`` at 10,000 experiments, before and after, and without a file.

Starts ``mockserver serve`` three times: the code before (``--before REV``, checked out into
``benchmarks/.tools/base``) and this one with a fresh SQLite state file each, and this one without a
state file (what persistence adds is the difference). Each is loaded with the same document of
``--count`` experiments (half PostHog, each with a flag of its own, half LaunchDarkly: the
documents of ``prism_compare.py``'s list growth) through PUT /__admin/state, which writes the
whole file once. Then, in alternating rounds, one client on one keep-alive connection sends
``--writes`` requests to each server: a PostHog PATCH of one experiment's description (one row
written) and a PostHog create (an experiment and its flag). The client times each request; the
server's CPU seconds come from /proc, which other load on the machine does not stretch.

    python benchmarks/state_file_writes.py [--count 10000] [--writes 200] [--rounds 3] [--before REV]

Target: p50 <= 10 ms per write at 10,000 experiments.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _before
import prism_compare as pc

ROOT = _before.ROOT
TARGET_MS = 10.0
MAX_STATE_BYTES = 512 * 2**20


class Client:
    """One keep-alive connection; answers are read whole and their status checked."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def send(self, method: str, path: str, body: Any = None, auth: str = "", expected: int = 200) -> bytes:
        headers = {"Authorization": auth} if auth else {}
        payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if payload is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        answer = response.read()
        if response.status != expected:
            raise RuntimeError(f"{method} {path}: {response.status} {answer[:300]!r}")
        return answer


def writes(server: dict[str, Any], count: int, first: int, tag: str) -> dict[str, list[float]]:
    client, out = server["client"], {"PATCH": [], "create": [], "cpu": []}
    cpu = _before.cpu_seconds(server["pid"])
    for i in range(count):
        path = f"{pc.PH_BASE}/{first + i % 1000}/"
        began = time.perf_counter()
        client.send("PATCH", path, {"description": f"{tag} {i}"}, pc.PH_AUTH)
        out["PATCH"].append((time.perf_counter() - began) * 1000)
        body = {"name": f"Bench write {tag} {i}", "feature_flag_key": f"bench-write-{tag}-{i}"}
        began = time.perf_counter()
        client.send("POST", f"{pc.PH_BASE}/", body, pc.PH_AUTH, expected=201)
        out["create"].append((time.perf_counter() - began) * 1000)
    out["cpu"].append((_before.cpu_seconds(server["pid"]) - cpu) * 1000 / (2 * count))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=_before.DEFAULT_BEFORE)
    parser.add_argument("--count", type=int, default=10_000, help="experiments in the state, both vendors")
    parser.add_argument("--writes", type=int, default=200, help="PATCH + create pairs per server and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    atexit.register(pc.stop_all)
    base = _before.begin(args.before, pc.machine_line())

    scratch = Path(tempfile.mkdtemp(prefix="state-file-bench-"))
    servers: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    for name, tree, state_file in (
        ("before", base, scratch / "before.sqlite"),
        ("after", ROOT, scratch / "after.sqlite"),
        ("no file", ROOT, None),
    ):
        port = pc.free_port()
        cmd = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--max-state-bytes", str(MAX_STATE_BYTES)]
        if state_file is not None:
            cmd += ["--state-file", str(state_file)]
        proc = pc.spawn(cmd, _before.env(tree), cwd=tree)
        pc.wait_ready(proc, port, "/__admin/health", "", started)
        servers[name] = {"port": port, "pid": proc.pid, "client": Client(port), "file": state_file}

    seeded = json.loads(servers["after"]["client"].send("GET", "/__admin/state"))
    doc = pc.state_with(seeded, args.count // 2)
    payload = json.dumps(doc).encode()
    for name, server in servers.items():
        began = time.perf_counter()
        server["client"].send("PUT", "/__admin/state", payload)
        size = server["file"].stat().st_size / 2**20 if server["file"] else 0
        print(f"{name}: loaded {args.count:,} experiments in {time.perf_counter() - began:.1f} s, file {size:.1f} MiB")

    runs: dict[str, dict[str, list[float]]] = {name: {"PATCH": [], "create": [], "cpu": []} for name in servers}
    for round_no in range(args.rounds):
        for name, server in servers.items():
            got = writes(server, args.writes, 1 + round_no * 7, f"r{round_no}{name[0]}")
            for key, values in got.items():
                runs[name][key] += values
            print(
                f"{name:8} PATCH p50 {statistics.median(got['PATCH']):6.2f} ms  create p50 "
                f"{statistics.median(got['create']):6.2f} ms  cpu {got['cpu'][0]:.2f} ms/write "
                f"load {pc.load_average()}",
                file=sys.stderr,
                flush=True,
            )
    pc.stop_all()
    print()
    print(f"{args.rounds} alternating rounds of {args.writes} PATCH + {args.writes} create per server, one client")
    print(f"load average at the end: {pc.load_average()}")
    print()
    print("| server | PATCH p50 / p99 ms | create p50 / p99 ms | CPU ms per write (median round) | target |")
    print("|---|---:|---:|---:|---|")
    missed = False
    for name, run in runs.items():
        patch, create = run["PATCH"], run["create"]
        met = max(statistics.median(patch), statistics.median(create)) <= TARGET_MS
        verdict = "-" if server_is_reference(name) else ("met" if met else "missed") + " (p50 <= 10 ms)"
        missed |= not met and not server_is_reference(name)
        print(
            f"| {name} | {statistics.median(patch):.2f} / {percentile(patch, 0.99):.2f} | "
            f"{statistics.median(create):.2f} / {percentile(create, 0.99):.2f} | "
            f"{statistics.median(run['cpu']):.2f} | {verdict} |"
        )
    return 1 if missed else 0


def server_is_reference(name: str) -> bool:
    return name == "no file"


if __name__ == "__main__":
    sys.exit(main())
