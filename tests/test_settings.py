"""MOCKSERVER_* variables: every boolean setting reads "false"/"0" as off and "true"/"1" as on."""

from __future__ import annotations

from dataclasses import fields

import pytest

from mockserver.core.settings import Settings, env_overrides

BOOLEANS = [f.name for f in fields(Settings) if f.type in ("bool", bool) and f.name != "request_validation"]


def test_there_are_boolean_settings():
    assert {"strict_auth", "no_auth", "admin_api"} <= set(BOOLEANS)


@pytest.mark.parametrize("name", BOOLEANS)
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("false", False),
        ("0", False),
        ("no", False),
        ("", False),
        ("true", True),
        ("1", True),
        ("YES", True),
        ("on", True),
    ],
)
def test_boolean_variables(name, raw, expected):
    values = env_overrides({f"MOCKSERVER_{name.upper()}": raw})
    assert values[name] is expected


def test_request_validation_cannot_be_switched_off_from_the_environment():
    assert "request_validation" not in env_overrides({"MOCKSERVER_REQUEST_VALIDATION": "false"})


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("MOCKSERVER_PORT", "abc", "MOCKSERVER_PORT: must be an integer, not 'abc'"),
        ("MOCKSERVER_SEED", "4.2", "MOCKSERVER_SEED: must be an integer, not '4.2'"),
        ("MOCKSERVER_STRICT_AUTH", "maybe", "MOCKSERVER_STRICT_AUTH: must be one of"),
        ("MOCKSERVER_NO_AUTH", "2", "MOCKSERVER_NO_AUTH: must be one of"),
    ],
)
def test_bad_variables_are_named_in_the_error(variable, raw, message):
    with pytest.raises(ValueError) as caught:
        env_overrides({variable: raw})
    assert str(caught.value).startswith(message)


def test_mock_server_refuses_an_unknown_setting():
    from mockserver.server import MockServer

    with pytest.raises(TypeError, match="unknown setting 'sed'"):
        MockServer(sed=1)


def test_settings_take_the_cli_strings_or_refuse_at_construction():
    from datetime import UTC, datetime

    from mockserver.server import MockServer

    assert Settings(now="2030-01-01T00:00:00Z").now == datetime(2030, 1, 1, tzinfo=UTC)
    assert Settings(port="8011").port == 8011 and Settings(latency="50-200").latency == (50.0, 200.0)
    for kwargs, words in (
        ({"port": "abc"}, "port: must be an integer, not 'abc'"),
        ({"threads": "many"}, "threads: must be an integer"),
        ({"now": 5}, "now must be datetime"),
        ({"now": "tomorrow"}, "now"),
        ({"seed": -1}, "seed must be between 0 and 9223372036854775807, not -1"),  # what a reset takes
        ({"seed": "18446744073709551616"}, "seed must be between 0 and 9223372036854775807"),
    ):
        with pytest.raises(ValueError, match=words):
            Settings(**kwargs)
    with pytest.raises(ValueError, match="port: must be an integer, not 'abc'"):
        MockServer(port="abc")
