"""Before and after a change, side by side: the same workloads on two checkouts, in alternating rounds.

    python benchmarks/refactor_compare.py [--before REV] [--seconds 2] [--rounds 3]

Checks ``REV`` (default: the commit before the request pipeline, 542f46d) out into
``benchmarks/.tools/before`` with ``git worktree``, then measures, in a fresh subprocess per round
and tree, the server's own CPU per request through Flask's test client (no sockets, so the client
costs the same for both), counted in CPU time of the measuring process (other processes' load
stretches wall time, not the work per request): a PostHog detail GET, a list GET (limit=10), a create POST, and a
LaunchDarkly experiment GET. Prints requests per second per tree (the median of the rounds) and the
ratio after/before.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "benchmarks" / ".tools"
DEFAULT_BEFORE = "542f46d"

WORKER = textwrap.dedent(
    """
    import itertools, json, sys, time
    from datetime import UTC, datetime
    import mockserver
    from pathlib import Path
    if (Path(mockserver.__file__).parent / "core").is_dir():
        from mockserver.core.settings import Settings
    else:  # before the core package
        from mockserver.settings import Settings
    from mockserver.app import create_app

    seconds = float(sys.argv[1])
    app = create_app(Settings(seed=42, now=datetime(2026, 11, 20, 12, tzinfo=UTC), port=0))
    client = app.test_client()
    ph = {"Authorization": "Bearer phx_bench"}
    ld = {"Authorization": "api-bench"}
    counter = itertools.count()
    exp = client.get("/api/v2/projects/default/environments/production/experiments?limit=1", headers=ld).get_json()
    ld_key = exp["items"][0]["key"]

    def detail():
        return client.get("/api/projects/1/experiments/4/", headers=ph).status_code

    def listing():
        return client.get("/api/projects/1/experiments/?limit=10", headers=ph).status_code

    def create():
        n = next(counter)
        body = {"name": f"Bench {n}", "feature_flag_key": f"bench-{n}"}
        return client.post("/api/projects/1/experiments/", json=body, headers=ph).status_code

    def ld_get():
        path = f"/api/v2/projects/default/environments/production/experiments/{ld_key}"
        return client.get(path, headers=ld).status_code

    out = {}
    for name, call in (("detail GET", detail), ("list GET", listing), ("create POST", create), ("LD GET", ld_get)):
        for _ in range(50):
            assert call() < 300, name
        # CPU time of this process, not wall time: on a shared machine other processes' load
        # stretches wall time but not the work a request costs.
        done, start = 0, time.process_time()
        while time.process_time() - start < seconds:
            call()
            done += 1
        out[name] = done / (time.process_time() - start)
    print(json.dumps(out))
    """
)


def checkout(rev: str) -> Path:
    target = TOOLS / "before"
    if target.exists():
        subprocess.run(["git", "-C", str(target), "checkout", "-q", "--detach", rev], check=True)
    else:
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(target), rev], check=True)
    return target


def measure(tree: Path, seconds: float) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(seconds)], env=env, capture_output=True, text=True, cwd=tree, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=DEFAULT_BEFORE)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    before = checkout(args.before)
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        runs["before"].append(measure(before, args.seconds))
        runs["after"].append(measure(ROOT, args.seconds))
    load = os.getloadavg()[0]
    print(f"before {args.before}, after {subprocess.getoutput('git -C ' + str(ROOT) + ' rev-parse --short HEAD')}; ")
    print(f"{args.rounds} alternating rounds of {args.seconds} CPU-s per workload, medians; load average {load:.2f}")
    print()
    print("| workload | before (req/s) | after (req/s) | after/before |")
    print("|---|---:|---:|---:|")
    for name in runs["before"][0]:
        b = statistics.median(r[name] for r in runs["before"])
        a = statistics.median(r[name] for r in runs["after"])
        print(f"| {name} | {b:,.0f} | {a:,.0f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()
