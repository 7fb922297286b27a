"""MOCKSERVER_* variables: every boolean setting reads "false"/"0" as off and "true"/"1" as on."""

from __future__ import annotations

from dataclasses import fields

import pytest

from mockserver.settings import Settings, env_overrides

BOOLEANS = [f.name for f in fields(Settings) if f.type in ("bool", bool) and f.name != "request_validation"]


def test_there_are_boolean_settings():
    assert {"strict_auth", "no_auth", "launchdarkly_require_beta"} <= set(BOOLEANS)


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
