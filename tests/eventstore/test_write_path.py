"""The append path's shortcuts give the same results as the long way round.

The canonical JSON is byte for byte what it was (a corpus with its texts as
stored before the encoder was reused); the per-class replay check accepts and
refuses what decoding the stored payload accepts and refuses, with the same
messages; the caches of the bus, the inline runner and ``Projection.handles``
follow changes; the memory backend's all-events time index stays right when
events stop arriving in time order; equal metadata texts are stored once.
"""

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from django.test import override_settings

from eventstore import codec
from eventstore.backends import memory
from eventstore.backends.memory import InMemoryEventStore, forget
from eventstore.bus import events_appended
from eventstore.events import DomainEvent, EventRegistry
from eventstore.exceptions import InvalidEventError
from eventstore.mapping import check_replayable, prepare_event
from eventstore.projections import Projection
from eventstore.projections.registry import projections_for
from eventstore.records import NO_STREAM, NewEvent, RecordedEvent, make_record
from eventstore.testing.contract import happened

# (value, its canonical text as the store kept it before the encoder was built once)
CORPUS = [
    ({"amount": Decimal("100.00"), "currency": "EUR"}, '{"amount":"100.00","currency":"EUR"}'),
    (
        {"b": 1, "a": True, "c": None, "d": -7, "e": 1.5, "f": 1e16, "g": 1e-7, "h": -0.0},
        '{"a":true,"b":1,"c":null,"d":-7,"e":1.5,"f":1e+16,"g":1e-07,"h":-0.0}',
    ),
    (
        {
            "at": datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
            "on": date(2026, 2, 28),
            "local": datetime(2026, 3, 1, 13, 30, tzinfo=timezone(timedelta(hours=1))),
        },
        '{"at":"2026-03-01T12:30:15.123456+00:00","local":"2026-03-01T13:30:00+01:00",'
        '"on":"2026-02-28"}',
    ),
    (
        {"id": UUID("12345678-1234-5678-1234-567812345678")},
        '{"id":"12345678-1234-5678-1234-567812345678"}',
    ),
    (
        {
            "name": "Zoë Ørsted — 東京 🚀",
            "quote": 'say "hi"\n\ttab\\slash\u2028',
            "ctl": "\x01\x1f\x7f",
        },
        '{"ctl":"\\u0001\\u001f\x7f","name":"Zoë Ørsted — 東京 🚀",'
        '"quote":"say \\"hi\\"\\n\\ttab\\\\slash\u2028"}',
    ),
    (
        {"nested": {"z": [1, {"y": Decimal("-0.001"), "x": (2, 3)}], "a": {"é": "à", "e": []}}},
        '{"nested":{"a":{"e":[],"é":"à"},"z":[1,{"x":[2,3],"y":"-0.001"}]}}',
    ),
    (
        {"big": 12345678901234567890123, "small": Decimal("1E-10"), "exp": Decimal("1.5E+3")},
        '{"big":12345678901234567890123,"exp":"1.5E+3","small":"1E-10"}',
    ),
    ({"flat": "only strings", "n": 3, "ok": False, "none": None}, None),
]


@pytest.mark.parametrize(("value", "text"), CORPUS)
def test_canonical_json_is_byte_identical_to_the_stored_form(value, text):
    import json

    reference = json.dumps(
        codec.to_json_value(value),
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
        allow_nan=False,
    )
    assert codec.dumps(value) == reference
    if text is not None:
        assert codec.dumps(value) == text
    assert codec.dumps(codec.to_json_value(value), native=True) == reference


def test_a_flat_payload_is_encoded_without_a_copy_and_others_are_converted():
    flat = {"a": "x", "b": 1}
    assert codec.to_native(flat) is flat
    assert codec.to_native({"a": Decimal("1.10")}) == {"a": "1.10"}
    with pytest.raises(TypeError):
        codec.dumps({1: "integer keys are refused"})
    with pytest.raises(TypeError):
        codec.dumps({"a": {1, 2}})


# -- the replay check -----------------------------------------------------------------------


@pytest.fixture
def event_registry():
    return EventRegistry()


