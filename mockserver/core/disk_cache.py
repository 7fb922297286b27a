"""Start-up work kept on disk: the parsed specs, and the seeded world of each seed.

Parsing the bundled YAML specs takes ~0.15 s of every start-up, and seeding a world ~0.1 s more
(most of it importing Faker and building its providers); loading the same data back with
``marshal`` takes a few milliseconds. An entry is named by a digest of everything that made it:
the YAML bytes for a spec; for a seeded world the seed, the anchor instant, the vendor part, the
source files of the package that seeds it and of ``mockserver`` itself (path, size, modification
time), and Faker's version. So an edit
to a spec or to seeding code simply builds it again. A missing, unreadable or corrupt entry, or a
folder that cannot be written, only costs the build.

``marshal`` holds exactly what a YAML safe load or a seeder returns (dicts, lists, strings,
numbers, booleans, None; integer keys stay integers) and constructs nothing else. The folder is
``$MOCKSERVER_CACHE_DIR``, else ``$XDG_CACHE_HOME/mockserver`` or ``~/.cache/mockserver``;
``MOCKSERVER_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

FORMAT = 1
KEPT = 32  # entries per kind (specs, seeds)
T = TypeVar("T")


def cache_dir() -> Path | None:
    given = os.environ.get("MOCKSERVER_CACHE_DIR")
    if given:
        return None if given.lower() in ("off", "none", "0") else Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None  # no home folder (a user without one in a container): no cache, not one in the cwd
    return Path(base) / "mockserver"


def fetch(kind: str, name: str, key: bytes, build: Callable[[], T]) -> T:
    """What ``build()`` returns, from the entry named by ``key`` when there is one; a fresh object
    on every call either way (a caller may change what it gets)."""
    folder = cache_dir()
    if folder is None:
        return build()
    digest = hashlib.blake2b(key + f"|{FORMAT}|{sys.version_info[:2]}".encode(), digest_size=16).hexdigest()
    entry = folder / kind / f"{name}-{digest}.marshal"
    try:
        return marshal.loads(entry.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        pass
    value = build()
    if _store(entry, value):
        _prune(entry.parent)
    return value


def load_yaml(path: Path) -> Any:
    """``path`` parsed by YAML's safe loader."""
    raw = path.read_bytes()
    return fetch("specs", path.stem, raw, lambda: yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


@functools.cache
def source_digest(module_name: str) -> bytes:
    """What a seeded world depends on besides its seed and anchor: the Python source of
    ``mockserver`` and of the package ``module_name`` is in (each file's path, size and
    modification time, as Python's own bytecode cache checks them), and Faker's version."""
    own = Path(__file__).resolve().parents[1]
    digest = hashlib.blake2b(_tree_digest(own), digest_size=16)
    module = sys.modules.get(module_name)
    if module is not None and getattr(module, "__file__", None):
        package = Path(module.__file__).resolve().parent
        if own not in package.parents and package != own:
            digest.update(_tree_digest(package))
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        digest.update(importlib.metadata.version("faker").encode())
    return digest.digest()


@functools.cache
def _tree_digest(root: Path) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(root.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path.relative_to(root)}|{info.st_size}|{info.st_mtime_ns}\0".encode())
    return digest.digest()


def _prune(folder: Path) -> None:
    """Keep the ``KEPT`` newest entries of a folder: every edit of the code or a spec, and every
    seed a suite tries, makes a new one, and nothing else ever removes the old."""
    try:
        entries = sorted(folder.glob("*.marshal"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # another process pruned first


def _store(entry: Path, data: Any) -> bool:
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
        return False
    return True
