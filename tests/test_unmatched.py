"""Unmatched requests: the vendor's 404 envelope and the nearest documented path in a header."""

from __future__ import annotations

import pytest

from tests.conftest import PH_KEY

CASES = [
    ("/api/projects/1/experiment/5/", "/api/{scope}/{project_id}/experiments/{id}/"),
    ("/api/projects/1/experiments/5/lunch/", "/api/{scope}/{project_id}/experiments/{id}/launch/"),
    ("/api/projects/1/experiment_holdout/", "/api/{scope}/{project_id}/experiment_holdouts/"),
    ("/api/v1/experiments", "/api/{scope}/{project_id}/experiments/"),
    (
        "/api/v2/projects/default/environments/production/experimentz",
        "/api/v2/projects/{projectKey}/environments/{environmentKey}/experiments",
    ),
]


@pytest.mark.parametrize(("path", "nearest"), CASES)
def test_nearest_documented_path(client, path, nearest):
    response = client.get(path, headers=PH_KEY)
    assert response.status_code == 404
    assert response.headers["X-Mock-Nearest-Path"] == nearest
    body = response.json()
    if path.startswith("/api/projects"):
        assert body == {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
    elif path.startswith("/api/v2"):
        assert body["code"] == "not_found"
