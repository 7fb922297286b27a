"""Write tails and throughput before and after a change, against Prism, side by side in one run.

Runs ``mockserver serve`` (its defaults) from two checkouts, the code before (``--before REV``,
checked out into ``benchmarks/.tools/base``) and this one, and one Prism per spec, and drives all
of them with the same wrk client through every workload of ``prism_compare.py`` (detail GET, list
GET (limit=10) and create POST, PostHog and LaunchDarkly) at 1 and 16 connections. Rounds
alternate before → after → Prism for each workload and concurrency; our state is reset before
each round, so every create round starts from the seeded world and grows it by thousands of
experiments. Prints, per workload, the median over the rounds of requests/s and p50/p99 (and the
worst p99 of any round), the server's CPU milliseconds per request (from /proc, which other load
on the machine does not stretch), after/before ratios, and the load average during each round.

    python benchmarks/tails_compare.py [--rounds 3] [--seconds 5] [--before REV] [--json out.json]

Targets: create p99 <= 5 ms at c=1 and <= 20 ms at c=16, and list GET at c=16 >= 1.2x Prism.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _before
import prism_compare as pc

ROOT = _before.ROOT


def start_tree(tree: Path, port: int, front: str = "waitress") -> Any:
    cmd = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = _before.env(tree)
    if front == "granian-rsgi":  # the experiment of rsgi_front.py
        env["PYTHONPATH"] = os.pathsep.join([str(granian_dir()), str(Path(__file__).resolve().parent)])
        cmd = [sys.executable, "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--workers", "1", "--runtime-threads", "1", "--log-level", "warning", "rsgi_front:app"]
    proc = pc.spawn(cmd, env, cwd=tree)
    proc.args_tree = tree  # type: ignore[attr-defined]
    return proc


def granian_dir() -> Path:
    """granian installed apart (``pip --target``): it is not one of the project's dependencies."""
    target = pc.TOOLS / "granian"
    if not (target / "granian").is_dir():
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--target", str(target), "granian>=2.5,<3"]
        if not pc.run_bounded(cmd, 300):
            sys.exit("could not install granian")
    return target


