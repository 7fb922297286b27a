"""A request still in progress when the world is replaced (reset, state load, fixture load) finishes
first: its delay is cut short, its write lands in the old world, and the reset wipes it. Without
this, a request whose client timed out wrote into the next test's world."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from mockserver.client import Client
from mockserver.core.inflight import InFlight
from mockserver.server import MockServer
from tests.conftest import make_settings

PH = {"Authorization": "Bearer phx_in_flight"}
CREATE = "/api/projects/1/experiments/"


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
    assert time.monotonic() - started < 1 and finished and finished[0] < 1
    worker.join()
    newer, newer_hurry = flight.enter()
    assert not newer_hurry.is_set()  # a request that arrives after a settle is not hurried by it
    assert len(flight) == 1
    assert flight.settle(timeout=0.05) is False  # it never leaves: the settle gives up at its timeout
    flight.leave(newer)
    assert len(flight) == 0


@pytest.mark.parametrize("delay", ["fault", "latency"])
def test_a_timed_out_request_over_http_never_writes_into_the_next_world(delay):
    settings = make_settings(latency=(400, 400)) if delay == "latency" else make_settings()
    with MockServer(settings) as server:
        control = Client(server.url)
        if delay == "fault":
            control.add_fault(operation_id="experiments_create", latency_ms=400)
        before = len(control.state()["posthog"]["experiments"])
        with pytest.raises(requests.ReadTimeout):
            requests.post(
                server.url + CREATE, headers=PH, json={"name": "Late", "feature_flag_key": "late"}, timeout=0.05
            )
        started = time.monotonic()
        control.reset()
        assert time.monotonic() - started < 0.35  # the delay was cut short, not waited out
        time.sleep(0.6)  # past the delay: nothing more arrives
        state = control.state()["posthog"]["experiments"]
        assert len(state) == before and all(e.get("name") != "Late" for e in state.values())
        assert control.requests.all() == []
