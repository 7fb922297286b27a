"""A vendor brings its own helpers to the client (``VendorPlugin.control``): a third vendor's
appear as ``client.<name>``, ``client.<name>_url`` and its shortcuts, with no change to the client."""

from __future__ import annotations

import sys

import pytest

from mockserver.app import create_app
from mockserver.client import Client
from mockserver.core import registry
from tests.conftest import make_settings
from tests.test_third_vendor import VENDOR

CONTROL = """

class TinyControl:
    shortcuts = ("thing_names",)

    def __init__(self, client):
        self._client = client

    @property
    def url(self):
        return self._client.url + "/tiny"

    def thing_names(self):
        return sorted(t["name"] for t in self._client.state()["tiny"]["things"].values())


PLUGIN = VendorPlugin("tiny", build, control=TinyControl)
"""


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    (tmp_path / "tinyvendor.py").write_text(VENDOR + CONTROL)
    info = tmp_path / "tinyvendor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyvendor\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mockserver.vendors]\ntiny = tinyvendor:PLUGIN\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.discover.cache_clear()
    yield
    sys.modules.pop("tinyvendor", None)
    monkeypatch.undo()
    registry.discover.cache_clear()


def test_a_third_vendor_brings_its_helpers(tiny):
    with Client.in_process(create_app(make_settings())) as mock:
        assert mock.tiny.thing_names() == ["seeded"]
        assert mock.thing_names() == ["seeded"]  # its shortcut
        assert mock.tiny_url == "http://mockserver.invalid/tiny"
        assert {"tiny", "tiny_url", "thing_names", "posthog", "launchdarkly"} <= set(dir(mock))
        assert mock.posthog.url == "http://mockserver.invalid/api/projects/1"  # the others are still there


def test_without_a_control_a_vendor_has_no_helpers(tmp_path, monkeypatch):
    (tmp_path / "tinyvendor.py").write_text(VENDOR)
    info = tmp_path / "tinyvendor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyvendor\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mockserver.vendors]\ntiny = tinyvendor:PLUGIN\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.discover.cache_clear()
    try:
        with Client.in_process(create_app(make_settings())) as mock:
            with pytest.raises(AttributeError):
                mock.tiny  # noqa: B018
            assert mock.health()["vendors"] == ["launchdarkly", "posthog", "tiny"]
    finally:
        sys.modules.pop("tinyvendor", None)
        registry.discover.cache_clear()
