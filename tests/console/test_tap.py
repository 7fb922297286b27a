"""The tap judges an exchange only once it has finished: a test may end with a request in flight."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.test import EnvironBuilder

from mockserver.app import create_app
from mockserver.core.settings import Settings
from tests.console import tap as tap_module
from tests.console.tap import Tap

CHROME = {"User-Agent": "Mozilla/5.0 Chrome/120.0"}


def _call(app: Any, path: str) -> None:
    environ = EnvironBuilder(path=path, headers=CHROME).get_environ()
    list(app(environ, lambda status, headers, exc_info=None: None))


def test_an_exchange_still_in_flight_is_awaited_before_it_is_checked():
    flask_app = create_app(Settings(seed=42))
    release = threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> Any:
        release.wait(5)
        return flask_app.wsgi_app(environ, start_response)

    tap = Tap(slow)
    worker = threading.Thread(target=_call, args=(tap, "/__admin/fixtures"))
    worker.start()
    while not tap.exchanges:
        threading.Event().wait(0.005)
    assert tap.exchanges[0].status == 0  # recorded, not answered yet
    threading.Timer(0.2, release.set).start()
    assert tap.problems() == []
    worker.join(5)
    assert tap.exchanges[0].status == 200 and tap.exchanges[0].response.startswith(b"{")


def test_an_exchange_that_never_finishes_is_reported(monkeypatch):
    monkeypatch.setattr(tap_module, "FINISH_S", 0.05)
    release = threading.Event()
    tap = Tap(lambda environ, start_response: release.wait(5) and [])
    worker = threading.Thread(target=_call, args=(tap, "/__admin/fixtures"))
    worker.start()
    while not tap.exchanges:
        threading.Event().wait(0.005)
    try:
        assert tap.problems() == ["GET /__admin/fixtures: no answer within 0.05 s"]
    finally:
        release.set()
        worker.join(5)
