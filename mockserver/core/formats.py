"""The string formats openapi-core asserts for OAS 3.1, without importing openapi-schema-validator.

openapi-schema-validator's ``oas31_format_checker`` is jsonschema's default ``FormatChecker`` plus
six OAS formats. Importing that package costs ~0.1 s of every start-up (its settings machinery),
and jsonschema's format module another ~0.05 s (it probes a dozen optional libraries). So the
formats our specs use (``date-time``, ``email``, ``uuid``, the integer and number formats) are
checked here exactly as those checkers check them, and every other format goes to jsonschema's
checker, imported the first time a value of such a format is seen. ``tests/test_formats.py``
proves the table agrees with ``oas31_format_checker`` on every format it knows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from numbers import Number
from typing import Any
from uuid import UUID

try:
    from rfc3339_validator import validate_rfc3339
except ImportError:  # jsonschema then has no date-time check either: the lazy path below agrees
    validate_rfc3339 = None

# What oas31_format_checker knows (jsonschema's FormatChecker() with the libraries installed with
# openapi-core, plus the OAS formats); the parity test keeps this list honest.
NAMES = (
    "date", "date-time", "double", "email", "float", "idn-email", "idn-hostname", "int32", "int64",
    "ipv4", "ipv6", "json-pointer", "password", "regex", "relative-json-pointer", "time", "uuid",
)  # fmt: skip


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


def is_email(instance: object) -> bool:
    return not isinstance(instance, str) or "@" in instance


def is_uuid(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        UUID(instance)
    except ValueError:
        return False
    return all(instance[position] == "-" for position in (8, 13, 18, 23))


def is_datetime(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    return bool(validate_rfc3339(instance.upper()))  # type: ignore[misc]


OAS_CHECKS: dict[str, Callable[[object], bool]] = {
    "int32": is_int32,
    "int64": is_int64,
    "float": is_float,
    "double": is_float,
    "password": is_password,
    "regex": is_regex,
}
HERE: dict[str, Callable[[object], bool]] = {**OAS_CHECKS, "email": is_email, "idn-email": is_email, "uuid": is_uuid}
if validate_rfc3339 is not None:
    HERE["date-time"] = is_datetime


@functools.cache
def oas31_checker() -> Any:
    """A ``jsonschema.FormatChecker`` with what ``oas31_format_checker`` holds."""
    from jsonschema import FormatChecker

    checker = FormatChecker()
    for name, func in OAS_CHECKS.items():
        checker.checks(name)(func)
    return checker


def _later(name: str) -> Callable[[object], bool]:
    def check(instance: object) -> bool:
        return bool(oas31_checker().conforms(instance, name))

    return check


def table() -> dict[str, Callable[[object], bool]]:
    """Every asserted format's check (``value -> bool``, never raising: jsonschema's own checks can
    raise on odd input, e.g. ``relative-json-pointer`` on a superscript digit, which is a no)."""
    return {name: _safe(HERE.get(name) or _later(name)) for name in NAMES}


def _safe(func: Callable[[object], bool]) -> Callable[[object], bool]:
    def check(instance: object) -> bool:
        try:
            return bool(func(instance))
        except Exception:
            return False

    return check
