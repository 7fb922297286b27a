"""Fixtures for the console's browser tests: a server per test, one Chromium per worker, checks on exit.

Each test gets its own MockServer (so its own origin, journal and storage) with a tap that records
every exchange. When the test ends, the fixture asserts what must hold for any console session:
every request and response matched the specs (plain openapi-core), the journal holds no contract
violation and no refused request beyond those the test provoked on purpose, no admin call failed
unless the test said so, and the page raised no script error and broke no Content-Security-Policy.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mockserver.core.settings import Settings
from mockserver.server import MockServer
from tests.console.browser import SCREENSHOTS, ensure_chromium, launch
from tests.console.tap import Tap

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install -e .[test]")


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    reason = ensure_chromium()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(chromium_ready, tmp_path_factory) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
        context.set_default_timeout(15_000)
        yield context
        context.close()


@dataclass
class Console:
    """One test's server, page and the expectations checked when it ends."""

    server: MockServer
    tap: Tap
    page: Any
    refusals: list[tuple[str, str]] = field(default_factory=list)  # (method, path glob) refused on purpose
    admin_failures: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def open(self, view: str = "experiments") -> Any:
        self.page.goto(f"{self.url}/__admin/ui#{view}")
        return self.page

    def expect_refusal(self, method: str, path_glob: str) -> None:
        self.refusals.append((method, path_glob))

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def refused_on_purpose(self, method: str, path: str) -> bool:
        return any(method == m and fnmatch.fnmatchcase(path, glob) for m, glob in self.refusals)

    def verify(self) -> None:
        problems = self.tap.problems()
        assert not problems, "the console's traffic breaks the specs:\n" + "\n".join(problems[:10])
        journal = self.server.runtime.journal.entries()
        for entry in journal:
            assert not entry["contract_violations"], entry
            if entry["validation_errors"]:
                assert self.refused_on_purpose(entry["method"], entry["path"]), (
                    f"unexpected refusal {entry['method']} {entry['path']}: {entry['validation_errors']}"
                )
            if entry["status"] is not None and entry["status"] >= 500:
                assert entry["fault_id"] is not None, f"server error without a fault: {entry}"
        for ex in self.tap.exchanges:
            if ex.from_browser and ex.path.startswith("/__admin") and ex.status >= 400:
                wanted = any(ex.method == m and fnmatch.fnmatchcase(ex.path, g) for m, g in self.admin_failures)
                assert wanted, f"admin call refused: {ex.method} {ex.path} -> {ex.status} {ex.response[:300]!r}"
        assert not self.page_errors, self.page_errors
        assert not self.server.runtime.server_errors, list(self.server.runtime.server_errors)


def _watch(page: Any, errors: list[str]) -> None:
    page.on("pageerror", lambda exc: errors.append(f"script error: {exc}"))

    def on_console(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            errors.append(f"CSP: {text}")

    page.on("console", on_console)


@pytest.fixture
def console(request, browser) -> Iterator[Console]:
    """Parametrize indirectly with a dict of Settings overrides for another server set-up."""
    server = MockServer(Settings(seed=42, port=0), **getattr(request, "param", {}))
    tap = Tap(server.app.wsgi_app)
    server.app.wsgi_app = tap
    server.start()
    page = browser.new_page()
    session = Console(server, tap, page)
    _watch(page, session.page_errors)
    try:
        yield session
        session.verify()
    finally:
        page.close()
        server.stop()
