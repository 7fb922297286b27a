"""When the mock's own answer breaks its contract: strict (500 naming the field), warn (header), off."""

from __future__ import annotations

import pytest

from mockserver.app import create_app
from mockserver.core.problems import MockContractViolation
from tests.conftest import PH_KEY, make_settings

PATH = "/api/projects/1/experiments/4/"


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
