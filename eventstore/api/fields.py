"""Serializer and filter fields shared by the payments API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

__all__ = ["AmountField", "TimeBound", "IsoDateTimeBoundField"]

_AMOUNT = re.compile(r"[0-9]{1,30}(\.[0-9]{1,30})?", re.ASCII)


@extend_schema_field({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "example": "100.00"})
class AmountField(serializers.Field):
    """A money amount given as a decimal string (``"100.00"``) or a whole number.

    JSON numbers with a fraction are refused: most decimal amounts have no exact
    binary float, so ``100.10`` could silently become ``100.09999999999999``.
    Output is the amount's decimal string.
    """

    default_error_messages = {
        "float": 'Give the amount as a decimal string, such as "100.00", not a JSON number.',
        "invalid": 'Give the amount as a decimal string, such as "100.00".',
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, int):
            return Decimal(data)
        if not isinstance(data, str) or not _AMOUNT.fullmatch(data.strip()):
            self.fail("invalid")
        try:
            return Decimal(data.strip())
        except InvalidOperation:
            self.fail("invalid")

    def to_representation(self, value: Any) -> str:
        return str(value)


@dataclass(frozen=True)
class TimeBound:
    """A validated time bound: ``value`` (aware) and whether it is exclusive."""

    value: datetime
    exclusive: bool = False


_TRAILING_OFFSET = re.compile(r"(?<=\d{2}:\d{2}) (\d{2}:?\d{2})$")
# A calendar date, optionally with a time and an offset (ISO 8601 extended format).
_ISO_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)


class IsoDateTimeBoundField(forms.Field):
    """An ISO 8601 date-time with UTC offset, or a date meaning that whole day.

    A date-only value is read in the current time zone (``TIME_ZONE``): as a
    lower bound it means the day's first instant; as an upper bound
    (``upper=True``) everything before the next day's first instant. A
    date-time without an offset is refused (ambiguous). A ``+`` in the offset
    that arrived as a space (an unencoded ``+`` in a query string) is repaired.
    """

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date (2024-01-31) or date-time with offset "
        "(2024-01-31T10:00:00+01:00).",
        "naive": "Add a UTC offset (for example +00:00 or Z) to the date-time.",
        "out_of_range": "This date or time is outside the supported range (years 1 to 9999 "
        "once converted to UTC; a date-only upper bound needs the next day too).",
    }

    def __init__(self, *, upper: bool = False, **kwargs: Any) -> None:
        self.upper = upper
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> TimeBound | None:
        if value in self.empty_values:
            return None
        text = _TRAILING_OFFSET.sub(r"+\1", str(value).strip())
        invalid = forms.ValidationError(self.error_messages["invalid"], "invalid")
        if not _ISO_DATE_TIME.fullmatch(text):
            raise invalid
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                if self.upper:
                    day += timedelta(days=1)
                start = timezone.make_aware(datetime.combine(day, time.min))
                return TimeBound(start.astimezone(UTC), exclusive=self.upper)
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                raise forms.ValidationError(self.error_messages["naive"], "naive")
            return TimeBound(parsed.astimezone(UTC))
        except ValueError:
            raise invalid from None
        except OverflowError:
            # A day or an offset that leaves years 1..9999 (e.g. 9999-12-31 as "to").
            raise forms.ValidationError(
                self.error_messages["out_of_range"], "out_of_range"
            ) from None
