"""The string formats openapi-core asserts for OAS 3.1, without importing openapi-schema-validator.

openapi-schema-validator's ``oas31_format_checker`` is jsonschema's default ``FormatChecker`` plus
six OAS formats; importing that package costs ~0.1 s of every start-up (its settings machinery),
jsonschema alone a third of that. The six OAS checks are restated here, and
``tests/test_formats.py`` proves the table agrees with ``oas31_format_checker`` on every format.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from numbers import Number
from typing import Any


def is_int32(instance: object) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, int):
        return True
    return -(2**31) <= instance < 2**31


def is_int64(instance: object) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, int):
        return True
    return -(2**63) <= instance < 2**63


def is_float(instance: object) -> bool:
    """``float`` and ``double`` alike: Python's float is a double; an int is a valid number."""
    if isinstance(instance, int) or not isinstance(instance, Number):
        return True
    return isinstance(instance, float)


def is_password(instance: object) -> bool:
    return True  # a hint to user interfaces, never a constraint


def is_regex(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    from openapi_schema_validator._regex import is_valid_regex  # ECMA-262 rules; rare in specs

    return bool(is_valid_regex(instance))


OAS_CHECKS: dict[str, Callable[[object], bool]] = {
    "int32": is_int32,
    "int64": is_int64,
    "float": is_float,
    "double": is_float,
    "password": is_password,
    "regex": is_regex,
}


@functools.cache
def oas31_checker() -> Any:
    """A ``jsonschema.FormatChecker`` with what ``oas31_format_checker`` holds."""
    from jsonschema import FormatChecker

    checker = FormatChecker()
    for name, func in OAS_CHECKS.items():
        checker.checks(name)(func)
    return checker
