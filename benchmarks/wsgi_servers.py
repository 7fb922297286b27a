"""Which production WSGI server should the container run? Same app, same load, one process each.

Starts the mock under each candidate (one process, a thread pool: the state lives in memory),
drives it from a separate process with keep-alive clients for a fixed time, and prints requests
per second and latency percentiles for a small admin call and a typical vendor call. The load
comes from wrk when it is on PATH (``apt-get install wrk``; a C client, so the client is never the
bottleneck), else from Python keep-alive clients in a separate process.

    pip install '.[bench]'
    python benchmarks/wsgi_servers.py [--seconds 5] [--clients 8] [--threads 8]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

SERVERS = {
    "werkzeug (dev)": (
        "from werkzeug.serving import make_server\nmake_server('127.0.0.1', {port}, app, threaded=True).serve_forever()"
    ),
    "waitress": "import waitress\nwaitress.serve(app, host='127.0.0.1', port={port}, threads={threads}, _quiet=True)",
    "cheroot": (
        "from cheroot.wsgi import Server\nServer(('127.0.0.1', {port}), app, numthreads={threads}).safe_start()"
    ),
    # started through their own command lines:
    "gunicorn gthread (1 worker)": None,
    "granian (1 worker, N blocking threads)": None,
    "granian (1 worker, 1 blocking thread)": None,
}
MODULES = {
    "cheroot": "cheroot",
    "gunicorn gthread (1 worker)": "gunicorn",
    "granian (1 worker, N blocking threads)": "granian",
    "granian (1 worker, 1 blocking thread)": "granian",
}
PATHS = {
    "admin health": "/__admin/health",
    "experiment detail": "/api/projects/1/experiments/4/",
    "experiment list": "/api/projects/1/experiments/?limit=10",
}
HEADERS = {"Authorization": "Bearer phx_bench"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str, port: int, threads: int) -> subprocess.Popen:
    env = dict(os.environ, MOCKSERVER_RESPONSE_VALIDATION="strict")
    if name.startswith("gunicorn"):
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "mockserver.app:create_app()",
        ]
    elif name.startswith("granian"):
        blocking = 1 if "1 blocking thread" in name else threads
        cmd = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--blocking-threads",
            str(blocking),
            "--log-level",
            "warning",
            "--factory",
            "mockserver.app:create_app",
        ]
    else:
        code = "from mockserver.app import create_app\napp = create_app()\n" + SERVERS[name].format(
            port=port, threads=threads
        )
        cmd = [sys.executable, "-c", code]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/__admin/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not start")


def _client(port: int, path: str, stop_at: float, out: list[float], errors: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < stop_at:
        began = time.perf_counter()
        try:
            conn.request("GET", path, headers=HEADERS)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
        except OSError:
            errors.append(0)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        out.append(time.perf_counter() - began)


def load(args: tuple[int, str, float, int]) -> dict[str, float]:
    port, path, seconds, clients = args
    latencies: list[float] = []
    errors: list[int] = []
    stop_at = time.monotonic() + seconds
    workers = [threading.Thread(target=_client, args=(port, path, stop_at, latencies, errors)) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000,
        "errors": len(errors),
    }


def load_wrk(wrk: str, port: int, path: str, seconds: float, clients: int) -> dict[str, float]:
    """The same measurement with wrk (prism_compare.py's runner), keep-alive connections too."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import prism_compare

    script = prism_compare.lua_script("GET", path, HEADERS["Authorization"], None, "wsgi")
    run = prism_compare.wrk_run(wrk, port, path, script, clients, seconds)
    return {"rps": run.rps, "p50_ms": run.p50, "p99_ms": run.p99, "mean_ms": 0.0, "errors": run.non_2xx}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    parser.add_argument("--python-client", action="store_true", help="load from Python even when wrk is present")
    args = parser.parse_args()
    wrk = None if args.python_client else shutil.which("wrk")
    results: dict[str, dict[str, dict[str, float]]] = {}
    ctx = multiprocessing.get_context("spawn")
    for name in SERVERS:
        module = MODULES.get(name)
        if module and importlib.util.find_spec(module) is None:
            print(f"skipping {name}: pip install '.[bench]'", file=sys.stderr)
            continue
        port = free_port()
        proc = start(name, port, args.threads)
        try:
            if wrk:
                for path in PATHS.values():  # warm up (validators compile on first use)
                    load_wrk(wrk, port, path, 1, args.clients)
                results[name] = {
                    label: load_wrk(wrk, port, path, args.seconds, args.clients) for label, path in PATHS.items()
                }
            else:
                with ctx.Pool(1) as pool:
                    pool.map(load, [(port, PATHS["admin health"], 1.0, args.clients)])  # warm up
                    results[name] = {
                        label: pool.map(load, [(port, path, args.seconds, args.clients)])[0]
                        for label, path in PATHS.items()
                    }
        finally:
            proc.terminate()
            proc.wait(10)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    baseline = results["werkzeug (dev)"]
    client = "wrk" if wrk else "Python"
    print(
        f"{args.clients} keep-alive {client} clients, {args.threads} server threads, {args.seconds:g}s per path, "
        f"{os.cpu_count()} CPUs"
    )
    for label in PATHS:
        print(f"\n{label} ({PATHS[label]})")
        print(f"  {'server':40} {'req/s':>8} {'vs dev':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
        for name, by_path in results.items():
            row = by_path[label]
            ratio = row["rps"] / baseline[label]["rps"]
            print(
                f"  {name:40} {row['rps']:8.0f} {ratio:6.2f}x {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} "
                f"{row['errors']:6d}"
            )


if __name__ == "__main__":
    main()
