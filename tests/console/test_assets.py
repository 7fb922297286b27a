"""The console's and the docs' files, the published specs and GET /: served locally, strictly, checked."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from mockserver.app import create_app
from mockserver.console import assets
from mockserver.core.contract import load_spec, merged_spec
from tests.conftest import make_settings
from tests.speccheck import FlaskClient, HttpClient


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    return FlaskClient(create_app(make_settings()), {})


def test_root_points_at_the_console(client):
    response = client.get("/", check_spec=False)
    assert response.status_code == 302 and response.headers["Location"] == "/__admin/ui"


@pytest.mark.parametrize("path", ["/__admin/ui", "/__admin/ui/"])
def test_console_page_has_a_strict_content_security_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'" and csp["connect-src"] == "'self'"
    assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", page), "inline style or handler"


def test_every_file_the_console_loads_is_served_here_and_nothing_comes_from_outside(client):
    page = client.get("/__admin/ui").text
    referenced = set(re.findall(r'(?:src|href)="(/__admin/[^"#]+)"', page))
    for module in assets.STATIC.glob("*.js"):
        referenced |= {f"/__admin/ui/{name}" for name in re.findall(r'from "\./([^"]+)"', module.read_text())}
    assert {"/__admin/ui/app.js", "/__admin/ui/console.css", "/__admin/ui/experiments.js"} <= referenced
    for url in sorted(referenced):
        response = client.get(url)
        assert response.status_code == 200, url
    for path in assets.STATIC.iterdir():
        text = path.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")  # a namespace, not a load
        assert not re.search(r"https?://", text), f"{path.name} names an outside URL"


def test_only_listed_files_are_served(client):
    for path in [
        "/__admin/ui/assets.py",
        "/__admin/ui/docs.html",
        "/__admin/ui/..",
        "/__admin/docs/index.html",
        "/__admin/docs/swagger-ui.js.map",
        "/__admin/specs/settings.yaml",
    ]:
        response = client.get(path, check_spec=False)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"


def test_docs_serve_swagger_ui_from_the_installed_package(client):
    page = client.get("/__admin/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    bundle = client.get("/__admin/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and bundle.headers["Content-Type"].startswith("text/javascript")
    assert len(bundle.content) > 500_000
    assert client.get("/__admin/docs/swagger-ui.css").headers["Content-Type"].startswith("text/css")
    assert assets.swagger_dir() is not None


def test_spec_index_lists_stable_urls(client):
    index = client.get("/__admin/specs").json()
    assert index["console"] == "/__admin/ui" and index["docs"] == "/__admin/docs"
    names = ("posthog", "launchdarkly", "admin")
    assert [(s["name"], s["yaml"], s["json"]) for s in index["specs"]] == [
        (name, f"/__admin/specs/{name}.yaml", f"/__admin/specs/{name}.json") for name in names
    ]


@pytest.mark.parametrize("name", ["posthog", "launchdarkly", "admin"])
def test_published_specs_are_the_bundled_ones_pointing_at_this_server(client, name):
    """The control API's is the one the server holds itself to: each vendor's operations merged in."""
    bundled = merged_spec(name, ("launchdarkly.admin", "posthog.admin")) if name == "admin" else load_spec(name)
    as_yaml = client.get(f"/__admin/specs/{name}.yaml")
    as_json = client.get(f"/__admin/specs/{name}.json")
    assert as_yaml.headers["Content-Type"] == "application/yaml"
    assert as_json.headers["Content-Type"] == "application/json"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for served in (yaml.load(as_yaml.content, Loader=loader), json.loads(as_json.content)):
        assert served["servers"] == [{"url": "http://localhost", "description": "this mockserver"}]
        assert {k: v for k, v in served.items() if k != "servers"} == json.loads(
            json.dumps({k: v for k, v in bundled.items() if k != "servers"}, default=str)
        )


def test_published_specs_name_the_address_the_client_used(live_server):
    http = HttpClient(live_server.url, {})
    spec = yaml.safe_load(http.get("/__admin/specs/launchdarkly.yaml").content)
    assert spec["servers"][0]["url"] == live_server.url
    assert http.get("/__admin/specs/admin.json").json()["servers"][0]["url"] == live_server.url


def test_the_published_control_api_spec_has_every_vendor_operation(client):
    served = client.get("/__admin/specs/admin.json").json()
    operations = {op["operationId"] for item in served["paths"].values() for op in item.values() if "operationId" in op}
    assert {"approvePosthogChangeRequest", "cancelPosthogChangeRequest", "addLaunchdarklyRateLimit"} <= operations