def define(event_registry, name, annotations, defaults=None, post_init=None, version=1):
    namespace = {"__annotations__": annotations, **(defaults or {})}
    if post_init is not None:
        namespace["__post_init__"] = post_init
    cls = type(name, (DomainEvent,), namespace, event_type=name, schema_version=version)
    cls = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
    event_registry.register(cls)
    return cls


def prepare(new_event, event_registry):
    return prepare_event(
        new_event,
        index=0,
        batch_metadata={},
        correlation_id=None,
        causation_id=None,
        event_registry=event_registry,
        max_event_bytes=1 << 20,
    )


def full_check_message(event_registry, name, data, version=1):
    """The message of the long way: decode the stored payload as reads do."""
    with pytest.raises(InvalidEventError) as caught:
        check_replayable(name, version, codec.dumps(data), event_registry, "events[0]")
    return str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        {"amount": 12, "currency": "EUR"},  # a number for a str field
        {"currency": "EUR"},  # a required field missing
        {"amount": "x", "currency": "EUR", "rate": "not a decimal"},
        {"amount": "1", "currency": "EUR", "at": "2026-01-01T00:00:00"},  # no offset
        {"amount": "1", "currency": "EUR", "count": True},  # a bool for an int
    ],
)
def test_payloads_that_do_not_decode_are_refused_with_the_decoder_s_message(event_registry, data):
    define(
        event_registry,
        "Paid",
        {"amount": str, "currency": str, "rate": Decimal | None, "at": datetime, "count": int},
        defaults={"rate": None, "at": None, "count": 0},
    )
    expected = full_check_message(event_registry, "Paid", data)
    with pytest.raises(InvalidEventError) as caught:
        prepare(NewEvent("Paid", data), event_registry)
    assert str(caught.value) == expected


def test_payloads_that_decode_are_accepted(event_registry):
    define(
        event_registry,
        "Paid",
        {"amount": Decimal, "currency": str, "at": datetime | None, "tags": list[str]},
        defaults={"at": None, "tags": dataclasses.field(default_factory=list)},
    )
    data = {
        "amount": Decimal("10.50"),
        "currency": "EUR",
        "at": datetime(2026, 1, 1, tzinfo=UTC),
        "tags": ["a"],
        "unknown keys": "are ignored, as reads ignore them",
    }
    pending = prepare(NewEvent("Paid", data), event_registry)
    assert codec.loads(pending.data_json)["amount"] == "10.50"


def test_a_class_with_code_of_its_own_gets_the_full_check(event_registry):
    def post_init(self):
        if not self.amount.startswith("+"):
            raise ValueError("amounts here start with +")

    define(event_registry, "Signed", {"amount": str}, post_init=post_init)
    prepare(NewEvent("Signed", {"amount": "+1"}), event_registry)
    with pytest.raises(InvalidEventError, match="amounts here start with"):
        prepare(NewEvent("Signed", {"amount": "1"}), event_registry)


def test_an_old_schema_version_goes_through_its_upcasters(event_registry):
    define(event_registry, "Moved", {"to": str}, version=2)
    event_registry.register_upcaster("Moved", 1, lambda data: {"to": data.pop("where")})
    prepare(NewEvent("Moved", {"where": "here"}, schema_version=1), event_registry)
    with pytest.raises(InvalidEventError, match="does not fit Moved"):
        prepare(NewEvent("Moved", {"where": 3}, schema_version=1), event_registry)


# -- records --------------------------------------------------------------------------------


def test_make_record_builds_the_same_frozen_record():
    fields = [
        uuid4(),
        "a-1",
        "Thing",
        "contract.Happened",
        1,
        300,
        datetime(2026, 1, 1, tzinfo=UTC),
        "c",
        None,
        1,
        "{}",
        "{}",
    ]
    made = make_record(*fields)
    assert made == RecordedEvent(*fields)
    assert type(made) is RecordedEvent
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.version = 2  # type: ignore[misc]


# -- caches that must follow changes ------------------------------------------------------


