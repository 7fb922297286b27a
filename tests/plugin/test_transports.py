"""In-process transports: requests and httpx (sync and async) reach the app with no socket, through
the same pipeline (auth, contract checks, faults, journal); other hosts are left alone."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import httpx
import pytest
import requests

from mockserver import transports
from mockserver.app import create_app
from mockserver.client import Client
from mockserver.transports import ROUTER, route_to_app
from tests.conftest import make_settings

PH = {"Authorization": "Bearer phx_transport"}
URL = "http://mockserver.invalid"


@pytest.fixture
def app():
    return create_app(make_settings())


@pytest.fixture
def no_socket(monkeypatch):
    """Any attempt to open a socket fails the test: in-process means in process."""

    def refuse(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_explicit_adapter_and_transports(app, no_socket):
    """Given an app, each answers under whatever host its client names (no allow_host first)."""
    session = requests.Session()
    session.mount(URL, transports.RequestsAdapter(app))
    listed = session.get(f"{URL}/api/projects/1/experiments/?limit=2", headers=PH)
    assert listed.status_code == 200 and listed.reason == "OK"
    assert len(listed.json()["results"]) == 2 and listed.headers["content-type"] == "application/json"
    with httpx.Client(transport=transports.WSGITransport(app), base_url=URL) as client:
        created = client.post("/api/projects/1/experiments/", headers=PH, json={"name": "N", "feature_flag_key": "n"})
        assert created.status_code == 201 and created.json()["feature_flag_key"] == "n"

    async def run() -> int:
        async with httpx.AsyncClient(transport=transports.AsyncWSGITransport(app), base_url=URL) as client:
            answers = await asyncio.gather(
                *(client.get("/api/projects/1/experiments/4/", headers=PH) for _ in range(3))
            )
        return sum(a.status_code == 200 for a in answers)

    assert asyncio.run(run()) == 3
    assert transports.RequestsAdapter is transports.RequestsAdapter  # built once


def test_routing_reaches_code_that_never_heard_of_the_mock(app, no_socket):
    with route_to_app(app, URL) as base:
        assert base == URL
        assert requests.get(f"{URL}/api/projects/1/experiments/4/", headers=PH).json()["id"] == 4
        assert httpx.get(f"{URL}/api/projects/1/experiments/4/", headers=PH).json()["id"] == 4
        with requests.Session() as s:  # a session made inside
            ld = s.get(
                f"{URL}/api/v2/projects/default/environments/production/experiments", headers={"Authorization": "api-x"}
            )
            assert ld.status_code == 200

        async def run() -> int:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{URL}/api/projects/1/experiments/4/", headers=PH)).status_code

        assert asyncio.run(run()) == 200
    assert not ROUTER.routes
    with pytest.raises((requests.ConnectionError, AssertionError)):  # .invalid never resolves
        requests.get(f"{URL}/api/projects/1/experiments/4/", headers=PH)


def test_other_hosts_are_untouched(app, live_server):
    with route_to_app(app, URL):
        assert requests.get(live_server.url + "/__admin/health", timeout=5).status_code == 200
        assert httpx.get(live_server.url + "/__admin/health", timeout=5).status_code == 200
        with pytest.raises(requests.ConnectionError):
            requests.get("http://127.0.0.1:9/", timeout=2)  # a real connection, refused


def test_the_pipeline_applies_contract_auth_faults_and_journal(app):
    mock = Client.in_process(app)
    with route_to_app(app, URL):
        bad = requests.post(f"{URL}/api/projects/1/experiments/", headers=PH, json={"name": 5})
        assert bad.status_code == 400 and bad.json()["type"] == "validation_error"
        assert requests.get(f"{URL}/api/projects/1/experiments/").status_code == 401
        mock.add_fault(operation_id="experiments_retrieve", status=503, times=1)
        assert httpx.get(f"{URL}/api/projects/1/experiments/4/", headers=PH).status_code == 503
        mock.add_fault(operation_id="experiments_retrieve", drop_connection=True, times=2)
        with pytest.raises(requests.ConnectionError, match="dropped the connection"):
            requests.get(f"{URL}/api/projects/1/experiments/4/", headers=PH)
        with pytest.raises(httpx.RemoteProtocolError, match="dropped the connection"):
            httpx.get(f"{URL}/api/projects/1/experiments/4/", headers=PH)
    log = mock.requests
    log.assert_called("POST", "experiments_create", status=400, json={"name": 5})
    log.assert_called("GET", "experiments_retrieve", times=3)
    assert [e["dropped"] for e in log.all(operation_id="experiments_retrieve")] == [False, True, True]


def test_links_the_app_builds_point_back_at_the_routed_host(app):
    with route_to_app(app, URL):
        page = requests.get(f"{URL}/api/projects/1/experiments/?limit=2", headers=PH).json()
        assert page["next"].startswith(f"{URL}/api/projects/1/experiments/")
        assert requests.get(page["next"], headers=PH).status_code == 200


def test_two_apps_cannot_claim_one_host(app):
    other = create_app(make_settings())
    with route_to_app(app, URL), pytest.raises(RuntimeError, match="already routed"), route_to_app(other, URL):
        pass
    with route_to_app(other, "http://second.invalid:8080"), route_to_app(app, URL):
        assert requests.get("http://second.invalid:8080/__admin/health").status_code == 200
        assert ROUTER.app_for("http://second.invalid/__admin/health") is None  # another port, not routed


def test_read_timeouts_behave_as_over_http_and_the_request_still_finishes(app, no_socket):
    """A latency fault past the client's timeout: each library raises its own timeout error at the
    timeout, not after the delay; the mock finishes the request anyway, as a server does."""
    import time

    runtime = app.extensions["mockserver"]
    runtime.faults.add({"operation_id": "experiments_create", "latency_ms": 3000})  # far past 0.1 s
    body = {"name": "Late", "feature_flag_key": "late"}

    def journaled() -> int:
        return len(runtime.journal.entries(operation_id="experiments_create"))

    def settle(count: int) -> None:
        deadline = time.monotonic() + 15
        while journaled() < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert journaled() == count

    with route_to_app(app, URL):
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            requests.post(f"{URL}/api/projects/1/experiments/", headers=PH, json=body, timeout=(1, 0.1))
        assert time.monotonic() - started < 2.5  # at the timeout, not after the 3 s delay (margin for load)
        settle(1)  # the request went on: created, journaled
        with httpx.Client() as client, pytest.raises(httpx.ReadTimeout):
            client.post(
                f"{URL}/api/projects/1/experiments/", headers=PH, json={**body, "feature_flag_key": "l2"}, timeout=0.1
            )
        settle(2)

        async def late() -> None:
            async with httpx.AsyncClient(timeout=0.1) as client:
                await client.post(
                    f"{URL}/api/projects/1/experiments/", headers=PH, json={**body, "feature_flag_key": "l3"}
                )

        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            asyncio.run(late())
        assert time.monotonic() - started < 2.5
        settle(3)
        # Within the timeout, or with none, the answer comes as usual.
        answered = requests.post(
            f"{URL}/api/projects/1/experiments/", headers=PH, json={**body, "feature_flag_key": "l4"}, timeout=5
        )
        assert answered.status_code == 201
        assert requests.get(f"{URL}/api/projects/1/experiments/4/", headers=PH, timeout=5).status_code == 200


@pytest.mark.parametrize("client_kind", ["requests", "httpx-async"])
@pytest.mark.parametrize("replace", ["reset", "load"])
def test_a_timed_out_request_never_writes_into_the_next_tests_world(app, no_socket, client_kind, replace):
    """The request a timeout abandoned is still in its delay when the next test resets (or loads a
    fixture): the reset cuts the delay short and waits for it, so its write and journal entry land
    before the reset and are wiped by it, never after."""
    import time

    control = Client.in_process(app)
    # A delay far longer than any hiccup of a loaded machine: "cut short" and "waited out" cannot meet.
    control.add_fault(operation_id="experiments_create", latency_ms=20_000)
    body = {"name": "Abandoned", "feature_flag_key": "abandoned"}
    with route_to_app(app, URL):
        if client_kind == "requests":
            with pytest.raises(requests.ReadTimeout):
                requests.post(f"{URL}/api/projects/1/experiments/", headers=PH, json=body, timeout=0.05)
        else:

            async def late() -> None:
                async with httpx.AsyncClient(timeout=0.05) as client:
                    await client.post(f"{URL}/api/projects/1/experiments/", headers=PH, json=body)

            with pytest.raises(httpx.ReadTimeout):
                asyncio.run(late())
        # The client gave up; on a loaded machine the request may only now reach the app. Wait for it
        # to be there (or, later still, already answered) so the reset below meets it in its delay.
        deadline = time.monotonic() + 15
        while not (len(control.runtime.in_flight) or control.requests.all()) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(control.runtime.in_flight) or control.requests.all()
        started = time.monotonic()
        if replace == "reset":
            control.reset()
        else:
            control.load("empty")
        assert time.monotonic() - started < 10  # the 20 s delay was cut short, not waited out
        assert len(control.runtime.in_flight) == 0  # and the request is over: nothing more arrives
    experiments = control.state()["posthog"]["experiments"]
    assert all(e.get("name") != "Abandoned" for e in experiments.values())
    # A reset clears the journal; a load keeps it, and the abandoned request is in it, from before.
    journaled = [entry["operation_id"] for entry in control.requests.all()]
    assert journaled == ([] if replace == "reset" else ["experiments_create"])


def test_a_reset_answers_a_delayed_request_early_from_the_world_it_arrived_in(app):
    """A client still waiting on a delayed request when a reset arrives gets its answer then (the
    rest of the delay is skipped), made in the world it arrived in."""
    import threading
    import time

    control = Client.in_process(app)
    control.add_fault(operation_id="experiments_create", latency_ms=30_000)
    answers: list[int] = []
    with route_to_app(app, URL):
        body = {"name": "Waiting", "feature_flag_key": "waiting"}
        worker = threading.Thread(
            target=lambda: answers.append(
                requests.post(f"{URL}/api/projects/1/experiments/", headers=PH, json=body, timeout=40).status_code
            )
        )
        started = time.monotonic()
        worker.start()
        while not len(app.extensions["mockserver"].in_flight):
            time.sleep(0.005)
        control.reset()
        worker.join(15)
    assert answers == [201] and time.monotonic() - started < 15  # not the 30 s delay
    assert control.requests.all() == []  # journaled before the reset, wiped by it


def test_without_delays_a_timeout_costs_no_thread(app, monkeypatch):
    """No --latency and no fault rule: the app is called directly, timeout or not."""
    import threading

    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    with route_to_app(app, URL):
        assert requests.get(f"{URL}/api/projects/1/experiments/4/", headers=PH, timeout=3).status_code == 200
        with httpx.Client(timeout=3) as client:
            assert client.get(f"{URL}/api/projects/1/experiments/4/", headers=PH).status_code == 200
    assert started == []


def test_read_timeout_of_every_requests_form():
    import urllib3

    from mockserver.transports import _read_timeout

    assert _read_timeout(2) == 2.0 and _read_timeout((1, 3)) == 3.0 and _read_timeout((1, None)) is None
    assert _read_timeout(None) is None and _read_timeout(urllib3.Timeout(total=5)) == 5.0
    assert _read_timeout(urllib3.Timeout(connect=1, read=4)) == 4.0


def _retry_adapter(**retry):
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    return HTTPAdapter(max_retries=Retry(backoff_factor=0, **retry))


def test_an_adapter_the_code_mounts_keeps_its_retries(app, no_socket):
    """Routing replaces the connection, not the adapter: a Retry on statuses or on a dropped
    connection retries in process as over HTTP (the routed adapter used to answer the first 503)."""
    mock = Client.in_process(app)
    with route_to_app(app, URL):
        session = requests.Session()
        session.mount("http://", _retry_adapter(total=3, status_forcelist=[503]))
        mock.add_fault(operation_id="experiments_retrieve", status=503, times=2)
        assert session.get(f"{URL}/api/projects/1/experiments/4/", headers=PH).status_code == 200
        mock.add_fault(operation_id="experiments_retrieve", drop_connection=True, times=1)
        assert session.get(f"{URL}/api/projects/1/experiments/4/", headers=PH).status_code == 200
        statuses = [e["status"] for e in mock.requests.all("GET", "experiments_retrieve")]
        assert statuses == [503, 503, 200, None, 200]
        mock.add_fault(operation_id="experiments_retrieve", status=503, times=5)
        with pytest.raises(requests.exceptions.RetryError):
            session.get(f"{URL}/api/projects/1/experiments/4/", headers=PH)
        mock.clear_faults()
        plain = requests.Session()  # requests' own default: no retry
        mock.add_fault(operation_id="experiments_retrieve", drop_connection=True, times=1)
        with pytest.raises(requests.ConnectionError, match="Connection aborted"):
            plain.get(f"{URL}/api/projects/1/experiments/4/", headers=PH)


def test_streamed_request_bodies_arrive_whole(app, no_socket):
    """A generator body goes out chunked; it reached the app as no body at all (400)."""

    def parts(key):
        yield b'{"name": "Streamed",'
        yield f' "feature_flag_key": "{key}"}}'.encode()

    json_type = {**PH, "Content-Type": "application/json"}
    with route_to_app(app, URL):
        assert (
            requests.post(f"{URL}/api/projects/1/experiments/", data=parts("s1"), headers=json_type).status_code == 201
        )
        assert (
            httpx.post(f"{URL}/api/projects/1/experiments/", content=parts("s2"), headers=json_type).status_code == 201
        )

        async def run() -> int:
            async def chunks():
                for chunk in parts("s3"):
                    yield chunk

            async with httpx.AsyncClient() as client:
                answer = await client.post(f"{URL}/api/projects/1/experiments/", content=chunks(), headers=json_type)
            return answer.status_code

        assert asyncio.run(run()) == 201


def test_cookies_repeated_headers_and_raw_as_over_http(no_socket):
    """Through requests, Set-Cookie reaches the session's jar, repeated headers are joined, and
    ``response.raw`` is urllib3's response (``read(decode_content=True)``)."""

    def wsgi(environ, start_response):
        start_response(
            "200 OK",
            [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/"), ("X-Dup", "x"), ("X-Dup", "y")],
        )
        return [environ.get("HTTP_COOKIE", "-").encode()]

    with route_to_app(wsgi, "http://cookies.invalid") as url:
        session = requests.Session()
        first = session.get(f"{url}/")
        assert first.cookies.get_dict() == {"a": "1", "b": "2"} and first.headers["X-Dup"] == "x, y"
        assert session.get(f"{url}/").text == "a=1; b=2"
        streamed = requests.get(f"{url}/", stream=True)
        assert streamed.raw.read(decode_content=True) == b"-"
        # as a server adds them: the real time, and the server's name
        from email.utils import parsedate_to_datetime

        for answer in (first, httpx.get(f"{url}/")):
            sent = parsedate_to_datetime(answer.headers["Date"])
            assert abs((sent - datetime.now(UTC)).total_seconds()) < 60 and answer.headers["Server"] == "mockserver"
