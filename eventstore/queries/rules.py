"""Rules a request can break while every parameter fits the published schema.

The API answers 400 when a request does not fit its OpenAPI schema (a value
of the wrong shape, out of its bounds, outside its enum or pattern), and 422
when every value fits but they break a rule the schema cannot express: a rule
across parameters (``from`` after ``to``; ``version`` and ``at`` together) or
one that depends on stored data. Both keep DRF's body of field messages.

A form, filter set or serializer marks such an error with :data:`RULE_CODE`
(:func:`rule_error`); :func:`only_rules` tells whether every error of a request
is of that kind (then the answer is 422, see
:func:`eventstore.api.errors.invalid_request`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

__all__ = ["RULE_CODE", "only_rules", "rule_error"]

#: The ``code`` of an error breaking a rule the schema cannot express.
RULE_CODE = "rule"


def rule_error(message: str) -> forms.ValidationError:
    """Return a form error ``message`` marked as a rule beyond the schema (:data:`RULE_CODE`)."""
    return forms.ValidationError(message, code=RULE_CODE)


def only_rules(errors: Mapping[str, Any]) -> bool:
    """Return whether ``errors`` is not empty and each of its errors has :data:`RULE_CODE`.

    ``errors`` maps names to lists of errors that carry a ``code``: Django's
    ``form.errors.as_data()`` (``ValidationError``) or a DRF serializer's
    ``errors`` (``ErrorDetail``). Anything else (nested errors) counts as not a rule.
    """
    if not errors:
        return False
    for found in errors.values():
        if not isinstance(found, list) or not found:
            return False
        if any(getattr(error, "code", None) != RULE_CODE for error in found):
            return False
    return True
