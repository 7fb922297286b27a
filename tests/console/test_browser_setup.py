"""The browser tests skip with a reason, instead of failing, only when Chromium cannot be had."""

from __future__ import annotations

import subprocess

from tests.console import browser


def test_present_chromium_needs_nothing(monkeypatch, tmp_path):
    found = tmp_path / "chromium"
    found.write_text("")
    monkeypatch.setattr(browser, "CHROMIUM", found)
    assert browser.ensure_chromium() is None


def test_missing_chromium_without_root_gives_a_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "absent")
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)
    assert "cannot be installed here" in browser.ensure_chromium()


def test_a_failed_or_slow_install_gives_a_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "absent")
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    calls = []

    def failing(*args, timeout):
        calls.append(args)
        return subprocess.CompletedProcess(args, 100, "", "E: Unable to locate package chromium")

    monkeypatch.setattr(browser, "_apt", failing)
    assert "Unable to locate package chromium" in browser.ensure_chromium()
    assert [c[0] for c in calls] == ["install", "update", "install"]

    def slow(*args, timeout):
        raise subprocess.TimeoutExpired(["apt-get", *args], timeout)

    monkeypatch.setattr(browser, "_apt", slow)
    assert "took longer than" in browser.ensure_chromium()
