"""OpenAPI descriptions of the event store API (drf-spectacular).

The views answer with plain dicts; these serializers describe those shapes
for the published schema (and the fuzz tests check answers against them).
:func:`filterset_parameters` lists every filter of a django-filter
``FilterSet`` as a query parameter, since drf-spectacular drops filters it
cannot tie to a model.

Parameters publish what the server enforces, derived from the declarations it
validates with (:func:`form_field_schema`: a form field's lengths, patterns,
bounds and choices; the pagination classes' page sizes), so that a request a
client builds from the schema is never refused with 400 (the positive-data
check of ``tests/test_positive_data.py``). What a schema cannot say (a rule
across parameters, stored data) is a 422 (:mod:`eventstore.queries.rules`).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core import validators
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from ..context import CORRELATION_ID_PATTERN
from ..queries.forms import time_zone_names
from ..queries.params import MAX_INT64
from .pagination import PositionPagination

__all__ = [
    "ERRORS",
    "NON_BLANK_PATTERN",
    "NO_NUL_PATTERN",
    "EVENT_CSV_DESCRIPTION",
    "EVENT_CSV_RESPONSE",
    "EVENT_PAGE_RESPONSE",
    "CorrelationReplaySchema",
    "CorrelationTimelineSchema",
    "CountsSchema",
    "ErrorSchema",
    "EventDetailSchema",
    "EventPageSchema",
    "EventSchema",
    "anchored",
    "correlation_id_parameter",
    "filterset_parameters",
    "form_field_schema",
    "format_parameter",
    "json_errors",
    "page_parameters",
    "publish_char_field_rules",
    "whole_number_schema",
]


class EventSchema(serializers.Serializer[dict[str, Any]]):
    """A recorded event: ids as strings, timestamp ISO 8601 with offset."""

    event_id = serializers.UUIDField()
    aggregate_id = serializers.CharField()
    aggregate_type = serializers.CharField()
    event_type = serializers.CharField()
    version = serializers.IntegerField(min_value=1)
    position = serializers.IntegerField(min_value=1)
    timestamp = serializers.DateTimeField()
    correlation_id = serializers.CharField(allow_null=True)
    causation_id = serializers.CharField(allow_null=True)
    schema_version = serializers.IntegerField(min_value=1)
    metadata = serializers.DictField()
    data = serializers.DictField()  # type: ignore[assignment]  # the API's field, not .data


class EventDetailSchema(EventSchema):
    """One event in full: the fields of :class:`EventSchema` and its chain hash."""

    hash = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        help_text="The event's link in the store's hash chain (SHA-256, 64 lowercase hex "
        "digits): see eventstore_verify and the README's Tamper evidence.",
    )


class TimelineEventSchema(EventSchema):
    depth = serializers.IntegerField(
        min_value=0, help_text="0, or one more than the event that caused this one."
    )


class EventPageSchema(serializers.Serializer[dict[str, Any]]):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null.")
    results = EventSchema(many=True)


class EventListSchema(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField(min_value=0)
    events = EventSchema(many=True)


class CorrelationTimelineSchema(serializers.Serializer[dict[str, Any]]):
    correlation_id = serializers.CharField()
    count = serializers.IntegerField(min_value=0)
    events = TimelineEventSchema(many=True)


class CorrelationReplaySchema(serializers.Serializer[dict[str, Any]]):
    correlation_id = serializers.CharField()
    count = serializers.IntegerField(min_value=0)
    events = EventSchema(many=True)


class CountsSchema(serializers.Serializer[dict[str, Any]]):
    total = serializers.IntegerField(min_value=0, required=False)
    by_event_type = serializers.DictField(child=serializers.IntegerField(), required=False)
    aggregate_id = serializers.CharField(required=False)
    count = serializers.IntegerField(min_value=0, required=False)


class ErrorSchema(serializers.Serializer[dict[str, Any]]):
    """DRF's error shape: ``detail`` (and ``code``), or field names mapping to messages."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


ERRORS = {
    400: ErrorSchema,
    401: ErrorSchema,
    403: ErrorSchema,
    404: ErrorSchema,
}
"""Error answers every endpoint may give, in DRF's shape."""

#: A string without NUL (Django's and DRF's CharFields refuse "Null characters").
NO_NUL_PATTERN = "^[^\\x00]*$"
#: The same with a character other than white space (what a trimmed, non-blank field needs).
NON_BLANK_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


