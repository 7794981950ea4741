"""Form fields of the query layer: ISO 8601 time bounds for searches and analytics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

__all__ = ["ISO_BOUND_PATTERN", "IsoDateTimeBoundField", "TimeBound"]


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


# The values every IsoDateTimeBoundField accepts, as one ECMA 262 / Python regex (the published
# schema's pattern): real calendar dates of years 2 to 9998 (so that no offset or next day
# leaves years 1..9999), times 00:00 to 23:59:59.999999, and the offset a date-time must have.
_YEAR = (
    "(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
)
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
# Leap years: divisible by 4, centuries only when divisible by 400 (all within years 4..9996).
_LEAP_DAY = (
    "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29"
)
_HOUR_MINUTE = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_TIME = f"[T ]{_HOUR_MINUTE}(?::[0-5][0-9](?:\\.[0-9]{{1,6}})?)?(?:Z|[+-]{_HOUR_MINUTE})"
#: Every string matching this is accepted by :class:`IsoDateTimeBoundField` (lower or upper).
ISO_BOUND_PATTERN = f"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})(?:{_TIME})?$"


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

    #: The JSON Schema of the accepted values (published in the API's OpenAPI schema).
    json_schema = {
        "type": "string",
        "pattern": ISO_BOUND_PATTERN,
        "example": "2024-01-31T10:00:00+01:00",
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
