"""Only statuses LaunchDarkly documents: getFeatureFlag never answers another, unreadable bodies are 400,
and every error body carries code, message and id."""

from __future__ import annotations

import pytest

from mockserver.core.contract import Contract
from tests.launchdarkly.helpers import BASE, ENV, PROJECT, refused

FLAG = f"/api/v2/flags/{PROJECT}/pricing-page-layout"
DOCUMENTED_FOR_GET_FLAG = {200, 401, 403, 404, 429}


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ("", {}, 200),
        ("?env=production", {}, 200),
        ("?env=", {}, 404),
        ("?env=nowhere", {}, 200),
        ("", {"LD-API-Version": "yesterday"}, 200),
        ("", {"LD-API-Version": ""}, 200),
        ("", {"Authorization": ""}, 401),
        ("", {"Authorization": "sdk-key"}, 401),
    ],
)
def test_get_feature_flag_answers_only_documented_statuses(ld_api, query, headers, status):
    response = ld_api.get(FLAG + query, headers=headers)
    assert response.status_code == status and status in DOCUMENTED_FOR_GET_FLAG
    if status >= 400:
        refused(response, status)


def test_get_feature_flag_contract_lists_no_400():
    responses = Contract("launchdarkly").raw_operations["getFeatureFlag"][2]["responses"]
    assert {int(code) for code in responses} - {500} == DOCUMENTED_FOR_GET_FLAG


def test_a_bad_version_header_is_still_400_where_documented(ld_api):
    assert "LD-API-Version" in refused(ld_api.get(BASE, headers={"LD-API-Version": "yesterday"}), 400)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", BASE),
        ("PATCH", f"{BASE}/onboarding-flow-test"),
        ("POST", f"/api/v2/metrics/{PROJECT}"),
        ("PATCH", f"/api/v2/metrics/{PROJECT}/page-load-ms"),
        ("POST", f"/api/v2/projects/{PROJECT}/environments/{ENV}/holdouts"),
        ("POST", f"/api/v2/projects/{PROJECT}/layers"),
        ("PUT", f"/api/v2/projects/{PROJECT}/context-kinds/team"),
        ("PATCH", f"/api/v2/projects/{PROJECT}/environments/{ENV}"),
        ("PATCH", FLAG),
    ],
)
def test_a_body_that_is_not_json_is_400_not_415(ld_api, method, path):
    response = ld_api.request(method, path, data="name=x", content_type="application/x-www-form-urlencoded")
    message = refused(response, 400)
    assert "application/json" in message


def test_a_body_too_large_is_400(ld):
    response = ld.post(BASE, data=b'{"pad": "' + b"a" * (2 * 1024 * 1024) + b'"}', content_type="application/json")
    assert "exceeds" in refused(response, 400)


def test_error_ids_are_stable_per_answer(ld_api):
    first = ld_api.get(f"{BASE}/nope").json()
    assert first == ld_api.get(f"{BASE}/nope").json()
    other = ld_api.get(f"{BASE}/other").json()
    assert other["id"] != first["id"] and len(first["id"]) == 36


def test_operations_without_a_documented_400_answer_a_bad_query_404(ld):
    assert "expand" in refused(ld.get(f"/api/v2/metrics/{PROJECT}/page-load-ms?expand="), 404)
    assert "expand" in refused(ld.get("/api/v2/members/me?expand="), 404)