def publish_char_field_rules(serializer: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Add to a request body ``schema`` what the DRF ``CharField`` fields of ``serializer`` enforce.

    drf-spectacular publishes lengths and a ``RegexField``'s pattern; a
    ``CharField`` also refuses NUL, and a trimmed one (``trim_whitespace``) that
    may not be blank refuses white space only (``" "`` is blank once trimmed).
    Fields with an ``enum`` or a pattern of their own keep it (anchored).
    """
    properties = schema.get("properties", {})
    for name, field in serializer.fields.items():
        published = properties.get(name)
        if published is None or field.read_only or not isinstance(field, serializers.CharField):
            continue
        if "enum" in published:
            continue
        if "pattern" in published:
            published["pattern"] = anchored(published["pattern"])
        elif field.trim_whitespace and not field.allow_blank:
            published["pattern"] = NON_BLANK_PATTERN
        else:
            published["pattern"] = NO_NUL_PATTERN
    return schema


def anchored(pattern: str) -> str:
    """Return ``pattern`` matching whole strings (JSON Schema patterns match anywhere)."""
    if pattern.startswith("^") and pattern.endswith("$"):
        return pattern
    return f"^(?:{pattern})$"


def _choice_values(field: forms.ChoiceField) -> list[str]:
    values: list[str] = []
    choices: Any = field.choices
    for value, label in choices:
        if isinstance(label, list | tuple):  # a group of choices
            values.extend(str(v) for v, _label in label)
        elif value != "":
            values.append(str(value))
    return values


def form_field_schema(field: forms.Field) -> dict[str, Any]:
    """Return the JSON Schema of the values the Django form ``field`` accepts.

    A field with a ``json_schema`` attribute declares its own (e.g.
    :class:`~eventstore.queries.fields.IsoDateTimeBoundField`). Otherwise:
    choices give an ``enum`` (an array of them for a multiple choice field, at
    least one item when required); a ``CharField`` gives ``maxLength`` /
    ``minLength`` and the ``pattern`` of its ``RegexValidator`` (anchored), or
    "no NUL" (:data:`NO_NUL_PATTERN`) for a field that refuses null characters;
    a number field gives ``minimum`` / ``maximum`` from its value validators.
    Patterns beyond the first are published under ``allOf``.
    """
    declared = getattr(field, "json_schema", None)
    if declared is not None:
        return dict(declared)
    if isinstance(field, forms.MultipleChoiceField):
        items = {"type": "string", "enum": _choice_values(field)}
        return {"type": "array", "items": items, **({"minItems": 1} if field.required else {})}
    if isinstance(field, forms.ChoiceField):
        return {"type": "string", "enum": _choice_values(field)}
    if isinstance(field, forms.DecimalField | forms.FloatField | forms.IntegerField):
        # Django's DecimalField is an IntegerField subclass: test it first.
        whole = isinstance(field, forms.IntegerField) and not isinstance(field, forms.DecimalField)
        schema: dict[str, Any] = {"type": "integer" if whole else "number"}
        for validator in field.validators:
            if isinstance(validator, validators.MaxValueValidator):
                schema["maximum"] = validator.limit_value
            elif isinstance(validator, validators.MinValueValidator):
                schema["minimum"] = validator.limit_value
        return schema
    schema = {"type": "string"}
    patterns = []
    for validator in field.validators:
        if isinstance(validator, validators.RegexValidator) and not validator.inverse_match:
            regex: Any = validator.regex
            patterns.append(anchored(regex if isinstance(regex, str) else regex.pattern))
        elif isinstance(validator, validators.ProhibitNullCharactersValidator):
            patterns.append(NO_NUL_PATTERN)
        elif isinstance(validator, validators.MaxLengthValidator):
            schema["maxLength"] = validator.limit_value
        elif isinstance(validator, validators.MinLengthValidator):
            schema["minLength"] = validator.limit_value
    if patterns:
        schema["pattern"] = patterns[0]
    if len(patterns) > 1:
        schema["allOf"] = [{"pattern": pattern} for pattern in patterns[1:]]
    return schema


def whole_number_schema(minimum: int = 1, maximum: int = MAX_INT64) -> dict[str, Any]:
    """The schema of a whole number read by :func:`~eventstore.queries.params.parse_int`."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


#: How ``GET /api/events/`` answers in CSV (see :mod:`eventstore.api.renderers`).
EVENT_CSV_DESCRIPTION = (
    "A page of events. JSON by default (`next`, `results`). "
    "With `?format=csv` or `Accept: text/csv`: the same page of events as CSV "
    "(RFC 4180, UTF-8, CRLF line ends, no byte-order mark). A header row, then one row "
    "per event, oldest first: `position, event_id, timestamp, event_type, schema_version, "
    "aggregate_type, aggregate_id, version, correlation_id, causation_id, organization_id, "
    "user_id, amount, currency, data, metadata`, then, when filtered by `event_type`, a "
    "`data.<field>` column per field those event classes declare (`data.reason`). "
    "`timestamp` is ISO 8601 with offset; "
    "`organization_id` and `user_id` come from the metadata; `amount` and `currency` are "
    "the money the event's data carries (`amount` the exact decimal string recorded), "
    "empty otherwise; `data` and `metadata` are compact JSON. A text cell beginning with "
    "`=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` (OWASP "
    '"CSV Injection"). Paging follows the cursor like the JSON answer: the next page\'s '
    'URL is in the `Link` header (`<url>; rel="next"`), absent on the last page. Errors '
    "are JSON."
)
#: The JSON answer of ``GET /api/events/``, documented with both formats.
EVENT_PAGE_RESPONSE = OpenApiResponse(response=EventPageSchema, description=EVENT_CSV_DESCRIPTION)
#: The CSV answer of ``GET /api/events/``.
EVENT_CSV_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.STR,
    description=EVENT_CSV_DESCRIPTION,
    examples=[
        OpenApiExample(
            "Two events",
            media_type="text/csv",
            value=(
                "position,event_id,timestamp,event_type,schema_version,aggregate_type,"
                "aggregate_id,version,correlation_id,causation_id,organization_id,user_id,"
                "amount,currency,data,metadata\r\n"
                "1,0f8c1f3e-5d5a-4c47-9b1e-1d2f1c7e9a10,2024-03-01T10:00:00+00:00,"
                "PaymentProcessed,1,Payment,pay-1,1,checkout-1,,acme,1,5.00,EUR,"
                '"{""amount"":""5.00"",""currency"":""EUR"",""organization_id"":""acme""}",'
                '"{""organization_id"":""acme"",""user_id"":""1""}"\r\n'
            ),
        )
    ],
)


