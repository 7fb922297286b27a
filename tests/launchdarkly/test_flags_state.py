"""Flags in state documents: created flags survive export and import, broken flag records are refused,
and the seeded flags are the same for the same seed."""

from __future__ import annotations

import pytest

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.launchdarkly.helpers import LD_KEY, applied, create_flag, get_flag
from tests.speccheck import FlaskClient

FORMAT = "mockserver/state@1"


def test_created_and_changed_flags_survive_export_and_import(ld):
    create_flag(ld, "exported", variations=[{"value": "x"}, {"value": "y"}])
    changed = applied(
        ld,
        "exported",
        {"kind": "turnFlagOn"},
        {"kind": "addUserTargets", "values": ["u"], "variationId": get_flag(ld, "exported")["variations"][1]["_id"]},
    )
    admin = FlaskClient(ld.app)
    exported = admin.get("/__admin/state").json()
    admin.post("/__admin/reset", json_body={})
    assert ld.get("/api/v2/flags/default/exported").status_code == 404
    restored = admin.put("/__admin/state", json_body=exported)
    assert restored.status_code == 200, restored.text
    assert get_flag(ld, "exported") == changed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"environments": {"production": {"_requests": "often"}}}, "flags.default/dark-mode-default"),
        (
            {"environments": {"production": {"targets": [{"variation": 0, "values": "u"}]}}},
            "flags.default/dark-mode-default",
        ),
        (
            {"environments": {"test": {"fallthrough": {"rollout": {"variations": "all"}}}}},
            "flags.default/dark-mode-default",
        ),
    ],
)
def test_flag_records_that_cannot_be_served_are_refused(change, field):
    admin = FlaskClient(create_app(make_settings()))
    before = admin.get("/__admin/state").json()
    response = admin.put(
        "/__admin/state",
        json_body={"format": FORMAT, "patch": {"launchdarkly": {"flags": {"default/dark-mode-default": change}}}},
    )
    assert response.status_code == 400, response.text
    assert field in response.json()["field"]
    assert admin.get("/__admin/state").json() == before


def test_the_state_schema_types_the_flag_fields_rules_read():
    admin = FlaskClient(create_app(make_settings()))
    before = admin.get("/__admin/state").json()
    for change, field in (
        ({"archived": "yes"}, "archived"),
        ({"tags": [1]}, "tags"),
        ({"environments": []}, "environments"),
    ):
        response = admin.put(
            "/__admin/state",
            json_body={"format": FORMAT, "patch": {"launchdarkly": {"flags": {"default/dark-mode-default": change}}}},
        )
        assert response.status_code == 400, response.text
        assert field in response.json()["field"]
    assert admin.get("/__admin/state").json() == before


def test_seeded_flags_are_deterministic():
    first = FlaskClient(create_app(make_settings()), LD_KEY)
    second = FlaskClient(create_app(make_settings()), LD_KEY)
    for path in (
        "/api/v2/flags/default?env=production&env=test&summary=0&limit=50&expand=evaluation",
        "/api/v2/flag-statuses/default/production",
        "/api/v2/flag-statuses/mobile-app/test",
    ):
        assert first.get(path).content == second.get(path).content
    other = FlaskClient(create_app(make_settings(seed=7)), LD_KEY)
    path = "/api/v2/flags/default?env=production&summary=0"
    assert other.get(path).content != first.get(path).content
