"""Contract checks vs none: throughput of the same server with validation on and off, side by side.

Runs two servers as separate processes on 127.0.0.1 (one with request and response validation,
one without), drives both with the same client in alternating rounds, and prints requests/s per
workload and the on/off ratio (target: at least 0.5). Also measures the same in process through the
WSGI app (no sockets, so the ratio shows server CPU alone) and cold start to a healthy
/__admin/health (target: under 1 s).

    python benchmarks/validation_overhead.py [--seconds 2] [--rounds 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

AUTH = {"Authorization": "Bearer phx_bench"}
_counter = itertools.count()
WORKLOADS = {
    "detail GET": ("GET", "/api/projects/1/experiments/4/", None),
    "list GET (limit=10)": ("GET", "/api/projects/1/experiments/?limit=10", None),
    "create POST": ("POST", "/api/projects/1/experiments/", "create"),
}


def body_for(kind: str | None) -> bytes | None:
    if kind != "create":
        return None
    n = next(_counter)
    return json.dumps({"name": f"Bench {n}", "feature_flag_key": f"bench-{os.getpid()}-{n}"}).encode()


def serve(mode: str, port: int) -> None:
    """Child process: the server under test, validation on or off."""
    import logging

    from werkzeug.serving import make_server

    from mockserver.app import create_app
    from mockserver.core.settings import Settings

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    on = mode == "on"
    settings = Settings(port=port, response_validation="strict" if on else "off", request_validation=on)
    server = make_server("127.0.0.1", port, create_app(settings), threaded=True)
    print("ready", flush=True)
    server.serve_forever()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(mode: str) -> tuple[subprocess.Popen, int, float]:
    port = free_port()
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", mode, "--port", str(port)], stdout=subprocess.PIPE)
    wait_healthy(port, 30)
    return proc, port, time.perf_counter() - began


def cold_start() -> float:
    """The shipped command (waitress, validation on), from process start to the first healthy answer."""
    port = free_port()
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port, 30)
        return time.perf_counter() - began
    finally:
        proc.kill()
        proc.wait()


def wait_healthy(port: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/__admin/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError("server did not become healthy")


def one_request(port: int, method: str, path: str, kind: str | None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = body_for(kind)
    headers = dict(AUTH, **({"Content-Type": "application/json"} if body else {}))
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def drive_http(port: int, workload: tuple, seconds: float, threads: int) -> float:
    method, path, kind = workload
    done = [0] * threads
    bad = []
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            status = one_request(port, method, path, kind)
            if status >= 400:
                bad.append(status)
            done[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    began = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if bad:
        raise RuntimeError(f"errors during the run: {bad[:5]}")
    return sum(done) / (time.perf_counter() - began)


def drive_wsgi(app, workload: tuple, seconds: float) -> float:
    method, path, kind = workload
    client = app.test_client()
    count = 0
    stop = time.monotonic() + seconds
    began = time.perf_counter()
    while time.monotonic() < stop:
        body = body_for(kind)
        response = client.open(
            path, method=method, headers=AUTH, data=body, content_type="application/json" if body else None
        )
        assert response.status_code < 400, response.data
        count += 1
    return count / (time.perf_counter() - began)


def best(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=("on", "off"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0

    import platform

    print(
        f"# validation overhead — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    cold = [cold_start() for _ in range(5)]
    print(
        f"`mockserver serve` cold start to healthy: median {statistics.median(cold) * 1000:.0f} ms, "
        f"max {max(cold) * 1000:.0f} ms (target < 1000 ms)"
    )

    on_proc, on_port, _ = start("on")
    off_proc, off_port, _ = start("off")
    failures = 0
    try:
        print(
            f"\nover HTTP on loopback, {args.threads} client threads, {args.rounds} alternating rounds of "
            f"{args.seconds:.0f} s (median req/s)"
        )
        print(f"{'workload':22} {'on':>9} {'off':>9} {'on/off':>7}")
        for name, workload in WORKLOADS.items():
            on, off = [], []
            for _ in range(args.rounds):
                on.append(drive_http(on_port, workload, args.seconds, args.threads))
                off.append(drive_http(off_port, workload, args.seconds, args.threads))
            ratio = best(on) / best(off)
            failures += ratio < 0.5
            print(f"{name:22} {best(on):9.0f} {best(off):9.0f} {ratio:7.2f}")
    finally:
        for proc in (on_proc, off_proc):
            proc.kill()
            proc.wait()

    from mockserver.app import create_app
    from mockserver.core.settings import Settings

    apps = {
        "on": create_app(Settings(response_validation="strict")),
        "off": create_app(Settings(response_validation="off", request_validation=False)),
    }
    print(f"\nin process (WSGI, no sockets), {args.rounds} alternating rounds of {args.seconds:.0f} s")
    print(f"{'workload':22} {'on':>9} {'off':>9} {'on/off':>7}")
    for name, workload in WORKLOADS.items():
        on, off = [], []
        for _ in range(args.rounds):
            on.append(drive_wsgi(apps["on"], workload, args.seconds))
            off.append(drive_wsgi(apps["off"], workload, args.seconds))
        ratio = best(on) / best(off)
        failures += ratio < 0.5
        print(f"{name:22} {best(on):9.0f} {best(off):9.0f} {ratio:7.2f}")
    per_call(apps["on"])
    print("\nall ratios >= 0.5" if not failures else f"\n{failures} ratio(s) below 0.5")
    return 0


def _timed(n: int, fn, *args) -> float:
    """Mean microseconds of ``fn(*args)`` over ``n`` calls."""
    began = time.perf_counter()
    for _ in range(n):
        fn(*args)
    return (time.perf_counter() - began) / n * 1e6


def per_call(app) -> None:
    """Cost of one check, plain openapi-core against the compiled fast path, on the same messages."""
    from openapi_core.testing import MockRequest, MockResponse
    from werkzeug.datastructures import Headers, MultiDict

    contract = app.extensions["mockserver"].vendors[0].contract
    client = app.test_client()
    print("\nper check (µs): plain openapi-core validate_request / validate_response vs the fast path")
    print(f"{'workload':22} {'req plain':>10} {'req fast':>9} {'resp plain':>11} {'resp fast':>10}")
    cases = {
        "detail GET": ("experiments_retrieve", "GET", "/api/projects/1/experiments/4/", {}, None, {"id": "4"}),
        "list GET (limit=10)": ("experiments_list", "GET", "/api/projects/1/experiments/", {"limit": "10"}, None, {}),
        "create POST": ("experiments_create", "POST", "/api/projects/1/experiments/", {}, "create", {}),
    }
    for name, (op_id, method, path, query, kind, ids) in cases.items():
        body = body_for(kind) or b""
        response = client.open(
            path,
            method=method,
            headers=AUTH,
            query_string=query,
            data=body or None,
            content_type="application/json" if body else None,
        )
        status, payload, raw = response.status_code, response.get_json(), response.get_data()
        request = MockRequest(
            "http://localhost",
            method.lower(),
            path,
            args=query,
            headers=AUTH,
            data=body,
            content_type="application/json" if body else None,
        )
        mock_response = MockResponse(raw, status_code=status, content_type="application/json")
        path_args = {"project_id": "1", **ids}
        mimetype = "application/json" if body else None
        req_plain = _timed(50, contract.openapi.validate_request, request)
        req_fast = _timed(
            200, contract.validate_request, op_id, path_args, MultiDict(query), Headers(AUTH), mimetype, body
        )
        resp_plain = _timed(50, contract.openapi.validate_response, request, mock_response)
        resp_fast = _timed(200, contract.response_problems, op_id, status, "application/json", payload)
        print(f"{name:22} {req_plain:10.0f} {req_fast:9.0f} {resp_plain:11.0f} {resp_fast:10.0f}")


if __name__ == "__main__":
    raise SystemExit(main())