def json_errors() -> dict[tuple[int, str], Any]:
    """Return :data:`ERRORS` for a view that also renders CSV: errors are JSON only."""
    return {(code, "application/json"): schema for code, schema in ERRORS.items()}


def format_parameter() -> OpenApiParameter:
    """``format``: DRF's renderer choice in the query string (``json`` or ``csv``)."""
    return OpenApiParameter(
        "format",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Answer as `json` (default) or `csv` (same as `Accept: text/csv`).",
        enum=["json", "csv"],
    )


def filterset_parameters(
    filterset_class: type[django_filters.FilterSet],
) -> list[OpenApiParameter]:
    """Return one query parameter per filter of ``filterset_class`` (with help texts).

    Each parameter's schema is :func:`form_field_schema` of the filter's form field,
    so it publishes what the filter validates.
    """
    parameters = []
    for name, filter_ in filterset_class.base_filters.items():
        schema = form_field_schema(filter_.field)
        parameters.append(
            OpenApiParameter(
                name,
                schema,
                OpenApiParameter.QUERY,
                required=filter_.field.required,
                description=str(filter_.extra.get("help_text") or filter_.label or name),
                explode=True if schema["type"] == "array" else None,
            )
        )
    return parameters


def page_parameters(pagination_class: Any = PositionPagination) -> list[OpenApiParameter]:
    """``cursor`` and ``page_size`` of a list paginated by ``pagination_class``.

    ``page_size`` is 1 to the class's ``max_page_size`` (its ``page_size`` by default),
    as :func:`~eventstore.api.pagination.page_size` enforces.
    """
    default, maximum = pagination_class.page_size, pagination_class.max_page_size
    return [
        OpenApiParameter(
            "cursor", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Opaque page cursor."
        ),
        OpenApiParameter(
            "page_size",
            whole_number_schema(1, maximum),
            OpenApiParameter.QUERY,
            description=f"Items per page, 1 to {maximum} (default {default}).",
        ),
    ]


def correlation_id_parameter(location: Any = OpenApiParameter.PATH) -> OpenApiParameter:
    """The ``correlation_id`` parameter: 1 to 128 of ``A-Z a-z 0-9 . _ : -``, first alphanumeric."""
    return OpenApiParameter(
        "correlation_id",
        {"type": "string", "pattern": anchored(CORRELATION_ID_PATTERN.pattern)},
        location,
        description="Correlation id shared by one request or process chain.",
    )


def range_parameters(fields: dict[str, forms.Field]) -> list[OpenApiParameter]:
    """Return the ``from``, ``to`` and ``tz`` query parameters of the analytics endpoints.

    ``fields``: the analytics form's fields (``start``, ``end``), whose schemas the
    parameters take (:func:`form_field_schema`); ``tz`` lists the IANA zone names.
    """
    return [
        OpenApiParameter(
            "from",
            form_field_schema(fields["start"]),
            OpenApiParameter.QUERY,
            required=True,
            description="Start (inclusive): ISO 8601 with offset, or a date.",
        ),
        OpenApiParameter(
            "to",
            form_field_schema(fields["end"]),
            OpenApiParameter.QUERY,
            required=True,
            description="End (inclusive): ISO 8601 with offset, or a date (the whole day). "
            "Not before from (else 422).",
        ),
        OpenApiParameter(
            "tz",
            {"type": "string", "enum": time_zone_names()},
            OpenApiParameter.QUERY,
            description="IANA time zone for the buckets; TIME_ZONE by default.",
        ),
    ]
