"""A third vendor, added the way any package adds one (an entry point), without touching the core.

The throwaway vendor below has a tiny spec, a read and a write handler and a one-table state. It
is served, journaled, contract-checked, reset, exported and listed by `mockserver routes`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from mockserver.app import create_app
from mockserver.core import registry
from mockserver.web.routing import RouteMismatch
from tests.conftest import make_settings
from tests.speccheck import FlaskClient

VENDOR = textwrap.dedent(
    '''
    """A throwaway vendor: things under /tiny/things/{id}."""
    from mockserver.core.contract import Contract
    from mockserver.core.problems import Problem
    from mockserver.core.registry import VendorPlugin
    from mockserver.core.vendor import Reply, Vendor

    THING = {
        "type": "object",
        "required": ["id", "name"],
        "additionalProperties": False,
        "properties": {"id": {"type": "integer"}, "name": {"type": "string", "maxLength": 20}},
    }
    ERROR = {"type": "object", "required": ["oops"], "properties": {"oops": {"type": "string"}}}
    SPEC = {
        "openapi": "3.1.0",
        "info": {"title": "tiny", "version": "1"},
        "paths": {
            "/tiny/things/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "get": {
                    "operationId": "getThing",
                    "responses": {
                        "200": {"description": "a thing", "content": {"application/json": {"schema": THING}}},
                        "404": {"description": "none", "content": {"application/json": {"schema": ERROR}}},
                    },
                },
                "put": {
                    "operationId": "putThing",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": THING}}},
                    "responses": {
                        "200": {"description": "stored", "content": {"application/json": {"schema": THING}}},
                        "400": {"description": "bad", "content": {"application/json": {"schema": ERROR}}},
                        "404": {"description": "none", "content": {"application/json": {"schema": ERROR}}},
                        "500": {"description": "bug", "content": {"application/json": {"schema": ERROR}}},
                    },
                },
            }
        },
    }
    MISSING = set()  # operations whose handler is left out, to test the start-up check


    def get_thing(call):
        thing = call.state["things"].get(str(call.path["id"]))
        if thing is None:
            raise Problem("not_found", "no such thing")
        if thing["name"] == "broken":
            return Reply(200, {"id": thing["id"], "name": 42})  # outside the contract
        return Reply(200, thing)


    def put_thing(call):
        call.state["things"][str(call.path["id"])] = dict(call.body)
        return Reply(200, call.body)


    def build(runtime):
        handlers = {"getThing": get_thing, "putThing": put_thing}
        return Vendor(
            name="tiny",
            prefix="/tiny",
            contract=Contract("tiny", SPEC),
            handlers={k: v for k, v in handlers.items() if k not in MISSING},
            render=lambda problem: (problem.status, {"oops": problem.detail}),
            authenticate=lambda ctx: None,
            seed=lambda ctx: {"things": {"1": {"id": 1, "name": "seeded"}}},
            tables=("things",),
        )


    PLUGIN = VendorPlugin("tiny", build)
    '''
)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Install the throwaway vendor as a distribution on sys.path: an entry point, nothing else."""
    (tmp_path / "tinyvendor.py").write_text(VENDOR)
    info = tmp_path / "tinyvendor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyvendor\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mockserver.vendors]\ntiny = tinyvendor:PLUGIN\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.discover.cache_clear()
    yield tmp_path
    sys.modules.pop("tinyvendor", None)
    monkeypatch.undo()
    registry.discover.cache_clear()


def test_a_third_vendor_is_served_journaled_checked_reset_and_exported(tiny):
    client = FlaskClient(create_app(make_settings()), {})
    assert client.get("/__admin/health").json()["vendors"] == ["launchdarkly", "posthog", "tiny"]
    got = client.get("/tiny/things/1", check_spec=False)
    assert got.status_code == 200 and got.json() == {"id": 1, "name": "seeded"}
    # the contract: a bad request is refused in the vendor's envelope, a bad answer is the mock's 500
    bad = client.put("/tiny/things/1", json_body={"id": 1, "name": "x" * 30}, check_spec=False)
    assert bad.status_code == 400 and "longer than 20 characters" in bad.json()["oops"]
    assert client.put("/tiny/things/2", json_body={"id": 2, "name": "broken"}, check_spec=False).status_code == 200
    broken = client.get("/tiny/things/2", check_spec=False)
    assert broken.status_code == 500 and "getThing" in broken.json()["oops"]
    assert client.get("/tiny/things/9", check_spec=False).json() == {"oops": "no such thing"}
    # journaled as its own vendor's calls
    journal = client.get("/__admin/requests").json()["requests"]
    assert [(e["vendor"], e["operation_id"], e["status"]) for e in journal] == [
        ("tiny", "getThing", 200),
        ("tiny", "putThing", 400),
        ("tiny", "putThing", 200),
        ("tiny", "getThing", 500),
        ("tiny", "getThing", 404),
    ]
    # exported with the rest, imported back, reset to its seed
    exported = client.get("/__admin/state").json()
    assert exported["data"]["tiny"]["things"]["2"] == {"id": 2, "name": "broken"}
    client.post("/__admin/reset")
    assert client.get("/tiny/things/2", check_spec=False).status_code == 404
    assert client.put("/__admin/state", json_body=exported).status_code == 200
    assert client.get("/__admin/state").json()["data"]["tiny"] == exported["data"]["tiny"]
    client.app.extensions["mockserver"].server_errors.clear()


def test_a_third_vendor_is_listed_by_mockserver_routes(tiny):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tiny), *sys.path])}
    routes = subprocess.run(
        [sys.executable, "-m", "mockserver", "routes"], capture_output=True, text=True, timeout=60, env=env
    )
    assert routes.returncode == 0, routes.stderr
    assert "/tiny/things/{id}" in routes.stdout and "getThing" in routes.stdout and "putThing" in routes.stdout


def test_start_up_fails_when_a_handler_and_the_spec_disagree(tiny):
    import tinyvendor

    tinyvendor.MISSING.add("putThing")
    with pytest.raises(RouteMismatch, match="tiny: operations without a handler: putThing"):
        create_app(make_settings())
