"""Forms of the query layer: the parameters of the analytics endpoints and dashboard."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.conf import settings
from django.utils import timezone

from ..events import registry
from . import analytics
from .fields import IsoDateTimeBoundField
from .rules import rule_error

__all__ = ["AnalyticsQueryForm", "iana_zone_names", "time_zone_names"]


@functools.cache
def iana_zone_names() -> frozenset[str]:
    """The IANA time zone names this machine knows, without files that are not zones.

    ``localtime``, ``posixrules`` and ``Factory`` are files of the zone database,
    not zones; ``right/``/``posix/`` copies are left out by ``available_timezones``.
    """
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


def time_zone_names() -> list[str]:
    """The names ``tz`` accepts, sorted: the IANA zones and ``settings.TIME_ZONE``."""
    return sorted(iana_zone_names() | {settings.TIME_ZONE})


class AnalyticsQueryForm(forms.Form):
    """Parse and check the parameters of the analytics endpoints and dashboard.

    ``cleaned_data`` gives ``event_type`` (list of registered names), ``tz``
    (a ZoneInfo), ``start`` and ``end`` (aware datetimes, both inclusive) and
    ``interval`` (when ``with_interval``).
    """

    event_type = forms.MultipleChoiceField(choices=())
    start = IsoDateTimeBoundField(label="from")
    end = IsoDateTimeBoundField(label="to", upper=True)
    tz = forms.CharField(required=False, max_length=64)
    interval = forms.ChoiceField(choices=[(i, i) for i in analytics.INTERVALS], required=False)

    def __init__(self, data: Any, *, with_interval: bool = False) -> None:
        # The query string says "from" and "to": map them onto the form's fields.
        values = {
            "event_type": data.getlist("event_type") if hasattr(data, "getlist") else [],
            "start": data.get("from"),
            "end": data.get("to"),
            "tz": data.get("tz"),
            "interval": data.get("interval"),
        }
        super().__init__(values)
        cast(forms.MultipleChoiceField, self.fields["event_type"]).choices = [
            (name, name) for name in registry.searchable_names()
        ]
        self.fields["interval"].required = with_interval

    def clean_tz(self) -> ZoneInfo:
        name = self.cleaned_data.get("tz") or settings.TIME_ZONE
        if name not in time_zone_names():
            raise forms.ValidationError(f"Unknown time zone {name!r}: give an IANA name.")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(f"Unknown time zone {name!r}: give an IANA name.") from None

    def full_clean(self) -> None:
        # Dates without a time are days in the requested zone: clean in that zone.
        zone_name = self.data.get("tz") or settings.TIME_ZONE
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(settings.TIME_ZONE)
        with timezone.override(zone):
            super().full_clean()

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())  # Form.clean() gives cleaned_data
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is not None and end is not None:
            cleaned["start"] = start.value
            # A date-only "to" is "before the next day": the last inclusive instant.
            cleaned["end"] = end.value - timedelta(microseconds=1) if end.exclusive else end.value
            if cleaned["start"] > cleaned["end"]:
                # Both fit the schema: a rule across them (422, see .rules).
                self.add_error("end", rule_error("'to' must not be before 'from'."))
        return cleaned

    def api_errors(self) -> dict[str, list[str]]:
        """Errors keyed by the query parameter names (``from``/``to``, not start/end)."""
        names = {"start": "from", "end": "to"}
        # An ErrorList iterates over its messages as strings.
        return {
            names.get(key, key): cast(list[str], list(value)) for key, value in self.errors.items()
        }
