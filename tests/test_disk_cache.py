"""Start-up work kept on disk (parsed specs, seeded worlds): the same data as building it, a fresh
object per load, and nothing but time lost when the cache is corrupt, stale or unwritable."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.core import disk_cache
from mockserver.core.clock import Clock
from mockserver.core.contract import specs_dir
from mockserver.core.store import SeedContext, Store, pure_seeder
from mockserver.vendors.launchdarkly import seed as launchdarkly_seed
from mockserver.vendors.posthog import seed as posthog_seed


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(folder))
    return folder


def parsed(path: Path) -> object:
    return yaml.load(path.read_bytes(), Loader=yaml.SafeLoader)


@pytest.mark.parametrize("name", ["posthog", "launchdarkly", "admin"])
def test_a_cached_spec_is_the_parsed_spec(cache: Path, name: str):
    path = specs_dir() / f"{name}.yaml"
    first = disk_cache.load_yaml(path)
    assert len(list((cache / "specs").glob(f"{name}-*.marshal"))) == 1
    second = disk_cache.load_yaml(path)
    assert first == second == parsed(path)
    assert first is not second
    second["paths"].clear()  # a caller may change what it got
    assert disk_cache.load_yaml(path) == first


def test_integer_keys_stay_integers(cache: Path, tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("responses:\n  200: {description: ok}\n  '404': {description: gone}\n")
    disk_cache.load_yaml(spec)
    assert disk_cache.load_yaml(spec) == {"responses": {200: {"description": "ok"}, "404": {"description": "gone"}}}


def test_an_edited_spec_is_parsed_again(cache: Path, tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\n")
    assert disk_cache.load_yaml(spec) == {"a": 1}
    spec.write_text("a: 2\n")
    assert disk_cache.load_yaml(spec) == {"a": 2}
    assert len(list((cache / "specs").glob("s-*.marshal"))) == 2


def test_a_corrupt_entry_costs_only_the_parse(cache: Path, tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: [1, 2]\n")
    disk_cache.load_yaml(spec)
    (entry,) = (cache / "specs").glob("s-*.marshal")
    entry.write_bytes(b"\x00garbage")
    assert disk_cache.load_yaml(spec) == {"a": [1, 2]}
    entry.write_bytes(entry.read_bytes()[:3])
    assert disk_cache.load_yaml(spec) == {"a": [1, 2]}


def test_an_unwritable_or_disabled_cache_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\n")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(blocker / "cache"))
    assert disk_cache.load_yaml(spec) == {"a": 1}
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", "off")
    assert disk_cache.cache_dir() is None
    assert disk_cache.load_yaml(spec) == {"a": 1}


def test_no_home_folder_means_no_cache(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MOCKSERVER_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr("os.path.expanduser", lambda path: path)  # what an unknown user gets
    assert disk_cache.cache_dir() is None


# ---------------------------------------------------------------------------------------------
# Seeded worlds


ANCHOR = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _store(seeders: dict[str, Any], seed: int = 42) -> Store:
    store = Store(seed, Clock(ANCHOR), ANCHOR)
    for part, seeder in seeders.items():
        store.register(part, seeder)
    return store


@pytest.mark.parametrize("seed", [42, 7, None], ids=["seed-42", "seed-7", "random-seed"])
def test_a_cached_world_is_the_seeded_world(cache: Path, monkeypatch: pytest.MonkeyPatch, seed: int | None):
    if seed is None:  # the session's fuzzing seed (shown in pytest's header; replay with MOCKSERVER_FUZZ_SEED)
        seed = int(os.environ.get("MOCKSERVER_FUZZ_SEED") or random.randrange(1, 2**31)) % 100_000
    seeders = {"posthog": posthog_seed.seed, "launchdarkly": launchdarkly_seed.seed}
    first = _store(seeders, seed).seeded()
    assert len(list((cache / "seeds").glob("*.marshal"))) == 2
    cached = _store(seeders, seed).seeded()
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", "off")
    fresh = _store(seeders, seed).seeded()
    same = json.dumps(cached, sort_keys=True) == json.dumps(fresh, sort_keys=True) == json.dumps(first, sort_keys=True)
    assert same, f"seed {seed}"


def test_another_seed_anchor_or_source_is_another_entry(cache: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []

    @pure_seeder
    def seeder(ctx: SeedContext) -> dict[str, Any]:
        calls.append(ctx.seed)
        return {"n": {"1": {"seed": ctx.seed, "at": ctx.anchor.isoformat()}}}

    assert _store({"p": seeder}).data["p"]["n"]["1"]["seed"] == 42
    _store({"p": seeder})
    assert calls == [42]  # the second start loaded it
    _store({"p": seeder}, seed=43)
    later = Store(42, Clock(ANCHOR), ANCHOR.replace(year=2030))
    later.register("p", seeder)
    assert later.data["p"]["n"]["1"]["at"].startswith("2030")
    assert calls == [42, 43, 42]
    monkeypatch.setattr(disk_cache, "source_digest", lambda name: b"edited")
    _store({"p": seeder})
    assert calls == [42, 43, 42, 42]


def test_an_unmarked_seeder_is_never_cached(cache: Path):
    rows = {"1": {"v": 1}}
    _store({"p": lambda ctx: {"t": dict(rows)}})
    rows["1"] = {"v": 2}
    assert _store({"p": lambda ctx: {"t": dict(rows)}}).data["p"]["t"]["1"] == {"v": 2}
    assert not (cache / "seeds").exists()


def test_a_cached_start_imports_no_faker(cache: Path):
    code = (
        "import sys\n"
        "from mockserver.app import create_app\n"
        "app = create_app()\n"
        "r = app.test_client().get('/api/projects/1/experiments/', headers={'Authorization': 'Bearer phx_x'})\n"
        "assert r.status_code == 200 and r.json['count'] > 0, r.status_code\n"
        "print('faker' in sys.modules)\n"
    )
    env = {**os.environ, "MOCKSERVER_CACHE_DIR": str(cache)}
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env) for _ in "ab"
    ]
    assert [run.stdout.strip() for run in runs] == ["True", "False"], [run.stderr[-2000:] for run in runs]


def test_the_first_reset_reuses_the_world_registered_at_start(cache: Path):
    calls: list[int] = []

    def seeder(ctx: SeedContext) -> dict[str, Any]:
        calls.append(ctx.seed)
        return {"t": {"1": {"v": ctx.seed}}}

    store = _store({"p": seeder})
    with store.transaction():
        store.data["p"]["t"]["1"]["v"] = -1
    store.reset()
    assert calls == [42] and store.data["p"]["t"]["1"] == {"v": 42}
    store.reset(7)
    assert calls == [42, 7] and store.data["p"]["t"]["1"] == {"v": 7}
    store.reset(42)
    assert calls == [42, 7] and store.data["p"]["t"]["1"] == {"v": 42}  # both worlds are baselines now


def test_old_entries_are_pruned(cache: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(disk_cache, "KEPT", 3)
    written: set[Path] = set()
    for n in range(6):
        disk_cache.fetch("seeds", "p", str(n).encode(), lambda n=n: {"n": n})
        (new,) = set((cache / "seeds").glob("*.marshal")) - written
        os.utime(new, ns=(n * 10**9, n * 10**9))  # strictly newer than the ones before
        written.add(new)
    assert len(list((cache / "seeds").glob("*.marshal"))) == 3
    assert disk_cache.fetch("seeds", "p", b"5", lambda: {"n": "rebuilt"}) == {"n": 5}  # the newest stays
