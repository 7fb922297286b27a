"""A request still in progress when the world is replaced (reset, state load, fixture load) finishes
first: its delay is cut short, its write lands in the old world, and the reset wipes it. Without
this, a request whose client timed out wrote into the next test's world."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from mockserver.app import create_app
from mockserver.client import Client
from mockserver.core.inflight import InFlight
from mockserver.server import MockServer
from mockserver.transports import route_to_app
from tests.conftest import make_settings

PH = {"Authorization": "Bearer phx_in_flight"}
CREATE = "/api/projects/1/experiments/"
URL = "http://mockserver.invalid"


def test_settle_hurries_and_waits_only_for_requests_already_in_progress():
    flight = InFlight()
    assert flight.settle(timeout=0.01) is True  # nothing in progress: no wait
    token, hurry = flight.enter()
    finished: list[float] = []

    def request() -> None:
        started = time.monotonic()
        hurry.wait(5)  # a 5 s delay, cut short by settle()
        finished.append(time.monotonic() - started)
        flight.leave(token)

    worker = threading.Thread(target=request)
    worker.start()
    started = time.monotonic()
    assert flight.settle(timeout=5) is True
    assert time.monotonic() - started < 3 and finished and finished[0] < 3  # not the 5 s delay
    worker.join()
    newer, newer_hurry = flight.enter()
    assert not newer_hurry.is_set()  # a request that arrives after a settle is not hurried by it
    assert len(flight) == 1
    assert flight.settle(timeout=0.05) is False  # it never leaves: the settle gives up at its timeout
    flight.leave(newer)
    assert len(flight) == 0


@pytest.mark.parametrize("delay", ["fault", "latency"])
def test_a_timed_out_request_over_http_never_writes_into_the_next_world(delay):
    # A delay far longer than any hiccup of a loaded machine: "cut short" and "waited out" cannot meet.
    settings = make_settings(latency=(20_000, 20_000)) if delay == "latency" else make_settings()
    with MockServer(settings) as server:
        control = Client(server.url)
        if delay == "fault":
            control.add_fault(operation_id="experiments_create", latency_ms=20_000)
        before = len(control.state()["posthog"]["experiments"])
        with pytest.raises(requests.ReadTimeout):
            requests.post(
                server.url + CREATE, headers=PH, json={"name": "Late", "feature_flag_key": "late"}, timeout=0.05
            )
        deadline = time.monotonic() + 15  # the client gave up; wait for the request to be in the server
        while not len(server.runtime.in_flight) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(server.runtime.in_flight) == 1
        started = time.monotonic()
        control.reset()
        assert time.monotonic() - started < 10  # the delay was cut short, not waited out
        assert len(server.runtime.in_flight) == 0  # and the request is over: nothing more arrives
        state = control.state()["posthog"]["experiments"]
        assert len(state) == before and all(e.get("name") != "Late" for e in state.values())
        assert control.requests.all() == []


class _SlowUpstream(BaseHTTPRequestHandler):
    """An upstream that answers a list when the test lets it (``release``), then says so (``answered``)."""

    release = threading.Event()
    answered = threading.Event()

    def do_GET(self) -> None:
        self.release.wait(30)
        body = b'{"count": 0, "next": null, "previous": null, "results": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.answered.set()

    def log_message(self, *args: object) -> None:
        pass


def test_a_request_forwarded_upstream_is_not_waited_for_and_not_journaled_after_the_reset():
    """A forwarded request writes no state here and may take --upstream-timeout: the reset goes on
    at once, and the answer that comes back later is not journaled into the new world."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _SlowUpstream)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        target = f"posthog=http://127.0.0.1:{upstream.server_address[1]}"
        with MockServer(make_settings(upstream=target)) as server:
            control = Client(server.url)
            _SlowUpstream.release.clear()
            _SlowUpstream.answered.clear()
            with pytest.raises(requests.ReadTimeout):
                requests.get(server.url + CREATE, headers=PH, timeout=0.2)
            # held upstream, yet not among the requests a reset waits for
            assert len(server.runtime.in_flight) == 0
            control.reset()
            _SlowUpstream.release.set()
            assert _SlowUpstream.answered.wait(10)
            time.sleep(0.3)  # the mock has the answer: give it time to (wrongly) journal it
            assert control.requests.all() == []
            listed = requests.get(server.url + CREATE, headers=PH, timeout=5)  # a request after the reset is journaled
            assert listed.status_code == 200
            assert [e["operation_id"] for e in control.requests.all()] == ["experiments_list"]
    finally:
        upstream.shutdown()


def test_a_reset_made_while_the_store_is_held_does_not_wait_for_what_needs_the_store(app_and_client):
    """Waiting there would wait out the timeout for nothing: the request needs the lock held."""
    app, control = app_and_client
    store = app.extensions["mockserver"].store
    control.add_fault(operation_id="experiments_create", latency_ms=300)
    with route_to_app(app, URL):
        with pytest.raises(requests.ReadTimeout):
            requests.post(f"{URL}{CREATE}", headers=PH, json={"name": "Held", "feature_flag_key": "held"}, timeout=0.05)
        started = time.monotonic()
        with store.transaction():
            control.reset()
        assert time.monotonic() - started < 2  # waiting would have taken the settle timeout (3 s)
        deadline = time.monotonic() + 10
        while len(app.extensions["mockserver"].in_flight) and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(app.extensions["mockserver"].in_flight) == 0


@pytest.fixture
def app_and_client():
    app = create_app(make_settings())
    return app, Client.in_process(app)
