"""Bodies are parsed strictly: what the next export, a real API or a UTF-8 encoder would choke on is a
clear 400 in the vendor's format, journaled with its reason, and nothing changes."""

from __future__ import annotations

import pytest

from mockserver.core import jsonbody

BAD_BODIES = [
    pytest.param(b'{"name": "\\ud800", "feature_flag_key": "x"}', "lone UTF-16 surrogate", id="lone surrogate"),
    pytest.param(b'{"name": "x", "feature_flag_key": "x", "n": NaN}', "NaN", id="NaN"),
    pytest.param(b'{"name": "x", "feature_flag_key": "x", "n": Infinity}', "Infinity", id="Infinity"),
    pytest.param(b'{"name": "x", "feature_flag_key": "x", "n": 1e400}', "out of range", id="1e400"),
    pytest.param(b'{"name": "x", "n": ' + b"[" * 101 + b"]" * 101 + b"}", "deeper than 100", id="depth 102"),
    pytest.param('{"name": "é", "feature_flag_key": "x"}'.encode("latin-1"), "not UTF-8", id="latin-1"),
    pytest.param('{"name": "x"}'.encode("utf-16"), "not UTF-8", id="UTF-16 with BOM"),
    pytest.param(b'\xef\xbb\xbf{"name": "x", "feature_flag_key": "x"}', "byte-order mark", id="UTF-8 BOM"),
]


@pytest.mark.parametrize(("body", "reason"), BAD_BODIES)
def test_posthog_refuses_a_body_that_is_not_strict_json(api, body, reason):
    before = api.get("/__admin/state").json()["data"]
    api.delete("/__admin/requests")
    response = api.post("/api/projects/1/experiments/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_request" and response.json()["code"] == "parse_error"
    assert reason in response.json()["detail"]
    assert api.get("/__admin/state").json()["data"] == before
    (entry,) = api.get("/__admin/requests").json()["requests"]
    assert entry["problem"]["kind"] == "parse_error" and reason in entry["validation_errors"][0]


@pytest.mark.parametrize(("body", "reason"), BAD_BODIES)
def test_launchdarkly_refuses_a_body_that_is_not_strict_json(api, body, reason):
    response = api.request(
        "PUT",
        "/api/v2/projects/default/experimentation-settings",
        data=body,
        content_type="application/json",
        headers={"Authorization": "api-strict"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request" and reason in response.json()["message"]


def test_nesting_up_to_the_limit_is_fine():
    assert jsonbody.parse(b"[" * 100 + b"]" * 100) is not None
    with pytest.raises(jsonbody.BodyError, match="deeper than 100"):
        jsonbody.parse(b"[" * 101 + b"]" * 101)
    with pytest.raises(jsonbody.BodyError, match="deeper"):
        jsonbody.parse(b"[" * 100_000 + b"]" * 100_000)  # no RecursionError escapes


def test_big_integers_and_unicode_survive():
    assert jsonbody.parse(b'{"n": 123456789012345678901234567890, "s": "\\u00e9\\ud83d\\ude00"}') == {
        "n": 123456789012345678901234567890,
        "s": "é\U0001f600",
    }


def test_the_key_can_still_come_from_the_body(api):
    response = api.post(
        "/api/projects/1/experiments/",
        json_body={"name": "Keyed", "feature_flag_key": "keyed", "personal_api_key": "phx_body"},
        headers={"Authorization": ""},
    )
    assert response.status_code == 201, response.text
