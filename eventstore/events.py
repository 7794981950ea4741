"""Domain events, the registry of event types, and upcasters.

A domain event is a frozen dataclass that subclasses :class:`DomainEvent`::

    @dataclass(frozen=True)
    class PaymentProcessed(DomainEvent, event_type="PaymentProcessed", schema_version=1):
        amount: Decimal
        currency: str

Defining the class registers it under its ``event_type`` (the class name when
not given) in the default :data:`registry`. Stored events name their type by
that registered name only: reading them looks the name up in the registry, so
nothing is ever imported or instantiated from a class path found in data.

Schema evolution: when a class's payload shape changes, bump its
``schema_version`` and register an upcaster from each older version to the
next; reads turn older payloads into the current shape one step at a time.
Renaming a type: give the class its former names with ``aliases=("Old",)``;
events stored under them keep reading with the class, and searches for the
new name find them too.
"""

from __future__ import annotations

import dataclasses
import threading
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from . import codec
from .exceptions import InvalidEventError, UnknownEventTypeError
from .money import MoneyRole
from .privacy.declarations import PersonalData, check_personal_fields

__all__ = ["DomainEvent", "EventRegistry", "Upcaster", "event", "registry"]

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventRegistry:
    """Map registered event type names to event classes, and hold upcasters.

    Thread-safe. The default instance is :data:`registry`; tests can build
    their own.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type[DomainEvent]] = {}
        self._aliases: dict[str, str] = {}  # former name -> registered name
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._lock = threading.Lock()
        #: Rises on every change of the registered classes or names, so callers can
        #: cache what they derive from them (see Projection.handles()).
        self.version = 0

    def register(self, event_class: type[DomainEvent]) -> type[DomainEvent]:
        """Register ``event_class`` under its ``event_type``; return it (usable as a decorator).

        Re-registering the same class (same module and qualified name, as when a
        module is reloaded) replaces it.

        The class's former names (``aliases``) are registered too: stored events
        that carry one are read with this class (its upcasters included), and
        searches for its name find them.

        Raises:
            InvalidEventError: if another class is registered under that name or
                one of the aliases, or claims one of them as an alias.
        """
        name = event_class.event_type
        with self._lock:
            for claimed in (name, *event_class.aliases):
                owner = self._classes.get(claimed) or self._classes.get(
                    self._aliases.get(claimed, "")
                )
                if owner is not None and _class_path(owner) != _class_path(event_class):
                    raise InvalidEventError(
                        f"Event type {claimed!r} is already registered by {_class_path(owner)}."
                    )
            self._classes[name] = event_class
            for alias in event_class.aliases:
                self._aliases[alias] = name
            self.version += 1
        return event_class

    def unregister(self, event_type: str) -> None:
        """Remove ``event_type`` and its upcasters (for tests); unknown names are ignored."""
        with self._lock:
            self._classes.pop(event_type, None)
            for alias in [alias for alias, name in self._aliases.items() if name == event_type]:
                del self._aliases[alias]
            for key in [key for key in self._upcasters if key[0] == event_type]:
                del self._upcasters[key]
            self.version += 1

    def get(self, event_type: str) -> type[DomainEvent]:
        """Return the class registered as ``event_type`` or with it as a former name (alias).

        Raises:
            UnknownEventTypeError: if no class is registered under that name.
        """
        try:
            return self._classes[event_type]
        except KeyError:
            pass
        try:
            return self._classes[self._aliases[event_type]]
        except KeyError:
            raise UnknownEventTypeError(event_type) from None

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._classes or event_type in self._aliases

    def names(self) -> list[str]:
        """Return the registered event type names (not their aliases), sorted."""
        return sorted(self._classes)

    def searchable_names(self) -> list[str]:
        """Return the registered names and their aliases, sorted: what a type filter accepts.

        A former name selects the same events as the class's name (searches
        expand either to both).
        """
        with self._lock:
            return sorted({*self._classes, *self._aliases})

    def stored_names(self, event_type: str) -> list[str]:
        """Return the names events of ``event_type`` may be stored under: it and its aliases.

        ``event_type`` may itself be an alias; an unknown name gives ``[event_type]``.
        """
        name = self._aliases.get(event_type, event_type)
        if name not in self._classes:
            return [event_type]
        return [name, *self._classes[name].aliases]

    def money_roles(self) -> dict[str, MoneyRole]:
        """Return the money role of each registered type declaring one, by every name it is
        stored under (its registered name and its aliases), sorted by name.

        See :class:`~eventstore.money.MoneyRole`; an empty dict when no class declares money.
        """
        with self._lock:
            classes = list(self._classes.values())
        roles = {
            name: cls.money_role
            for cls in classes
            if cls.money_role is not None
            for name in (cls.event_type, *cls.aliases)
        }
        return dict(sorted(roles.items()))

    def money_role(self, event_type: str) -> MoneyRole | None:
        """Return the money role of the class stored as ``event_type`` (a name or an alias).

        None when no registered class has that name or the class declares no money.
        """
        with self._lock:
            name = self._aliases.get(event_type, event_type)
            cls = self._classes.get(name)
        return None if cls is None else cls.money_role

    def register_upcaster(self, event_type: str, from_version: int, upcaster: Upcaster) -> None:
        """Register ``upcaster``, turning a ``from_version`` payload into ``from_version + 1``.

        The upcaster receives a fresh dict it may modify and returns the new payload.
        """
        with self._lock:
            self._upcasters[(event_type, from_version)] = upcaster

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator form of :meth:`register_upcaster`."""

        def decorator(func: Upcaster) -> Upcaster:
            self.register_upcaster(event_type, from_version, func)
            return func

        return decorator

    def upcast(self, event_type: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
        """Return ``data`` (stored at ``schema_version``) in the class's current shape.

        Raises:
            UnknownEventTypeError: if ``event_type`` is not registered.
            InvalidEventError: if an upcaster for a step between the stored and the
                current version is missing, or the stored version is newer.
        """
        event_class = self.get(event_type)
        current, event_type = event_class.schema_version, event_class.event_type
        if schema_version > current:
            raise InvalidEventError(
                f"{event_type} stored at schema version {schema_version}, "
                f"newer than the registered class's {current}."
            )
        for version in range(schema_version, current):
            try:
                step = self._upcasters[(event_type, version)]
            except KeyError:
                raise InvalidEventError(
                    f"No upcaster registered for {event_type} from schema version {version}."
                ) from None
            data = step(data)
        return data

    def decode(self, event_type: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
        """Build the registered event instance for a stored payload, upcasting it first.

        Raises:
            UnknownEventTypeError: if ``event_type`` is not registered.
            InvalidEventError: if the payload does not fit the class.
        """
        event_class = self.get(event_type)
        return event_class.from_data(self.upcast(event_type, schema_version, data))


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


registry = EventRegistry()
"""The default registry, filled by defining :class:`DomainEvent` subclasses."""


class DomainEvent:
    """Base class of domain events: immutable facts with a JSON payload.

    Subclasses are frozen dataclasses. Class keywords:

    - ``event_type`` (str): the registered name; defaults to the class name.
    - ``schema_version`` (int ≥ 1): the payload's current shape; defaults to 1.
    - ``register`` (bool): register in the default registry; defaults to True.
    - ``aliases`` (iterable of str): former names of the type, for a renamed
      class: events stored under them keep reading with this class.
    - ``money`` (:class:`~eventstore.money.MoneyRole`): the money the event
      records (processed, refunded or failed, and which data fields hold the
      amount, currency and reason), read by the money analytics; None (the
      default) for an event that records no money.
    - ``personal`` (:class:`~eventstore.privacy.PersonalData`): the data fields
      that are a data subject's personal data (stored encrypted, erasable),
      each annotated ``str`` or ``str | None`` (TypeError otherwise); None (the
      default) when the data holds none. See :mod:`eventstore.privacy`.
    """

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    aliases: ClassVar[tuple[str, ...]] = ()
    #: The ``money`` class keyword (a field of the same name stays free for payloads).
    money_role: ClassVar[MoneyRole | None] = None
    #: The ``personal`` class keyword: which data fields are personal, and whose.
    personal_data: ClassVar[PersonalData | None] = None
    _register_on_dataclass: ClassVar[bool] = True

    def __init_subclass__(
        cls,
        *,
        event_type: str | None = None,
        schema_version: int = 1,
        register: bool = True,
        aliases: tuple[str, ...] | list[str] = (),
        money: MoneyRole | None = None,
        personal: PersonalData | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.event_type = event_type or cls.__name__
        cls.aliases = tuple(aliases)
        if schema_version < 1:
            raise ValueError("schema_version must be 1 or more.")
        cls.schema_version = schema_version
        if money is not None and not isinstance(money, MoneyRole):
            raise TypeError(f"money must be an eventstore.money.MoneyRole, got {money!r}.")
        cls.money_role = money
        if personal is not None:
            if not isinstance(personal, PersonalData):
                raise TypeError(
                    f"personal must be an eventstore.privacy.PersonalData, got {personal!r}."
                )
            check_personal_fields(cls, personal)
        cls.personal_data = personal
        cls._register_on_dataclass = register

    def to_data(self) -> dict[str, Any]:
        """Return the payload as a JSON-native dict (money as decimal strings).

        Raises:
            TypeError: if a field holds a value JSON cannot represent exactly.
        """
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} must be a dataclass.")
        return {
            field.name: codec.to_json_value(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DomainEvent:
        """Build an instance from a JSON-native payload in the current schema.

        Unknown keys are ignored; values are converted with the field annotations.

        Raises:
            InvalidEventError: if a required field is missing or a value is malformed.
        """
        hints = _type_hints(cls)
        kwargs = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            if field.name in data:
                try:
                    kwargs[field.name] = codec.from_json_value(data[field.name], hints[field.name])
                except (ValueError, TypeError) as exc:
                    raise InvalidEventError(f"{cls.event_type}.{field.name}: {exc}") from exc
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise InvalidEventError(f"{cls.event_type}: {exc}") from exc


_hints_cache: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    hints = _hints_cache.get(cls)
    if hints is None:
        hints = _hints_cache[cls] = typing.get_type_hints(cls)
    return hints


_Event = TypeVar("_Event", bound=DomainEvent)


@typing.dataclass_transform(frozen_default=True, kw_only_default=True)
def event(cls: type[_Event]) -> type[_Event]:
    """Make ``cls`` a frozen dataclass and register it (unless ``register=False``).

    Usage::

        @event
        class PaymentRefunded(DomainEvent):
            amount: Decimal
    """
    cls = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
    if getattr(cls, "_register_on_dataclass", True):
        registry.register(cls)
    return cls