@pytest.fixture
def store():
    alias = f"write-path-{uuid4()}"
    yield InMemoryEventStore(alias)
    forget(alias)


def test_a_receiver_connected_later_gets_the_next_batch(store):
    store.append("a-1", "Thing", [happened("before")], NO_STREAM)
    received = []

    def receiver(sender, events, **kwargs):
        received.extend(event.data["note"] for event in events)

    events_appended.connect(receiver, weak=False, dispatch_uid="write-path-later")
    try:
        store.append("a-1", "Thing", [happened("after")], 1)
    finally:
        events_appended.disconnect(dispatch_uid="write-path-later")
    store.append("a-1", "Thing", [happened("gone")], 2)
    assert received == ["after"]


class Watching(Projection):
    name = "write-path.watching"
    event_types = ("WatchedNew",)

    def apply(self, events, store):
        return None

    def reset(self):
        return None


def test_handles_sees_a_former_name_registered_after_its_first_answer():
    from eventstore.events import registry

    projection = Watching()
    old = make_record(
        uuid4(), "a", "T", "WatchedOld", 1, 1, datetime.now(UTC), None, None, 1, "{}", "{}"
    )
    assert not projection.handles(old)
    cls = type("WatchedNew", (DomainEvent,), {}, event_type="WatchedNew", aliases=("WatchedOld",))
    registry.register(dataclasses.dataclass(frozen=True)(cls))
    try:
        assert projection.handles(old)
    finally:
        registry.unregister("WatchedNew")
    assert not projection.handles(old)


def test_projections_for_follows_the_setting():
    path = f"{__name__}.Watching"
    with override_settings(EVENTSTORE_PROJECTIONS=[path]):
        assert [p.name for p in projections_for("default")] == ["write-path.watching"]
        assert projections_for("elsewhere") == []
    with override_settings(EVENTSTORE_PROJECTIONS=[]):
        assert projections_for("default") == []


# -- the memory backend's indexes ---------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_time_searches_stay_right_before_and_after_events_leave_time_order(store):
    def check():
        everything = store.read_all()
        for low, high in [(0, 3), (2, 9), (-5, 1), (4, 4), (9, 20)]:
            start, end = T0 + timedelta(hours=low), T0 + timedelta(hours=high)
            found = store.search(timestamp__gte=start, timestamp__lte=end)
            expected = [e.position for e in everything if start <= e.timestamp <= end]
            assert [e.position for e in found] == expected
            assert store.count(timestamp__gte=start, timestamp__lte=end) == len(expected)

    for hours in (0, 1, 2, 3):
        store.append(
            f"in-{hours}", "Thing", [happened("x", timestamp=T0 + timedelta(hours=hours))], 0
        )
    assert store._data.events_in_time_order and store._data.by_time is None
    check()
    store.append("late", "Thing", [happened("x", timestamp=T0 - timedelta(hours=2))], 0)
    assert not store._data.events_in_time_order
    check()  # builds the all-events time index
    assert store._data.by_time is not None
    for hours in (5, -1, 8, 2):
        store.append(
            f"more-{hours}", "Thing", [happened("x", timestamp=T0 + timedelta(hours=hours))], 0
        )
    check()  # kept up to date by the appends since


def test_equal_metadata_texts_are_stored_once_and_the_table_is_bounded(store, monkeypatch):
    # (Not a user_id: personal metadata is sealed with a fresh nonce, never equal twice.)
    first = store.append("a-1", "Thing", [happened("1", metadata={"organization_id": "7"})], 0)[0]
    second = store.append("a-2", "Thing", [happened("2", metadata={"organization_id": "7"})], 0)
    assert first.metadata_json is second[0].metadata_json
    assert second[0].metadata == {"organization_id": "7"}
    monkeypatch.setattr(memory, "SHARED_METADATA_LIMIT", 3)
    for number in range(10):
        store.append(f"b-{number}", "Thing", [happened("x", metadata={"n": number})], 0)
    assert len(store._data.metadata_texts) <= 3
    assert [e.metadata for e in store.search(aggregate_id=["b-0", "b-9"])] == [{"n": 0}, {"n": 9}]
