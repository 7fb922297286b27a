"""Memory per 10,000 stored experiments, as the README states it.

    python benchmarks/memory.py [--count 10000]

Builds the app in a fresh process, creates COUNT PostHog experiments (each with its flag) through
the API (in process), then stores COUNT copies of a seeded LaunchDarkly experiment (an API create
needs a flag of its own each), and prints the resident set size before and after each step, from
/proc/self/status.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

WORKER = textwrap.dedent(
    """
    import gc, json, sys, copy
    from datetime import UTC, datetime
    from mockserver.app import create_app
    from mockserver.core.settings import Settings

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    count = int(sys.argv[1])
    app = create_app(Settings(now=datetime(2026, 11, 20, 12, tzinfo=UTC), port=0, journal_size=1))
    client = app.test_client()
    ph = {"Authorization": "Bearer phx_mem"}
    gc.collect()
    out = {"start": rss_mb()}
    for n in range(count):
        body = {"name": f"Memory {n}", "feature_flag_key": f"memory-{n}", "description": "A stored experiment"}
        assert client.post("/api/projects/1/experiments/", json=body, headers=ph).status_code == 201
    gc.collect()
    out["posthog"] = rss_mb()
    state = app.extensions["mockserver"].store.data["launchdarkly"]["experiments"]
    sample = next(iter(state.values()))
    for n in range(count):  # LaunchDarkly experiments copied from a seeded one (its create needs a flag each)
        record = copy.deepcopy(dict(sample))
        record["key"] = f"memory-{n}"
        state[f"default/production/memory-{n}"] = record
    gc.collect()
    out["launchdarkly"] = rss_mb()
    print(json.dumps(out))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    result = subprocess.run([sys.executable, "-c", WORKER, str(args.count)], capture_output=True, text=True, check=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    ph = figures["posthog"] - figures["start"]
    ld = figures["launchdarkly"] - figures["posthog"]
    print(f"resident set at start: {figures['start']:.0f} MB")
    print(f"{args.count:,} PostHog experiments (with their flags): +{ph:.0f} MB")
    print(f"{args.count:,} LaunchDarkly experiments: +{ld:.0f} MB")


if __name__ == "__main__":
    main()
