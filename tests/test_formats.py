"""The format table the compiled checks use agrees with openapi-schema-validator's OAS 3.1 checker
(what openapi-core asserts), on every format it knows."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_schema_validator import oas31_format_checker

from mockserver.core import formats

CORPUS = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    0.5,
    1e300,
    float("inf"),
    "",
    "x",
    "2021-12-01T10:23:00Z",
    "2021-12-01T10:23:00+01:00",
    "2021-12-01t10:23:00z",
    "2021-12-01T10:23",
    "2021-02-30T00:00:00Z",
    "2021-12-01",
    "2021-13-01",
    "10:23:00Z",
    "10:23:00",
    "25:00:00Z",
    "a@b",
    "no-at-sign",
    "ü@ü.de",
    "127.0.0.1",
    "256.0.0.1",
    "::1",
    "fe80::1%eth0",
    "example.com",
    "-bad-.com",
    "/a/b",
    "a/b",
    "0/a",
    "^[a-z]+$",
    "[",
    "(?<name>x)",
    "9b6a3f5e-2c1d-4e8f-a7b6-1c2d3e4f5a6b",
    "9b6a3f5e2c1d4e8fa7b61c2d3e4f5a6b",
    "{9b6a3f5e-2c1d-4e8f-a7b6-1c2d3e4f5a6b}",
    "\uff21\uff22\uff23",
    "\u00b90",
    "١٢٣",
    b"bytes",
    [],
    {},
]


TABLE = formats.table()


def conforms(checker, value: object, name: str) -> bool:
    """A checker's verdict; one that raises (jsonschema's own do on some input) says no."""
    try:
        return checker.conforms(value, name)
    except Exception:
        return False


def agree(value: object) -> None:
    lazy = formats.oas31_checker()
    for name in oas31_format_checker.checkers:
        expected = conforms(oas31_format_checker, value, name)
        assert TABLE[name](value) == expected, (name, value)
        assert conforms(lazy, value, name) == expected, (name, value)


def test_the_same_formats():
    assert set(formats.NAMES) == set(TABLE) == set(oas31_format_checker.checkers)
    assert set(formats.oas31_checker().checkers) == set(oas31_format_checker.checkers)


@pytest.mark.parametrize("value", CORPUS, ids=repr)
def test_agrees_on_the_corpus(value: object):
    agree(value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.from_regex(r"\A[0-9T:.+Z-]{0,30}\Z")))
def test_agrees_on_generated_values(value: object):
    agree(value)


def test_start_up_does_not_import_openapi_schema_validator():
    """Their imports cost ~0.15 s; serving a first request must not need them."""
    code = (
        "import sys\n"
        "from mockserver.app import create_app\n"
        "app = create_app()\n"
        "r = app.test_client().get('/api/projects/1/experiments/', headers={'Authorization': 'Bearer phx_x'})\n"
        "assert r.status_code == 200, r.status_code\n"
        "print('openapi_schema_validator' in sys.modules, 'jsonschema' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False False"
