"""The layers hold: no import cycles, a core without a web framework, one ordered pipeline."""

from __future__ import annotations

import grimp
import pytest

from mockserver.web.pipeline import Pipeline
from tests.conftest import PH_KEY, make_settings
from tests.speccheck import FlaskClient


@pytest.fixture(scope="module")
def graph():
    # Imports under TYPE_CHECKING are left out (they never run); imports inside functions count,
    # so a lazy import cannot hide a cycle.
    return grimp.build_graph("mockserver", include_external_packages=True, exclude_type_checking_imports=True)


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m.startswith("mockserver"))
    edges = {
        m: sorted(x for x in graph.find_modules_directly_imported_by(m) if x.startswith("mockserver")) for m in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if child < len(edges[node]):
                work.append((node, child + 1))
                nxt = edges[node][child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            for nxt in edges[node]:
                if nxt in on_stack:
                    low[node] = min(low[node], low[nxt])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_there_are_no_import_cycles(graph):
    assert _cycles(graph) == []


def test_the_cycle_check_can_fail():
    """The check finds a cycle when there is one (a graph built by hand)."""
    fake = grimp.ImportGraph()
    for name in ("mockserver.a", "mockserver.b", "mockserver.c"):
        fake.add_module(name)
    fake.add_import(importer="mockserver.a", imported="mockserver.b")
    fake.add_import(importer="mockserver.b", imported="mockserver.c")
    fake.add_import(importer="mockserver.c", imported="mockserver.a")
    assert _cycles(fake) == [["mockserver.a", "mockserver.b", "mockserver.c"]]


@pytest.mark.parametrize("package", ["mockserver.core", "mockserver.vendors", "mockserver.admin"])
@pytest.mark.parametrize("framework", ["flask", "werkzeug", "flask_cors"])
def test_core_vendors_and_control_handlers_import_no_web_framework(graph, package, framework):
    if framework not in graph.modules:
        return
    assert not graph.chain_exists(importer=package, imported=framework, as_packages=True)


def test_the_core_names_no_vendor(graph):
    assert not graph.chain_exists(importer="mockserver.core", imported="mockserver.vendors", as_packages=True)


def test_the_pipeline_order_is_written_once():
    assert Pipeline.ORDER == ("journal", "guard", "route", "faults", "forward", "auth", "parse", "handle")
    assert Pipeline.REPLAY_ORDER == ("journal", "route", "auth", "parse", "handle")


def test_faults_come_before_auth_and_auth_before_the_contract(make_client_with_key):
    client = make_client_with_key({})
    # no key and a body the contract refuses: auth answers first
    assert client.post("/api/projects/1/experiments/", json_body={"name": 3}).status_code == 401
    # a fault fires before auth is looked at
    client.post("/__admin/faults", json_body={"path": "/api/projects/1/experiments/*", "status": 503, "times": 1})
    faulted = client.get("/api/projects/1/experiments/", check_spec=False)
    assert faulted.status_code == 503 and faulted.headers["X-Mock-Fault"]
    # the Host check comes before everything, faults included
    client.post("/__admin/faults", json_body={"path": "/api/projects/1/experiments/*", "status": 503})
    refused = client.get("/api/projects/1/experiments/", headers={"Host": "attacker.example"}, check_spec=False)
    assert refused.status_code == 403 and "attacker.example" in refused.json()["detail"]
    # and the journal, outermost, records every one of them with its reason
    journal = client.get("/__admin/requests").json()["requests"]
    assert [(e["status"], e["problem"]["kind"]) for e in journal] == [
        (401, "not_authenticated"),
        (503, "unavailable"),
        (403, "permission_denied"),
    ]


@pytest.fixture
def make_client_with_key():
    from mockserver.app import create_app

    def make(headers):
        return FlaskClient(create_app(make_settings()), headers if headers is not None else PH_KEY)

    return make
