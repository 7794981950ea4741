"""Refuse query parameters and body fields an endpoint does not know, instead of ignoring them.

A misspelt filter (``?organisation_id=acme``) silently ignored would return
everyone's data as if filtered; here it is a 400 naming the parameter. The
same holds for request bodies (:class:`KnownBodyFieldsMixin`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from .schema import publish_char_field_rules

__all__ = ["KnownBodyFieldsMixin", "KnownQueryParametersMixin"]

#: Parameters DRF itself reads on any endpoint (renderer choice).
ALWAYS_ALLOWED = frozenset({"format"})


class KnownQueryParametersMixin:
    """For DRF views: a request with a query parameter the view does not read is a 400.

    Every method is checked: ``GET``/``HEAD``/``OPTIONS`` against
    :attr:`query_parameters`, the others (``POST``, ...) against
    :attr:`command_query_parameters` (none by default), so ``POST ...?foo=1``
    is refused (a field messages body naming ``foo``) before anything is done,
    like an unknown body field (:class:`KnownBodyFieldsMixin`).
    """

    #: The query parameters this view reads on GET, HEAD and OPTIONS.
    query_parameters: frozenset[str] = frozenset()
    #: The query parameters it reads on the other methods (POST, ...).
    command_query_parameters: frozenset[str] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        reading = request.method in ("GET", "HEAD", "OPTIONS")
        known = self.query_parameters if reading else self.command_query_parameters
        unknown = set(request.query_params) - known - ALWAYS_ALLOWED
        if unknown:
            listed = ", ".join(sorted(known)) or "none"
            message = f"Unknown parameter; this endpoint reads: {listed}."
            raise ValidationError({name: [message] for name in sorted(unknown)})


class KnownBodyFieldsMixin:
    """For DRF serializers: a body with a field the serializer does not read is a 400.

    The error names each unknown field, as :class:`KnownQueryParametersMixin` does
    for query parameters: a misspelt optional field (``"refundid"``) or padding is
    refused instead of being silently dropped. The published schema of such a
    request body says ``additionalProperties: false`` (see the extension below).
    Form bodies may also carry Django's ``csrfmiddlewaretoken`` (browsable API).
    """

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            allowed = known | (FORM_ALWAYS_ALLOWED if isinstance(data, QueryDict) else set())
            unknown = {str(name) for name in data} - allowed
            if unknown:
                listed = ", ".join(sorted(known)) or "none"
                message = f"Unknown field; this endpoint reads: {listed}."
                raise ValidationError({name: [message] for name in sorted(unknown)})
        return super().to_internal_value(data)  # type: ignore[misc]


#: Fields a form body may carry on any endpoint (the CSRF token of the browsable API).
FORM_ALWAYS_ALLOWED = frozenset({"csrfmiddlewaretoken"})


class KnownBodyFieldsSchema(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """Publish ``additionalProperties: false`` for request bodies of strict serializers.

    Their fields' text rules too (:func:`~eventstore.api.schema.publish_char_field_rules`).
    """

    target_class = KnownBodyFieldsMixin
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
            publish_char_field_rules(self.target, schema)
        return schema
