"""Project ids in paths, and /api/environments/ answering like /api/projects/."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import ENV, P, act, assert_error, create, mean

PROJECT_NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Project not found.", "attr": None}


@pytest.mark.parametrize("project", ["@current", "1", "01"])
def test_current_and_digits_name_a_project(api, project):
    response = api.get(f"/api/projects/{project}/experiments/4/")
    assert response.status_code == 200 and response.json()["id"] == 4


@pytest.mark.parametrize("project", ["abc", "+1", "1_0", "%D9%A1", "1.0", "999", "%20%31"])
def test_anything_else_is_project_not_found(api, project):
    for scope in ("projects", "environments"):
        response = api.get(f"/api/{scope}/{project}/experiments/")
        assert response.status_code == 404 and response.json() == PROJECT_NOT_FOUND


def test_environment_urls_answer_like_project_urls(api):
    assert api.get(f"{ENV}/experiments/4/").json() == api.get(f"{P}/experiments/4/").json()
    listed = api.get(f"{ENV}/experiments/?limit=3").json()
    assert listed["results"] == api.get(f"{P}/experiments/?limit=3").json()["results"]
    assert listed["next"].endswith("/api/environments/1/experiments/?limit=3&offset=3")
    created = api.post(f"{ENV}/experiments/", json_body={"name": "Env", "feature_flag_key": "env", "metrics": [mean()]})
    assert created.status_code == 201
    exp = created.json()
    assert api.get(f"{P}/experiments/{exp['id']}/").json() == exp
    assert api.patch(f"{ENV}/experiments/{exp['id']}/", json_body={"name": "Env 2"}).json()["name"] == "Env 2"
    assert api.post(f"{ENV}/experiments/{exp['id']}/launch/").json()["status"] == "running"
    assert api.get(f"{ENV}/experiment_holdouts/1/").json() == api.get(f"{P}/experiment_holdouts/1/").json()
    assert (
        api.get(f"{ENV}/experiment_saved_metrics/").json()["count"]
        == api.get(f"{P}/experiment_saved_metrics/").json()["count"]
    )
    assert api.get("/api/environments/@current/experiments/stats/").json() == api.get(f"{P}/experiments/stats/").json()


def test_environment_urls_answer_posthogs_errors(api):
    exp = create(api)
    assert_error(api.get(f"{ENV}/experiments/99999/"), 404, "Not found.", "not_found")
    assert_error(act_raw(api, exp["id"], "reset"), 400, "Experiment is already in draft state.")
    unknown = api.get(f"{ENV}/nope/")
    assert_error(unknown, 404, "Not found.", "not_found")
    assert unknown.headers["X-Mock-Nearest-Path"].startswith("/api/{scope}/{project_id}/")
    wrong_verb = api.request("PUT", f"{ENV}/experiments/", json_body={})
    assert_error(wrong_verb, 405, 'Method "PUT" not allowed.', "method_not_allowed")
    assert api.delete(f"{ENV}/experiments/{exp['id']}/").status_code == 405
    assert_error(api.get("/api/teams/1/experiments/"), 404, "Not found.")
    assert act(api, exp["id"], "launch")["status"] == "running"


@pytest.mark.parametrize("action", ["stats", "requires_flag_implementation", "eligible_feature_flags"])
def test_a_list_action_s_path_is_its_own_not_an_experiment_id(api, action):
    """Django resolves the path first (the action's literal before ``{id}``), then DRF the method:
    PATCH on ``experiments/stats/`` is 405 naming GET, and OPTIONS lists only what that path serves."""
    wrong_verb = api.request("PATCH", f"{P}/experiments/{action}/", json_body={}, check_spec=False)
    assert_error(wrong_verb, 405, 'Method "PATCH" not allowed.', "method_not_allowed")
    assert wrong_verb.headers["Allow"] == "GET, HEAD"
    options = api.request("OPTIONS", f"{P}/experiments/{action}/", check_spec=False)
    assert options.status_code == 200 and options.headers["Allow"] == "GET, HEAD"
    detail = api.request("OPTIONS", f"{P}/experiments/1/", check_spec=False)
    assert detail.headers["Allow"] == "DELETE, GET, HEAD, PATCH, PUT"


def act_raw(api, exp_id, action):
    return api.post(f"{ENV}/experiments/{exp_id}/{action}/")


@pytest.mark.parametrize("path", [f"{P}/experiments/4//", f"{P}/experiments/4%2F/", f"{P}/experiments//"])
def test_a_doubled_trailing_slash_is_not_found_as_in_django(api, path):
    """PostHog's routes end in ``/?$``: one optional slash. werkzeug's matcher took a second one."""
    assert_error(api.get(path), 404)
    assert api.get(f"{P}/experiments/4/").status_code == 200
