"""Export (GET /__admin/state) and import (PUT /__admin/state) of a large state, before and after.

Starts ``mockserver serve`` (its defaults, with room for the document) from two checkouts, the
code before (``--before REV``, checked out into ``benchmarks/.tools/base``) and this one, builds a state document with
``--count`` experiments (half PostHog, each with a flag of its own, half LaunchDarkly: copies of
the seeded ones, as ``prism_compare.py``'s list-growth documents), then in alternating rounds
imports it into each server and exports it back over HTTP. The client sends pre-encoded bytes and
does not parse the answer, so the figures are the server's: wall time per request and the server
process's CPU seconds (from /proc, which other load on the machine does not stretch).

    python benchmarks/state_transfer.py [--count 50000] [--rounds 3] [--before REV]

Target: each of export and import of 50,000 experiments within 2 s.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _before
import prism_compare as pc

ROOT = _before.ROOT
TARGET_S = 2.0
MAX_STATE_BYTES = 512 * 2**20


def call(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def timed(pid: int, port: int, method: str, path: str, body: bytes | None = None) -> dict[str, Any]:
    cpu = _before.cpu_seconds(pid)
    began = time.perf_counter()
    status, answer = call(port, method, path, body)
    wall = time.perf_counter() - began
    if status != 200:
        raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
    return {"wall": wall, "cpu": _before.cpu_seconds(pid) - cpu, "bytes": len(answer), "load": _before.load_average()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=_before.DEFAULT_BEFORE)
    parser.add_argument("--count", type=int, default=50_000, help="experiments in the document, both vendors")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    atexit.register(pc.stop_all)
    base = _before.begin(args.before, pc.machine_line())

    servers: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    for name, tree in (("before", base), ("after", ROOT)):
        port = pc.free_port()
        cmd = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--max-state-bytes", str(MAX_STATE_BYTES)]  # 50,000 experiments are ~110 MiB
        proc = pc.spawn(cmd, _before.env(tree), cwd=tree)
        pc.wait_ready(proc, port, "/__admin/health", "", started)
        servers[name] = {"port": port, "pid": proc.pid}
    seeded = json.loads(call(servers["after"]["port"], "GET", "/__admin/state")[1])
    doc = pc.state_with(seeded, args.count // 2)
    payload = json.dumps(doc).encode()
    print(f"document: {args.count:,} experiments, {len(payload) / 2**20:.1f} MiB", flush=True)

    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.rounds):
        for name, server in servers.items():
            put = timed(server["pid"], server["port"], "PUT", "/__admin/state", payload)
            get = timed(server["pid"], server["port"], "GET", "/__admin/state")
            runs.setdefault(f"{name}|import", []).append(put)
            runs.setdefault(f"{name}|export", []).append(get)
            print(
                f"{name:6} import {put['wall']:6.2f} s (cpu {put['cpu']:.2f}) export {get['wall']:6.2f} s "
                f"(cpu {get['cpu']:.2f}, {get['bytes'] / 2**20:.1f} MiB) load {get['load']:.1f}",
                file=sys.stderr,
                flush=True,
            )
    pc.stop_all()
    print()
    print(f"{args.rounds} alternating rounds, medians; load average at the end: {pc.load_average()}")
    print()
    print("| | before wall s | after wall s | after/before | before CPU s | after CPU s | after/before | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    missed = []
    for op in ("export", "import"):
        b = {k: statistics.median(r[k] for r in runs[f"before|{op}"]) for k in ("wall", "cpu")}
        a = {k: statistics.median(r[k] for r in runs[f"after|{op}"]) for k in ("wall", "cpu")}
        met = a["wall"] <= TARGET_S
        if not met:
            missed.append(op)
        print(
            f"| {op} of {args.count:,} | {b['wall']:.2f} | {a['wall']:.2f} | {a['wall'] / b['wall']:.2f} | "
            f"{b['cpu']:.2f} | {a['cpu']:.2f} | {a['cpu'] / b['cpu']:.2f} | {'met' if met else 'missed'} (<= 2 s) |"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
