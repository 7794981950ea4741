"""Query parameters of event searches, parsed and validated with django-filter.

django-filter's ``FilterSet`` filters Django QuerySets; events are searched
through the store on every backend, so here the filter set only parses and
validates (its fields, forms and error messages), and
:meth:`EventFilterSet.criteria` turns the cleaned values into the store's
search criteria (the database backend owns their only translation into SQL).
An invalid value is reported, never ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import django_filters
from django import forms
from django.core.validators import RegexValidator

from ..context import CORRELATION_ID_PATTERN
from ..events import registry
from .fields import IsoDateTimeBoundField, TimeBound
from .rules import rule_error

if TYPE_CHECKING:
    from django.db.models import QuerySet

__all__ = ["EventFilterSet", "TimeBoundFilter"]


class TimeBoundFilter(django_filters.Filter):
    """A bound on the datetime column ``field_name``: inclusive, exclusive for a date-only upper.

    Pass ``upper=True`` for an upper bound. Values are parsed by
    :class:`~eventstore.queries.fields.IsoDateTimeBoundField` (ISO 8601 with offset, or a
    date meaning the whole day in the current time zone).
    """

    field_class = IsoDateTimeBoundField

    def filter(self, qs: Any, value: TimeBound | None) -> Any:
        if value is None:
            return qs
        lookup = "lt" if value.exclusive else ("lte" if self.extra.get("upper") else "gte")
        return qs.filter(**{f"{self.field_name}__{lookup}": value.value})


class _NoQuerySet:
    """Stands where django-filter expects a QuerySet: events are searched through the store."""

    model = None

    def all(self) -> _NoQuerySet:
        return self


class EventFilterSet(django_filters.FilterSet):
    """Filters of ``GET /api/events/`` and the event browser.

    The filter set only validates; :meth:`criteria` gives the keyword
    arguments of ``store.search()``, the same on every backend.

    Parameters: ``event_type`` (repeatable; must be a registered type),
    ``aggregate_type``, ``aggregate_id``, ``correlation_id``, ``causation_id``,
    ``organization_id``, ``user_id`` (exact strings), ``from`` and ``to``
    (inclusive; ISO 8601 with offset, or a date meaning the whole day in
    ``TIME_ZONE``), ``search`` (case-insensitive text in data).
    """

    event_type = django_filters.MultipleChoiceFilter(
        label="Event type",
        choices=lambda: [(name, name) for name in registry.searchable_names()],
        help_text="Registered event type; repeat the parameter for several.",
    )
    aggregate_type = django_filters.CharFilter(
        label="Aggregate type", max_length=255, help_text="Aggregate kind."
    )
    aggregate_id = django_filters.CharFilter(
        label="Aggregate id", max_length=255, help_text="Aggregate (stream) id."
    )
    correlation_id = django_filters.CharFilter(
        label="Correlation id",
        max_length=128,
        validators=[
            RegexValidator(
                f"^(?:{CORRELATION_ID_PATTERN.pattern})$", "Enter a valid correlation id."
            )
        ],
        help_text="Correlation id shared by one request or process chain.",
    )
    causation_id = django_filters.CharFilter(
        label="Causation id",
        max_length=255,
        help_text="Id of the command or event that caused the event.",
    )
    organization_id = django_filters.CharFilter(
        label="Organization", max_length=255, help_text="metadata.organization_id"
    )
    user_id = django_filters.CharFilter(
        label="User id", max_length=255, help_text="metadata.user_id"
    )
    search = django_filters.CharFilter(
        label="Search",
        max_length=200,
        validators=[
            RegexValidator("^[^\\x00-\\x1f]*$", "Remove control characters from the search text.")
        ],
        help_text="Case-insensitive text in the event's data.",
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # _NoQuerySet stands in for the QuerySet django-filter expects (see above).
        super().__init__(data, cast("QuerySet[Any]", _NoQuerySet()), **kwargs)

    def get_form_class(self) -> type[forms.Form]:
        form_class = super().get_form_class()

        class EventFilterForm(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                start, end = cleaned.get("from"), cleaned.get("to")
                if isinstance(start, TimeBound) and isinstance(end, TimeBound):
                    if start.value > end.value or (end.exclusive and start.value >= end.value):
                        # Both fit the schema: a rule across them (422, see .rules).
                        self.add_error("to", rule_error("'to' must not be before 'from'."))
                return cleaned

        return EventFilterForm

    def criteria(self) -> dict[str, Any]:
        """Return the cleaned parameters as keyword arguments for ``store.search()``.

        Call :meth:`is_valid` first.
        """
        cleaned = self.form.cleaned_data
        result: dict[str, Any] = {}
        if cleaned.get("event_type"):
            result["event_type"] = list(cleaned["event_type"])
        for name in ("aggregate_type", "aggregate_id", "correlation_id", "causation_id"):
            if cleaned.get(name):
                result[name] = cleaned[name]
        metadata = {key: cleaned[key] for key in ("organization_id", "user_id") if cleaned.get(key)}
        if metadata:
            result["metadata"] = metadata
        start, end = cleaned.get("from"), cleaned.get("to")
        if start is not None:
            result["timestamp__gte"] = start.value
        if end is not None:
            result["timestamp__lt" if end.exclusive else "timestamp__lte"] = end.value
        if cleaned.get("search"):
            result["text"] = cleaned["search"]
        return result


# ``from`` is a Python keyword: declare the bounds after the class body.
EventFilterSet.base_filters["from"] = TimeBoundFilter(
    field_name="timestamp",
    label="From",
    help_text="Earliest timestamp (inclusive): ISO 8601 date-time with offset, or a date.",
)
EventFilterSet.base_filters["to"] = TimeBoundFilter(
    field_name="timestamp",
    label="To",
    upper=True,
    help_text="Latest timestamp (inclusive): ISO 8601 date-time with offset, or a date "
    "(the whole day).",
)
