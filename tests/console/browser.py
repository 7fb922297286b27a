"""Headless Chromium for the console's tests: Debian's package, driven by Playwright.

Playwright's own browser download cannot be used here, so the system ``chromium`` is launched with
``executable_path``; when it is missing and we are root, it is installed with apt-get (bounded in
time). The flags keep the browser from reaching anything but the server under test.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_SECONDS = 300
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def _apt(*args: str, timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], env=env, capture_output=True, text=True, timeout=timeout)


def ensure_chromium() -> str | None:
    """None when /usr/bin/chromium is there (installing it if need be), else why it cannot be."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "chromium is not installed and cannot be installed here (apt-get as root is needed)"
    # Parallel test workers would fight over dpkg's lock: one installs, the others wait for it.
    with open("/tmp/mockserver-chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if CHROMIUM.exists():
            return None
        try:
            result = _apt("install", "-y", "-qq", "chromium", timeout=INSTALL_SECONDS)
            if result.returncode != 0:
                _apt("update", "-qq", timeout=180)
                result = _apt("install", "-y", "-qq", "chromium", timeout=INSTALL_SECONDS)
        except subprocess.TimeoutExpired:
            return f"installing chromium with apt-get took longer than {INSTALL_SECONDS} s"
        if result.returncode != 0 or not CHROMIUM.exists():
            return f"apt-get install chromium failed: {(result.stderr or result.stdout).strip()[-500:]}"
    return None


def launch(playwright: Any, user_data_dir: Path, width: int = 1280, height: int = 800) -> Any:
    """A fresh browser profile (its own --user-data-dir) on Debian's chromium."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        args=ARGS,
        headless=True,
        viewport={"width": width, "height": height},
        accept_downloads=True,
    )
