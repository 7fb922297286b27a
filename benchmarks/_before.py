"""The code before a change, checked out beside this one, for side-by-side benchmarks.

``checkout(rev)`` puts ``rev`` into ``benchmarks/.tools/base`` with ``git worktree`` (reused on the
next run) and returns it; ``env(tree)`` is the environment that runs ``mockserver`` from that tree
with this checkout's virtualenv (the dependencies are the same).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "benchmarks" / ".tools"
# main when the server-side speed work was merged onto it: the code before.
DEFAULT_BEFORE = "37378ae"


def checkout(rev: str, name: str = "base") -> Path:
    target = TOOLS / name
    if target.exists():
        subprocess.run(["git", "-C", str(target), "checkout", "-q", "--detach", rev], check=True)
    else:
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(target), rev], check=True)
    # The editable install maps ``mockserver.specs`` to this checkout's specs/: give the tree its own,
    # or the code before would be served this checkout's contract.
    link = target / "mockserver" / "specs"
    if not link.exists() and (target / "specs" / "admin.yaml").is_file():
        link.symlink_to(Path("..") / "specs")
    return target


def begin(rev: str, machine: str) -> Path:
    """Check out ``rev`` and print the run's header (time, machine, both revisions, load)."""
    import time

    base = checkout(rev)
    label = short(ROOT) + ("+changes" if dirty(ROOT) else "")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine}")
    print(f"before {short(base)}, after {label}; load average at start: {load_average():.2f}", flush=True)
    return base


def env(tree: Path) -> dict[str, str]:
    """No MOCKSERVER_* override leaks in from the shell; ``tree`` comes first on the import path.

    ``python -m`` puts its working directory before PYTHONPATH: start the process in ``tree`` too.
    """
    out = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    out["PYTHONPATH"] = str(tree)
    return out


def short(tree: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def dirty(tree: Path) -> bool:
    out = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"], capture_output=True)
    return bool(out.stdout.strip())


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    return os.getloadavg()[0]
