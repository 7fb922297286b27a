"""Request fields read the way Django REST framework reads them, with DRF's own words.

PostHog's serializers are DRF serializers: each declared field turns the raw JSON value into
a Python value or fails with a fixed message and code, fields are read in declaration order and
the first failure is the one PostHog reports, and keys no field declares are dropped without a
word. ``Serializer.parse`` does the same over a request body; the classes below are the DRF field
kinds PostHog's experiment, holdout and shared-metric serializers use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from mockserver.core.clock import iso
from mockserver.vendors.posthog.errors import field_error

EMPTY: Any = object()  # "no value sent", as distinct from null

DATETIME_FORMAT = "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]"
TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1", 1}
FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0", 0}
NULL_VALUES = {"null", "Null", "NULL", ""}

# Django's fallback pattern when datetime.fromisoformat refuses a value (django.utils.dateparse).
_DJANGO_DATETIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[.,](?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"\s*(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_TRAILING_ZERO_DECIMAL = re.compile(r"\.0*\s*$")


def python_str(value: Any) -> str:
    """How Python's str() shows a parsed JSON value, as DRF's messages quote input."""
    return str(value)


class FieldError(Exception):
    """A DRF field failure before it is tied to a field name."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


@dataclass
class Field:
    """One declared serializer field: how to read it and whether it may be missing or null."""

    required: bool = False
    allow_null: bool = False
    default: Any = EMPTY
    source: str | None = None
    # validate_<field>: runs after the field has read its value (also for null), may use the state
    check: Callable[..., Any] | None = None

    def read(self, value: Any) -> Any:
        return value


@dataclass
class JSONField(Field):
    """Any JSON value."""


@dataclass
class CharField(Field):
    max_length: int | None = None
    allow_blank: bool = False

    def read(self, value: Any) -> Any:
        if value == "" or str(value).strip() == "":
            if not self.allow_blank:
                raise FieldError("This field may not be blank.", "blank")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise FieldError("Not a valid string.", "invalid")
        text = str(value).strip()
        if self.max_length is not None and len(text) > self.max_length:
            raise FieldError(f"Ensure this field has no more than {self.max_length} characters.", "max_length")
        if "\x00" in text:
            raise FieldError("Null characters are not allowed.", "null_characters_not_allowed")
        for char in text:
            if 0xD800 <= ord(char) <= 0xDFFF:
                raise FieldError(
                    f"Surrogate characters are not allowed: U+{ord(char):X}.", "surrogate_characters_not_allowed"
                )
        return text


@dataclass
class BooleanField(Field):
    def read(self, value: Any) -> Any:
        try:
            if value in TRUE_VALUES:
                return True
            if value in FALSE_VALUES:
                return False
            if value in NULL_VALUES and self.allow_null:
                return None
        except TypeError:  # a list or an object cannot be looked up
            pass
        raise FieldError("Must be a valid boolean.", "invalid")


@dataclass
class IntegerField(Field):
    def read(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) > 1000:
            raise FieldError("String value too large.", "max_string_length")
        try:
            return int(_TRAILING_ZERO_DECIMAL.sub("", str(value)))
        except (ValueError, TypeError):
            raise FieldError("A valid integer is required.", "invalid") from None


@dataclass
class ChoiceField(Field):
    choices: tuple[str, ...] = ()

    def read(self, value: Any) -> Any:
        if str(value) in self.choices:
            return str(value)
        raise FieldError(f'"{python_str(value)}" is not a valid choice.', "invalid_choice")


@dataclass
class ListField(Field):
    def read(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise FieldError(f'Expected a list of items but got type "{type_name(value)}".', "not_a_list")
        return value


@dataclass
class DateTimeField(Field):
    """Every form Django's parse_datetime reads; no zone means UTC; answered as DRF renders it."""

    def read(self, value: Any) -> Any:
        return iso(parse_datetime(value))


@dataclass
class PrimaryKeyField(Field):
    """A related object's id: a number, or text that reads as one, as Django looks ids up."""

    def read(self, value: Any) -> Any:
        pk_value(value)
        return value  # the lookup (a validate hook) quotes the value as sent


def type_name(value: Any) -> str:
    """The Python type name of a parsed JSON value, as PostHog and DRF quote it."""
    if value is None:
        return "NoneType"
    return {dict: "dict", list: "list", str: "str", bool: "bool", int: "int", float: "float"}.get(
        type(value), type(value).__name__
    )


def pk_value(value: Any) -> int:
    """The integer id Django would look up for ``value``, or DRF's incorrect-type failure."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(f"Incorrect type. Expected pk value, received {type_name(value)}.", "incorrect_type")
    try:
        return int(value)
    except (ValueError, OverflowError):
        raise FieldError(f"Incorrect type. Expected pk value, received {type_name(value)}.", "incorrect_type") from None


def parse_datetime(value: Any) -> datetime:
    """DRF's DateTimeField reading: ISO 8601 through Django's parser, naive values taken as UTC."""
    wrong = FieldError(f"Datetime has wrong format. Use one of these formats instead: {DATETIME_FORMAT}.", "invalid")
    if not isinstance(value, str):
        raise wrong
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = _django_fallback(value)
        if parsed is None:
            raise wrong from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise FieldError("Datetime value out of range.", "overflow") from None


def _django_fallback(value: str) -> datetime | None:
    match = _DJANGO_DATETIME.match(value)
    if not match:
        return None
    parts = match.groupdict()
    zone_text = parts.pop("tzinfo")
    if parts["microsecond"]:
        parts["microsecond"] = parts["microsecond"].ljust(6, "0")
    zone = None
    try:
        if zone_text == "Z":
            zone = UTC
        elif zone_text is not None:  # Django's too raises past ±24:00, and DRF reads that as a wrong format
            minutes = int(zone_text[-2:]) if len(zone_text) > 3 else 0
            offset = 60 * int(zone_text[1:3]) + minutes
            zone = timezone(timedelta(minutes=-offset if zone_text[0] == "-" else offset))
        return datetime(**{k: int(v) for k, v in parts.items() if v is not None}, tzinfo=zone)
    except (ValueError, OverflowError):
        return None


@dataclass
class Serializer:
    """An ordered set of declared fields, read the way DRF's Serializer.to_internal_value reads them."""

    fields: Mapping[str, Field]
    # validate(attrs): the checks across fields, run once every field has read its value
    cross_checks: tuple[Callable[[dict[str, Any]], None], ...] = field(default_factory=tuple)

    def parse(self, body: Any, *, partial: bool = False, context: Any = None) -> dict[str, Any]:
        """The validated data, keyed by each field's source; the first failing field raises."""
        data = body if isinstance(body, Mapping) else {}
        out: dict[str, Any] = {}
        for name, spec in self.fields.items():
            source = spec.source or name
            if name not in data:
                if partial:
                    continue
                if spec.required:
                    raise field_error("This field is required.", name, "required")
                if spec.default is not EMPTY:
                    out[source] = spec.default
                continue
            try:
                out[source] = self.read_field(name, data[name])
            except FieldError as failure:
                raise field_error(failure.detail, name, failure.code) from None
            if spec.check is not None:
                out[source] = spec.check(out[source], context)
        for check in self.cross_checks:
            check(out)
        return out

    def read_field(self, name: str, value: Any) -> Any:
        """One field's reading without its validate_<field> hook (stateless; used to word schema errors)."""
        spec = self.fields[name]
        if value is None:
            if not spec.allow_null:
                raise FieldError("This field may not be null.", "null")
            return None
        return spec.read(value)
