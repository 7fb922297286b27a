"""`serve --upstream`: forwarding over real HTTP to a stand-in vendor, drift findings, safety rules."""

from __future__ import annotations

import socket

import requests

from mockserver.server import MockServer
from mockserver.web.proxy import DRIFT_PREFIX
from tests.proxy.conftest import LD, PH, proxy_for, upstream_paths

EXTENSION = "mockserver.proxy"

EXPERIMENTS = "/api/projects/1/experiments/"


def test_served_operations_answer_from_the_upstream_with_the_callers_key(proxy, upstream) -> None:
    direct = requests.get(upstream.url + EXPERIMENTS, headers=PH, timeout=10)
    through = requests.get(proxy.url + EXPERIMENTS, headers=PH, timeout=10)
    own = proxy.runtime.store.data["posthog"]["experiments"]
    assert through.status_code == direct.status_code == 200
    assert through.json() == direct.json()
    assert [e["id"] for e in through.json()["results"]] != sorted(int(k) for k in own) or through.json() != {}
    assert through.headers["X-Mock-Upstream"] == "posthog"
    assert "X-Mock-Upstream-Drift" not in through.headers
    assert upstream_paths(upstream).count(EXPERIMENTS) == 2  # once direct, once forwarded
    # The upstream is strict about keys: an unknown key is refused there, and the refusal comes back as is.
    refused = requests.get(proxy.url + EXPERIMENTS, headers={"Authorization": "Bearer phx_unknown"}, timeout=10)
    assert refused.status_code == 401
    assert (
        refused.json()
        == requests.get(upstream.url + EXPERIMENTS, headers={"Authorization": "Bearer phx_unknown"}, timeout=10).json()
    )


def test_writes_change_the_upstream_and_nothing_locally(proxy, upstream) -> None:
    before = proxy.runtime.store.snapshot()
    body = {"name": "Proxied experiment", "feature_flag_key": "proxied-flag"}
    created = requests.post(proxy.url + EXPERIMENTS, json=body, headers=PH, timeout=10)
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    assert str(new_id) in upstream.runtime.store.data["posthog"]["experiments"]
    assert upstream.runtime.store.data["posthog"]["experiments"][str(new_id)]["name"] == "Proxied experiment"
    assert proxy.runtime.store.snapshot() == before
    entry = proxy.runtime.journal.entries(method="POST")[-1]
    assert (entry["operation_id"], entry["status"], entry["contract_violations"]) == ("experiments_create", 201, [])


def test_launchdarkly_is_forwarded_too(proxy, upstream) -> None:
    path = "/api/v2/projects/default/environments/production/experiments"
    through = requests.get(proxy.url + path, headers=LD, params={"expand": "treatments"}, timeout=10)
    direct = requests.get(upstream.url + path, headers=LD, params={"expand": "treatments"}, timeout=10)
    assert through.status_code == 200
    assert through.json() == direct.json()
    assert any(e["path"] == path and e["query"] == "expand=treatments" for e in upstream.runtime.journal.entries())


def test_an_upstream_answer_outside_the_contract_is_journaled_as_drift(proxy, upstream) -> None:
    broken = requests.get(f"{upstream.url}/api/projects/1/experiments/1/", headers=PH, timeout=10).json()
    broken["name"] = 5  # the vendor changed a field's type
    rule = {"operation_id": "experiments_retrieve", "status": 200, "body": broken, "times": 1}
    assert requests.post(f"{upstream.url}/__admin/faults", json=rule, timeout=10).status_code == 201
    answer = requests.get(f"{proxy.url}/api/projects/1/experiments/1/", headers=PH, timeout=10)
    # The client sees exactly what the vendor said; the mismatch is reported beside it.
    assert answer.status_code == 200
    assert answer.json() == broken
    assert answer.headers["X-Mock-Upstream-Drift"].startswith("name:")
    entry = proxy.runtime.journal.entries(operation_id="experiments_retrieve")[-1]
    drift = [v for v in entry["contract_violations"] if v.startswith(DRIFT_PREFIX)]
    assert len(drift) == 1 and drift[0].startswith(DRIFT_PREFIX + "name: 5 is not of type"), entry
    findings = proxy.app.extensions[EXTENSION].drift.entries()
    assert len(findings) == 1
    assert findings[0]["operation_id"] == "experiments_retrieve"
    assert findings[0]["upstream"].startswith(upstream.url)
    assert findings[0]["problems"] == [v.removeprefix(DRIFT_PREFIX) for v in drift]
    # The journal's HTTP view shows it as well.
    listed = requests.get(f"{proxy.url}/__admin/requests", params={"operation_id": "experiments_retrieve"}, timeout=10)
    assert any(v.startswith(DRIFT_PREFIX) for v in listed.json()["requests"][-1]["contract_violations"])
    # An error answer the contract documents is not drift.
    missing = requests.get(f"{proxy.url}/api/projects/1/experiments/999999/", headers=PH, timeout=10)
    assert missing.status_code == 404 and "X-Mock-Upstream-Drift" not in missing.headers
    assert len(proxy.app.extensions[EXTENSION].drift.entries()) == 1


def test_admin_is_never_forwarded(proxy, upstream) -> None:
    health = requests.get(f"{proxy.url}/__admin/health", timeout=10).json()
    assert health["seed"] == 42  # the proxy's own, not the upstream's 7
    assert requests.post(f"{proxy.url}/__admin/reset", json={}, timeout=10).status_code == 200
    assert requests.get(f"{upstream.url}/__admin/health", timeout=10).json()["seed"] == 7
    assert upstream_paths(upstream) == []


def test_unserved_paths_stay_local_unless_fallback_is_asked_for(proxy, upstream) -> None:
    unknown = "/api/projects/1/dashboards/"
    local = requests.get(proxy.url + unknown, headers=PH, timeout=10)
    assert local.status_code == 404 and "X-Mock-Upstream" not in local.headers
    assert upstream_paths(upstream) == []
    with proxy_for(upstream, upstream_fallback=True) as fallback:
        forwarded = requests.get(fallback.url + unknown, headers=PH, timeout=10)
        assert forwarded.headers["X-Mock-Upstream"] == "posthog"
        assert upstream_paths(upstream) == [unknown]
        entry = fallback.runtime.journal.entries()[-1]
        assert entry["operation_id"] is None and entry["contract_violations"] == []


def _raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_never_an_open_proxy(upstream) -> None:
    """Neither the Host header, an absolute request-target nor a crafted path picks the target."""
    with MockServer(port=0, seed=99) as decoy, proxy_for(upstream, upstream_fallback=True) as proxy:
        decoy_host = decoy.url.removeprefix("http://")
        absolute = (
            f"GET http://{decoy_host}{EXPERIMENTS} HTTP/1.1\r\nHost: {decoy_host}\r\n"
            f"Authorization: {PH['Authorization']}\r\nConnection: close\r\n\r\n"
        ).encode()
        answer = _raw(proxy.url, absolute)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b"X-Mock-Upstream: posthog" in answer
        spoofed = requests.get(
            proxy.url + EXPERIMENTS, headers={**PH, "Host": decoy_host, "X-Forwarded-Host": decoy_host}, timeout=10
        )
        assert spoofed.status_code == 200
        dots = _raw(
            proxy.url,
            b"GET /api/projects/1/../../../__admin/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        assert not dots.startswith(b"HTTP/1.1 200"), dots[:200]
        assert decoy.runtime.journal.entries() == []
        assert upstream_paths(upstream) == [EXPERIMENTS, EXPERIMENTS]
