"""What is personal data: the ``personal`` class keyword, data subjects, personal metadata.

An event class declares which of its data fields are personal, and whose they
are, with the ``personal`` class keyword of :class:`~eventstore.events.DomainEvent`::

    @event
    class PaymentFailed(DomainEvent, personal=PersonalData(fields=("reason",))):
        reason: str                      # the acting user's (metadata user_id)

    @event
    class InvoiceSent(
        DomainEvent,
        personal=PersonalData(fields=("email",), subject=DataField("customer_id", "customer")),
    ):
        customer_id: str
        email: str | None = None         # customer:<data.customer_id>'s

A data subject is written ``<kind>:<id>``:

- ``user:<metadata.user_id>`` (:class:`ActingUser`, the default): the person who
  did what the event records, as the metadata names them. The metadata keys in
  the ``EVENTSTORE_PERSONAL_METADATA`` setting (default ``("user_id",
  "username")``) are that user's personal data in every event.
- ``<kind>:<data.<field>>`` (:class:`DataField`): a party the event is about,
  named by a data field holding its id (a customer, a member). The id field
  itself stays in plain (it says whose data it is, and is not erased).

An event without a subject (no ``user_id`` in the metadata: a system process;
an empty id field) keeps the fields in plain: there is nobody to erase them for.

Personal fields must be annotated ``str`` or ``str | None``, checked when the
class is defined: once erased, a field reads as the string :data:`ERASED`, which
must still decode into the class so that its aggregates still replay.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from typing import Any

from django.core.signals import setting_changed

from ..exceptions import InvalidSubjectError

__all__ = [
    "DEFAULT_PERSONAL_METADATA",
    "ERASED",
    "ActingUser",
    "DataField",
    "PersonalData",
    "check_personal_fields",
    "parse_subject",
    "personal_metadata_keys",
    "user_subject",
]

#: What a personal field reads as once its subject is erased (or its value cannot be
#: decrypted: a ciphertext moved to another event or field).
ERASED = "[erased]"

#: The default of the ``EVENTSTORE_PERSONAL_METADATA`` setting.
DEFAULT_PERSONAL_METADATA = ("user_id", "username")

#: ``<kind>:<id>``: a kind of lower-case letters, digits and underscores, an id of
#: 1 to 200 characters without control characters.
_SUBJECT = re.compile(r"([a-z][a-z0-9_]{0,31}):([^\x00-\x1f\x7f]{1,200})")


@dataclasses.dataclass(frozen=True)
class ActingUser:
    """The subject is the acting user, ``user:<metadata.user_id>`` (the default)."""

    kind: typing.ClassVar[str] = "user"

    def subject(
        self, data: typing.Mapping[str, Any], metadata: typing.Mapping[str, Any]
    ) -> str | None:
        """Return ``user:<user_id>``, or None without a usable ``user_id`` in ``metadata``."""
        return user_subject(metadata.get("user_id"))


@dataclasses.dataclass(frozen=True)
class DataField:
    """The subject is ``<kind>:<data[field]>``: the party a data field names by its id.

    Raises:
        ValueError: for an empty field name or a kind that is not lower-case
            letters, digits and underscores starting with a letter.
    """

    field: str
    kind: str

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field:
            raise ValueError("DataField needs the name of the data field holding the id.")
        if not isinstance(self.kind, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", self.kind):
            raise ValueError(f"DataField kind {self.kind!r}: use lower-case letters and digits.")

    def subject(
        self, data: typing.Mapping[str, Any], metadata: typing.Mapping[str, Any]
    ) -> str | None:
        """Return ``<kind>:<id>``, or None when the data field is missing or empty."""
        return _subject(self.kind, data.get(self.field))


@dataclasses.dataclass(frozen=True)
class PersonalData:
    """The personal data fields of an event class and whose they are.

    Attributes:
        fields: names of top-level data fields, each annotated ``str`` or ``str | None``.
        subject: :class:`ActingUser` (default) or a :class:`DataField`.

    Raises:
        ValueError: for no fields, or a field named twice.
    """

    fields: tuple[str, ...]
    subject: ActingUser | DataField = ActingUser()

    def __post_init__(self) -> None:
        fields = tuple(self.fields)
        if not fields or not all(isinstance(name, str) and name for name in fields):
            raise ValueError("PersonalData needs the names of one or more data fields.")
        if len(set(fields)) != len(fields):
            raise ValueError("PersonalData names a field twice.")
        if not isinstance(self.subject, (ActingUser, DataField)):
            raise ValueError("PersonalData subject must be an ActingUser() or a DataField.")
        object.__setattr__(self, "fields", fields)


_STRING_ANNOTATIONS = {"str", "str | None", "None | str", "Optional[str]", "typing.Optional[str]"}


def check_personal_fields(cls: type, personal: PersonalData) -> None:
    """Raise TypeError unless each personal field of ``cls`` is annotated ``str`` or ``str | None``.

    Reads the annotations of ``cls`` and its bases (strings under ``from
    __future__ import annotations`` are compared as written).
    """
    annotations: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        annotations.update(getattr(base, "__annotations__", {}))
    for name in personal.fields:
        if name not in annotations:
            raise TypeError(f"{cls.__name__}: personal field {name!r} is not a field of the class.")
        annotation = annotations[name]
        if isinstance(annotation, str):
            ok = " ".join(annotation.split()) in _STRING_ANNOTATIONS
        else:
            ok = annotation is str or (
                typing.get_origin(annotation) in (typing.Union, _UnionType)
                and set(typing.get_args(annotation)) == {str, type(None)}
            )
        if not ok:
            raise TypeError(
                f"{cls.__name__}.{name} is personal, so it must be annotated str or "
                f"str | None (its erased value is the string {ERASED!r}), not {annotation!r}."
            )
    if isinstance(personal.subject, DataField) and personal.subject.field in personal.fields:
        raise TypeError(
            f"{cls.__name__}: the subject's id field {personal.subject.field!r} cannot be personal."
        )


_UnionType: Any = type(str | None)


def user_subject(user_id: Any) -> str | None:
    """Return ``user:<user_id>`` for a metadata ``user_id`` (a string or an int), else None."""
    return _subject("user", user_id)


def _subject(kind: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    if not text or len(text) > 200 or not text.isprintable():
        return None
    return f"{kind}:{text}"


def parse_subject(text: Any) -> tuple[str, str]:
    """Return ``(kind, id)`` of a subject written ``<kind>:<id>`` (``"user:42"``).

    Raises:
        InvalidSubjectError: for anything else, saying the expected form.
    """
    match = _SUBJECT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidSubjectError(
            f"{text!r} is not a data subject: write <kind>:<id>, for example user:42 "
            "(kind in lower-case letters, id of 1 to 200 characters)."
        )
    return match.group(1), match.group(2)


_metadata_keys: tuple[str, ...] | None = None


def personal_metadata_keys() -> tuple[str, ...]:
    """Return the ``EVENTSTORE_PERSONAL_METADATA`` setting (:data:`DEFAULT_PERSONAL_METADATA`).

    The metadata keys that are the acting user's (``user:<user_id>``) personal
    data in every event. Read once and kept until the setting changes. Without
    configured Django settings, the default.

    Raises:
        django.core.exceptions.ImproperlyConfigured: if the setting is not a list
            or tuple of non-empty strings.
    """
    global _metadata_keys
    keys = _metadata_keys
    if keys is None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        value = (
            getattr(settings, "EVENTSTORE_PERSONAL_METADATA", DEFAULT_PERSONAL_METADATA)
            if settings.configured
            else DEFAULT_PERSONAL_METADATA
        )
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(key, str) and key and not key.startswith("$") for key in value
        ):
            raise ImproperlyConfigured(
                "EVENTSTORE_PERSONAL_METADATA must be a list of metadata keys (strings), "
                f"got {value!r}."
            )
        keys = _metadata_keys = tuple(value)
    return keys


def _reset(*, setting: str, **kwargs: Any) -> None:
    global _metadata_keys
    if setting == "EVENTSTORE_PERSONAL_METADATA":
        _metadata_keys = None


# Forget the cached setting whenever it changes (override_settings, the settings fixture).
setting_changed.connect(_reset, dispatch_uid="eventstore.privacy.metadata_keys")
