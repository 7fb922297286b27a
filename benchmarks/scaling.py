"""Every endpoint's cost in a large state against the seeded world, before and after a change.

A request that scans a whole table costs nothing at the seeded size and tens of ms at 10,000
experiments; this finds such requests. For each checkout (``--before REV``, checked out into
``benchmarks/.tools/base``, and this one) a child process builds two apps in process: the seeded
world, and the seeded world with ``--count`` experiments per vendor loaded (``prism_compare``'s
list-growth document: each PostHog experiment with a flag of its own). It then times each
request of ``CASES`` through the WSGI app (median ms of ``--samples``): in the seeded world, in the
large state, and in the large state right after a write (what a read costs when nothing it
remembered is still valid). Writes are timed once: they change what they would be timed after.

    python benchmarks/scaling.py [--count 10000] [--samples 15] [--before REV]

Check: every request within 3x of its seeded cost in the large state (remembered), exit 1 if not.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _before
import prism_compare as pc

BEFORE = "e986c5a"  # the commit before the per-request scans were removed
LIMIT = 3.0
PH = {"Authorization": "Bearer phx_bench"}
LD = {"Authorization": "api-bench"}
P = "/api/projects/1"
E = "/api/v2/projects/default/environments/production"
SEMANTIC = "application/json; domain-model=launchdarkly.semanticpatch"
_counter = itertools.count()


def unique() -> int:
    return next(_counter)


# (method, path template, headers, body factory); {exp}, {flag} and {ld} are filled from the state.
CASES: list[tuple[str, str, dict[str, str], Callable[[], Any] | None]] = [
    ("GET", P + "/experiments/?limit=10", PH, None),
    ("GET", P + "/experiments/{exp}/", PH, None),
    ("GET", P + "/experiments/stats/", PH, None),
    ("GET", P + "/experiments/eligible_feature_flags/?limit=10", PH, None),
    ("GET", P + "/experiments/requires_flag_implementation/", PH, None),
    ("GET", P + "/feature_flags/?limit=10", PH, None),
    ("GET", P + "/feature_flags/{flag}/", PH, None),
    ("GET", P + "/experiment_holdouts/", PH, None),
    ("GET", P + "/experiment_saved_metrics/", PH, None),
    ("GET", P + "/cohorts/", PH, None),
    ("POST", P + "/experiments/", PH, lambda: {"name": "s", "feature_flag_key": f"s{unique()}"}),
    ("PATCH", P + "/experiments/{exp}/", PH, lambda: {"description": f"d{unique()}"}),
    ("POST", P + "/feature_flags/", PH, lambda: {"key": f"f{unique()}", "name": "f"}),
    ("PATCH", P + "/feature_flags/{flag}/", PH, lambda: {"name": f"n{unique()}"}),
    ("POST", P + "/experiments/{exp}/duplicate/", PH, lambda: {"feature_flag_key": f"dup{unique()}"}),
    ("GET", E + "/experiments?limit=10", LD, None),
    ("GET", E + "/experiments/{ld}", LD, None),
    ("GET", "/api/v2/projects/default/experiments?limit=10", LD, None),
    ("GET", "/api/v2/flags/default?limit=10", LD, None),
    ("GET", "/api/v2/flags/default/" + pc.LD_FLAG, LD, None),
    ("GET", "/api/v2/flag-status/default/" + pc.LD_FLAG, LD, None),
    ("GET", "/api/v2/flag-statuses/default/production", LD, None),
    ("GET", "/api/v2/metrics/default", LD, None),
    ("GET", "/api/v2/metrics/default/checkout-completed", LD, None),
    ("GET", E + "/holdouts", LD, None),
    ("GET", "/api/v2/projects/default/layers", LD, None),
    ("GET", "/api/v2/projects/default/experimentation-settings", LD, None),
    (
        "PATCH",
        E + "/experiments/{ld}",
        {**LD, "Content-Type": SEMANTIC},
        lambda: {"instructions": [{"kind": "updateName", "value": f"n{unique()}"}]},
    ),
]


# ---------------------------------------------------------------------------------------------
# The child: one checkout, in process


def _app(count: int) -> Any:
    import orjson

    from mockserver.app import create_app
    from mockserver.core import documents
    from mockserver.core.settings import Settings

    app = create_app(Settings(port=0, max_state_bytes=2**30))
    client = app.test_client()
    if count:
        seeded = orjson.loads(orjson.dumps(documents.export(app.extensions["mockserver"])))
        payload = orjson.dumps(pc.state_with(seeded, count))
        answer = client.put("/__admin/state", data=payload, content_type="application/json")
        if answer.status_code != 200:
            raise RuntimeError(f"import: {answer.status_code} {answer.data[:300]!r}")
    return client


def _ids(client: Any) -> dict[str, Any]:
    return {
        "exp": client.get(P + "/experiments/?limit=1", headers=PH).get_json()["results"][0]["id"],
        "flag": client.get(P + "/feature_flags/?limit=1", headers=PH).get_json()["results"][0]["id"],
        "ld": client.get(E + "/experiments?limit=1", headers=LD).get_json()["items"][0]["key"],
    }


def _timed(client: Any, method: str, path: str, headers: dict[str, str], body: Any) -> float | str:
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data"] = json.dumps(body)
        kwargs["headers"] = {"Content-Type": "application/json", **headers}
    began = time.perf_counter()
    answer = client.open(path, method=method, **kwargs)
    elapsed = (time.perf_counter() - began) * 1000
    return elapsed if answer.status_code < 400 else f"HTTP {answer.status_code}"


def _median(client: Any, case: tuple, ids: dict[str, Any], samples: int, before: Callable[[], None] | None) -> Any:
    method, template, headers, body = case
    path = template.format(**ids)
    times = []
    for _ in range(samples):
        if before is not None:
            before()
        took = _timed(client, method, path, headers, body() if body else None)
        if isinstance(took, str):
            return took
        times.append(took)
    return statistics.median(times)


def child(count: int, samples: int) -> None:
    small, large = _app(0), _app(count)
    small_ids, large_ids = _ids(small), _ids(large)

    def write() -> None:  # an unrelated committed write: everything remembered is stale after it
        other = large_ids["exp"]
        large.patch(f"{P}/experiments/{other}/", json={"description": f"w{unique()}"}, headers=PH)

    out = {}
    for case in CASES:
        reads = case[0] == "GET"
        out[f"{case[0]} {case[1]}"] = {
            "seeded": _median(small, case, small_ids, samples, None),
            "large": _median(large, case, large_ids, samples, None),
            "after_write": _median(large, case, large_ids, max(3, samples // 3), write) if reads else None,
        }
    print(json.dumps(out))


# ---------------------------------------------------------------------------------------------
# The parent: both checkouts side by side


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else "—" if value is None else f"{value:.2f}"


def _ratio(value: Any, base: Any) -> str:
    if not isinstance(value, float) or not isinstance(base, float):
        return "—"
    return f"{value / base:.1f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--count", type=int, default=10_000, help="experiments per vendor in the large state")
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.count, args.samples)
        return 0
    base = _before.begin(args.before, pc.machine_line())
    results = {}
    for name, tree in (("before", base), ("after", _before.ROOT)):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--count", str(args.count)]
        cmd += ["--samples", str(args.samples)]
        done = subprocess.run(cmd, env=_before.env(tree), cwd=tree, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(f"{name}: {done.stderr[-2000:]}")
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{name} done, load {_before.load_average():.1f}", file=sys.stderr, flush=True)
    print(f"\n{args.count:,} experiments per vendor; median ms per request in process\n")
    print(
        "| request | before seeded | before large | before large/seeded | after seeded | after large | "
        "after large/seeded | after, first read after a write |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    over = []
    for key, after in results["after"].items():
        before = results["before"].get(key, {})
        ratio = after["large"] / after["seeded"] if isinstance(after["large"], float) else None
        if ratio is not None and ratio > LIMIT:
            over.append(key)
        print(
            f"| {key} | {_cell(before.get('seeded'))} | {_cell(before.get('large'))} | "
            f"{_ratio(before.get('large'), before.get('seeded'))} | {_cell(after['seeded'])} | "
            f"{_cell(after['large'])} | {_ratio(after['large'], after['seeded'])} | {_cell(after['after_write'])} |"
        )
    print(f"\nOver {LIMIT:.0f}x their seeded cost in the large state: {', '.join(over) if over else 'none'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
