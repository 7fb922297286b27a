"""When the mock's own answer breaks its contract: strict (500 naming the field), warn (header), off."""

from __future__ import annotations

import pytest

from mockserver.app import create_app
from mockserver.core.problems import MockContractViolation
from tests.conftest import PH_KEY, make_settings

PATH = "/api/projects/1/experiments/4/"
LD_KEY = {"Authorization": "api-test"}


def _corrupt(app) -> None:
    state = app.extensions["mockserver"].store.data["posthog"]
    state["experiments"]["4"]["name"] = 12345  # a number where the contract promises a string


def test_strict_turns_a_violation_into_500_naming_the_field():
    app = create_app(make_settings(response_validation="strict"))
    _corrupt(app)
    response = app.test_client().get(PATH, headers=PH_KEY)
    assert response.status_code == 500
    body = response.get_json()
    assert body["type"] == "server_error" and body["code"] == "mock_contract_violation"
    assert "name" in body["detail"] and "12345" in body["detail"]
    (recorded,) = app.extensions["mockserver"].server_errors
    assert isinstance(recorded, MockContractViolation) and recorded.violations


def test_warn_sends_the_response_with_a_header():
    app = create_app(make_settings(response_validation="warn"))
    _corrupt(app)
    response = app.test_client().get(PATH, headers=PH_KEY)
    assert response.status_code == 200 and response.get_json()["name"] == 12345
    assert "name" in response.headers["X-Mock-Contract-Violations"]


def test_off_sends_it_silently_and_valid_answers_carry_no_header():
    app = create_app(make_settings(response_validation="off"))
    _corrupt(app)
    response = app.test_client().get(PATH, headers=PH_KEY)
    assert response.status_code == 200 and "X-Mock-Contract-Violations" not in response.headers
    clean = create_app(make_settings(response_validation="warn")).test_client().get(PATH, headers=PH_KEY)
    assert clean.status_code == 200 and "X-Mock-Contract-Violations" not in clean.headers


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="response_validation"):
        make_settings(response_validation="loud")


LISTS = [
    ("/api/projects/1/experiments/?limit=3", PH_KEY, "experiments_list"),
    ("/api/v2/projects/default/environments/production/experiments?limit=3", LD_KEY, "getExperiments"),
]


@pytest.mark.parametrize(("path", "auth", "operation"), LISTS)
def test_a_list_page_is_checked_once_until_the_next_write(monkeypatch, path, auth, operation):
    """A remembered page keeps its verdict until a write; a page for another URL is checked itself."""
    app = create_app(make_settings(response_validation="strict"))
    runtime = app.extensions["mockserver"]
    checked: list[str] = []
    for vendor in runtime.vendors:
        original = vendor.contract.response_problems

        def counting(op, *args, _original=original):
            checked.append(op)
            return _original(op, *args)

        monkeypatch.setattr(vendor.contract, "response_problems", counting)
    client = app.test_client()
    first = client.get(path, headers=auth)
    assert first.status_code == 200
    assert client.get(path, headers=auth).get_json() == first.get_json()
    assert checked.count(operation) == 1
    assert client.get(path + "&offset=1", headers=auth).status_code == 200
    assert checked.count(operation) == 2
    runtime.store.touch()  # what every committed write does
    assert client.get(path, headers=auth).status_code == 200
    assert checked.count(operation) == 3


def test_a_remembered_page_that_breaks_the_contract_is_refused_every_time():
    app = create_app(make_settings(response_validation="strict"))
    _corrupt(app)
    client = app.test_client()
    for _ in range(2):
        response = client.get("/api/projects/1/experiments/?limit=100", headers=PH_KEY)
        assert response.status_code == 500 and "12345" in response.get_json()["detail"]