def serving_pid(proc: Any) -> int:
    """The process that serves: granian's worker, a child of its supervisor; else the process itself."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return int(children[0]) if children else proc.pid


def measure(wrk: str, target: dict[str, Any], plan: tuple, clients: int, seconds: float, tag: str) -> dict[str, Any]:
    method, path, auth, body, _expected = plan
    if target["reset"]:
        pc.reset(target["port"])
    script = pc.lua_script(method, path, auth, body, tag)
    load_before = _before.load_average()
    cpu = _before.cpu_seconds(target["pid"])
    run = pc.wrk_run(wrk, target["port"], path, script, clients, seconds)
    cpu = _before.cpu_seconds(target["pid"]) - cpu
    out = vars(run) | {"cpu_ms_per_request": cpu * 1000 / max(run.requests, 1)}
    out["load"] = (load_before + _before.load_average()) / 2
    return out


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    med = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99", "cpu_ms_per_request", "load")}
    med["worst_p99"] = max(r["p99"] for r in runs)
    med["errors"] = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
    return med


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=_before.DEFAULT_BEFORE)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated workload names to run (default: all)")
    parser.add_argument("--no-prism", action="store_true", help="before and after only")
    parser.add_argument("--budget", type=float, default=3600)
    parser.add_argument("--json")
    parser.add_argument(
        "--front",
        choices=("waitress", "granian-rsgi"),
        default="waitress",
        help="what serves this checkout: `mockserver serve`, or the experiment of rsgi_front.py",
    )
    args = parser.parse_args()
    pc._deadline = time.monotonic() + args.budget
    atexit.register(pc.stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wrk = pc.ensure_tools()
    base = _before.checkout(args.before)
    label = _before.short(ROOT) + ("+changes" if _before.dirty(ROOT) else "")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {pc.machine_line()}")
    print(f"before {_before.short(base)}, after {label} ({args.front}); {pc.tool_versions(wrk)}")
    print(f"load average at start: {pc.load_average()}", flush=True)

    before_port, after_port, ph_port, ld_port = pc.free_ports(4)
    started = time.monotonic()
    targets: dict[str, dict[str, Any]] = {}
    for name, tree, port in (("before", base, before_port), ("after", ROOT, after_port)):
        proc = start_tree(tree, port, args.front if name == "after" else "waitress")
        pc.wait_ready(proc, port, f"{pc.PH_BASE}/1/", pc.PH_AUTH, started)
        targets[name] = {"port": port, "pid": serving_pid(proc), "reset": True}
    prisms: dict[str, dict[str, Any]] = {}
    if not args.no_prism:
        for vendor, port, probe, auth in (
            ("posthog", ph_port, f"{pc.PH_BASE}/1/", pc.PH_AUTH),
            ("launchdarkly", ld_port, f"{pc.LD_BASE}/x", pc.LD_AUTH),
        ):
            proc = pc.start_prism(vendor, port)
            pc.wait_ready(proc, port, probe, auth, started)
            prisms[vendor] = {"port": port, "pid": proc.pid, "reset": False}
    plan = pc.workloads(after_port)
    only = {w.strip() for w in args.only.split(",")} if args.only else None
    results: dict[str, list[dict[str, Any]]] = {}
    tag = 0
    for vendor in pc.VENDORS:
        for workload in pc.WORKLOADS:
            if only and workload not in only and workload.split()[0] not in only:
                continue
            pair = {"before": targets["before"], "after": targets["after"]}
            if vendor in prisms:
                pair["prism"] = prisms[vendor]
            for name, target in pair.items():  # a warm-up per server and workload
                tag += 1
                pc.precheck(pc.Target(name, target["port"], target["pid"]), *plan[vendor][workload])
                measure(wrk, target, plan[vendor][workload], 16, 1, f"w{tag}")
            for clients in pc.CONCURRENCY:
                for _ in range(args.rounds):
                    for name, target in pair.items():
                        tag += 1
                        run = measure(wrk, target, plan[vendor][workload], clients, args.seconds, f"r{tag}")
                        results.setdefault(f"{vendor}|{workload}|{clients}|{name}", []).append(run)
                        print(
                            f"{name:7} {vendor:12} {workload:20} c={clients:<2} {run['rps']:7.0f} req/s "
                            f"p50 {run['p50']:6.2f} p99 {run['p99']:7.2f} ms cpu {run['cpu_ms_per_request']:.2f} "
                            f"ms/req load {run['load']:.1f}",
                            file=sys.stderr,
                            flush=True,
                        )
    pc.stop_all()
    text, misses = report(results, bool(prisms))
    print(text)
    print(f"\nload average at the end: {pc.load_average()}")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": results, "misses": misses}, indent=2))
    return 1 if misses else 0


def report(results: dict[str, list[dict[str, Any]]], with_prism: bool) -> tuple[str, list[str]]:
    lines = [
        "| vendor | workload | c | before req/s | after req/s | after/before | Prism req/s | after/Prism "
        "| before p50 / p99 ms | after p50 / p99 ms | after worst p99 | Prism p99 | CPU ms/req before → after "
        "| load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    misses: list[str] = []
    for vendor in pc.VENDORS:
        for workload in pc.WORKLOADS:
            for clients in pc.CONCURRENCY:
                key = f"{vendor}|{workload}|{clients}"
                if f"{key}|after" not in results:
                    continue
                b, a = summary(results[f"{key}|before"]), summary(results[f"{key}|after"])
                p = summary(results[f"{key}|prism"]) if with_prism else None
                prism_rps = f"{p['rps']:,.0f}" if p else "-"
                vs_prism = f"{a['rps'] / p['rps']:.2f}" if p else "-"
                lines.append(
                    f"| {vendor} | {workload} | {clients} | {b['rps']:,.0f} | {a['rps']:,.0f} | "
                    f"{a['rps'] / b['rps']:.2f} | {prism_rps} | {vs_prism} | {b['p50']:.2f} / {b['p99']:.2f} | "
                    f"{a['p50']:.2f} / {a['p99']:.2f} | {a['worst_p99']:.2f} | {p['p99'] if p else 0:.2f} | "
                    f"{b['cpu_ms_per_request']:.2f} → {a['cpu_ms_per_request']:.2f} | {a['load']:.1f} |"
                )
                if workload == "create POST":
                    limit = 5 if clients == 1 else 20
                    if a["p99"] > limit:
                        misses.append(f"{vendor} create c={clients}: p99 {a['p99']:.1f} ms (target <= {limit} ms)")
                if workload.startswith("list") and clients == 16 and p and a["rps"] < 1.2 * p["rps"]:
                    misses.append(f"{vendor} list c=16: {a['rps'] / p['rps']:.2f}x Prism (target >= 1.2x)")
    lines.append("\nTargets missed: " + ("; ".join(misses) if misses else "none"))
    return "\n".join(lines), misses


if __name__ == "__main__":
    sys.exit(main())
