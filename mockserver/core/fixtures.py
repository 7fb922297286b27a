"""Fixtures: named state documents shipped in fixtures/, or any document file."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.core.documents import SnapshotError, install

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def fixtures_dir() -> Path:
    """The installed ``mockserver.fixtures`` (a namespace package: look at its locations), else the checkout's."""
    try:
        found = importlib.util.find_spec("mockserver.fixtures")
    except ModuleNotFoundError:
        found = None
    for location in (found.submodule_search_locations or []) if found else []:
        if (Path(location) / "demo.json").is_file():
            return Path(location)
    return Path(__file__).resolve().parents[2] / "fixtures"


def fixture_names() -> list[str]:
    return sorted(p.stem for p in fixtures_dir().glob("*.json"))


def read_fixture(name_or_path: str | os.PathLike[str]) -> dict[str, Any]:
    """A fixture by name (``demo``) or path; the error says which file and what is wrong."""
    text = str(name_or_path)
    path = fixtures_dir() / f"{text}.json" if _NAME.match(text) else Path(text)
    if not path.is_file():
        if _NAME.match(text):
            raise SnapshotError(None, f"no fixture named {text!r}; known fixtures: {', '.join(fixture_names())}")
        raise SnapshotError(None, f"fixture file {text} does not exist")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SnapshotError(None, f"fixture {path} is not valid JSON: {exc}") from None
    return doc


def load_fixture(runtime: Runtime, name_or_path: str, seed: int | None = None) -> dict[str, Any]:
    """Install a fixture; returns its document. Errors name the file and the field."""
    doc = read_fixture(name_or_path)
    try:
        install(runtime, doc, seed)
    except SnapshotError as exc:
        raise SnapshotError(exc.field, f"{exc.detail} (in fixture {name_or_path})") from None
    return doc
