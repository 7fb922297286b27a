"""Every new flag has a MOCKSERVER_* twin, and a flag wins over its variable."""

from __future__ import annotations

import pytest

from mockserver.cli import _parser, settings_from

FLAGS = [
    ("--fixture", "empty", "MOCKSERVER_FIXTURE", "demo", "fixture", "empty", "demo"),
    ("--state-file", "/tmp/a.json", "MOCKSERVER_STATE_FILE", "/tmp/b.json", "state_file", "/tmp/a.json", "/tmp/b.json"),
    ("--journal-size", "5", "MOCKSERVER_JOURNAL_SIZE", "7", "journal_size", 5, 7),
    ("--latency", "50-200", "MOCKSERVER_LATENCY", "10", "latency", (50, 200), (10, 10)),
    ("--cors-origins", "http://a.test", "MOCKSERVER_CORS_ORIGINS", "off", "cors_origins", "http://a.test", "off"),
    ("--cors-headers", "X-A", "MOCKSERVER_CORS_HEADERS", "X-B", "cors_headers", "X-A", "X-B"),
    ("--threads", "3", "MOCKSERVER_THREADS", "4", "threads", 3, 4),
]


@pytest.mark.parametrize(("flag", "flag_value", "var", "var_value", "field", "from_flag", "from_var"), FLAGS)
def test_flag_and_variable(flag, flag_value, var, var_value, field, from_flag, from_var):
    from_env = settings_from(_parser().parse_args(["serve"]), {var: var_value})
    assert getattr(from_env, field) == from_var
    both = settings_from(_parser().parse_args(["serve", flag, flag_value]), {var: var_value})
    assert getattr(both, field) == from_flag


@pytest.mark.parametrize(
    ("flag", "var", "field"),
    [
        ("--no-auth", "MOCKSERVER_NO_AUTH", "no_auth"),
        ("--cors-credentials", "MOCKSERVER_CORS_CREDENTIALS", "cors_credentials"),
    ],
)
def test_switches(flag, var, field):
    assert getattr(settings_from(_parser().parse_args(["serve"]), {}), field) is False
    assert getattr(settings_from(_parser().parse_args(["serve"]), {var: "1"}), field) is True
    assert getattr(settings_from(_parser().parse_args(["serve", flag]), {}), field) is True


@pytest.mark.parametrize(
    "environ",
    [
        {"MOCKSERVER_LATENCY": "slow"},
        {"MOCKSERVER_JOURNAL_SIZE": "0"},
        {"MOCKSERVER_NO_AUTH": "1", "MOCKSERVER_STRICT_AUTH": "1"},
    ],
)
def test_bad_values_are_refused(environ):
    with pytest.raises(ValueError):
        settings_from(_parser().parse_args(["serve"]), environ)


def test_a_flag_wins_even_over_an_unusable_variable():
    """MOCKSERVER_PORT=abc beside --port 8011: the variable is not read at all (it stopped the start)."""
    for var, raw, flag, value, field, expected in (
        ("MOCKSERVER_PORT", "abc", "--port", "8011", "port", 8011),
        ("MOCKSERVER_PORT", "", "--port", "8011", "port", 8011),
        ("MOCKSERVER_LATENCY", "fast", "--latency", "5", "latency", (5, 5)),
    ):
        chosen = settings_from(_parser().parse_args(["serve", flag, value]), {var: raw})
        assert getattr(chosen, field) == expected
        with pytest.raises(ValueError, match=var):  # without the flag the variable is read, and refused
            settings_from(_parser().parse_args(["serve"]), {var: raw})
