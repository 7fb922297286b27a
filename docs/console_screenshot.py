"""Take docs/console.png, the README's picture of the console: ``.venv/bin/python docs/console_screenshot.py``.

Runs a seeded server on 127.0.0.1, opens the console in headless Chromium (installed with apt-get
when missing, as the browser tests do) at 1280 by 800 pixels and saves the experiments view.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from mockserver.core.settings import Settings  # noqa: E402
from mockserver.server import MockServer  # noqa: E402
from tests.console.browser import ensure_chromium, launch  # noqa: E402

OUT = ROOT / "docs" / "console.png"


def main() -> int:
    reason = ensure_chromium()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    with (
        MockServer(Settings(seed=42, port=0)) as server,
        sync_playwright() as playwright,
        tempfile.TemporaryDirectory() as profile,
    ):
        browser = launch(playwright, Path(profile))
        page = browser.new_page()
        page.goto(f"{server.url}/__admin/ui#experiments")
        page.get_by_role("region", name="PostHog · Web app (project 1)").get_by_role("row").nth(3).wait_for()
        page.screenshot(path=str(OUT))
        browser.close()
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
