"""Parsed specs kept on disk: the same data as a parse, a fresh object per load, and nothing but
time lost when the cache is corrupt, stale or unwritable."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mockserver.core import spec_cache
from mockserver.core.contract import specs_dir


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
    first = spec_cache.load_yaml(path)
    assert len(list(cache.glob(f"{name}-*.marshal"))) == 1
    second = spec_cache.load_yaml(path)
    assert first == second == parsed(path)
    assert first is not second
    second["paths"].clear()  # a caller may change what it got
    assert spec_cache.load_yaml(path) == first


def test_integer_keys_stay_integers(cache: Path, tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("responses:\n  200: {description: ok}\n  '404': {description: gone}\n")
    spec_cache.load_yaml(spec)
    assert spec_cache.load_yaml(spec) == {"responses": {200: {"description": "ok"}, "404": {"description": "gone"}}}


def test_an_edited_spec_is_parsed_again(cache: Path, tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\n")
    assert spec_cache.load_yaml(spec) == {"a": 1}
    spec.write_text("a: 2\n")
    assert spec_cache.load_yaml(spec) == {"a": 2}
    assert len(list(cache.glob("s-*.marshal"))) == 2


def test_a_corrupt_entry_costs_only_the_parse(cache: Path, tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: [1, 2]\n")
    spec_cache.load_yaml(spec)
    (entry,) = cache.glob("s-*.marshal")
    entry.write_bytes(b"\x00garbage")
    assert spec_cache.load_yaml(spec) == {"a": [1, 2]}
    entry.write_bytes(entry.read_bytes()[:3])
    assert spec_cache.load_yaml(spec) == {"a": [1, 2]}


def test_an_unwritable_or_disabled_cache_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    spec = tmp_path / "s.yaml"
    spec.write_text("a: 1\n")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(blocker / "cache"))
    assert spec_cache.load_yaml(spec) == {"a": 1}
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", "off")
    assert spec_cache.cache_dir() is None
    assert spec_cache.load_yaml(spec) == {"a": 1}


def test_no_home_folder_means_no_cache(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MOCKSERVER_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr("os.path.expanduser", lambda path: path)  # what an unknown user gets
    assert spec_cache.cache_dir() is None
