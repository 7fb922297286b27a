"""Parsed YAML specs kept on disk: parsing the bundled specs takes ~0.15 s of every start-up, and
loading the same data back with ``marshal`` takes a few milliseconds.

An entry is named by a digest of the YAML bytes (and the cache format and Python version), so an
edited spec is simply parsed again; a missing, unreadable or corrupt entry, or a cache folder that
cannot be written, only costs the parse. ``marshal`` holds exactly what a YAML safe load returns
for a spec (dicts, lists, strings, numbers, booleans, None; integer keys stay integers) and builds
nothing else. ``MOCKSERVER_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

FORMAT = 1


def cache_dir() -> Path | None:
    given = os.environ.get("MOCKSERVER_CACHE_DIR")
    if given:
        return None if given.lower() in ("off", "none", "0") else Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None  # no home folder (a user without one in a container): no cache, not one in the cwd
    return Path(base) / "mockserver" / "specs"


def load_yaml(path: Path) -> Any:
    """``path`` parsed by YAML's safe loader, from the cache when it holds these exact bytes."""
    raw = path.read_bytes()
    folder = cache_dir()
    if folder is None:
        return _parse(raw)
    digest = hashlib.blake2b(raw + f"|{FORMAT}|{sys.version_info[:2]}".encode(), digest_size=16).hexdigest()
    entry = folder / f"{path.stem}-{digest}.marshal"
    try:
        return marshal.loads(entry.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        pass
    data = _parse(raw)
    _store(entry, data)
    return data


def _parse(raw: bytes) -> Any:
    return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _store(entry: Path, data: Any) -> None:
    """Write atomically (a reader never sees half an entry); give up quietly when it cannot."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                marshal.dump(data, fh)
            os.replace(temp, entry)
        except BaseException:
            os.unlink(temp)
            raise
    except (OSError, ValueError):
        pass
