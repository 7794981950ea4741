"""The EVENTSTORES setting, its accessor, and the system checks."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from eventstore import eventstore, eventstores
from eventstore.backends.memory import InMemoryEventStore
from eventstore.checks import check_eventstores
from eventstore.exceptions import InvalidBackendError

MEMORY = "eventstore.backends.memory.InMemoryEventStore"


def test_the_default_alias_is_the_memory_backend():
    assert isinstance(eventstores["default"], InMemoryEventStore)
    assert eventstore.alias == "default"


def test_override_settings_rebuilds_the_store(settings):
    before = eventstores["default"]
    settings.EVENTSTORES = {"default": {"BACKEND": MEMORY, "OPTIONS": {"MAX_EVENTS": 5}}}
    after = eventstores["default"]
    assert after is not before
    assert after.options["MAX_EVENTS"] == 5
    assert eventstore.options["MAX_EVENTS"] == 5


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"BACKEND": "eventstore.backends.nope.Store"}, "could not import"),
        ({"BACKEND": "eventstore.handler.EventStoreHandler"}, "not a BaseEventStore"),
        ({"BACKEND": MEMORY, "OPTIONS": {"COLOUR": "red"}}, "unknown option(s) COLOUR"),
        ({"BACKEND": MEMORY, "OPTIONS": {"MAX_EVENTS": -1}}, "MAX_EVENTS"),
        ({"BACKEND": MEMORY, "LOCATION": "x"}, "unknown key(s) LOCATION"),
        ({}, "needs a BACKEND"),
    ],
)
def test_bad_configuration_names_the_alias_and_problem(settings, config, message):
    settings.EVENTSTORES = {"audit": config}
    with pytest.raises(InvalidBackendError) as caught:
        eventstores["audit"]
    assert isinstance(caught.value, ImproperlyConfigured)
    assert "'audit'" in str(caught.value)
    assert message in str(caught.value)
    assert [m.id for m in check_eventstores()] == ["eventstore.E001"]


def test_unknown_alias_is_an_error():
    with pytest.raises(InvalidBackendError):
        eventstores["nope"]


def test_memory_backend_warns_outside_debug(settings):
    settings.DEBUG = False
    assert [m.id for m in check_eventstores()] == ["eventstore.W001"]
    settings.DEBUG = True
    assert check_eventstores() == []


def test_every_thread_sees_the_same_events(event_store):
    import threading

    from eventstore.testing.contract import happened

    thread = threading.Thread(
        target=lambda: eventstores["default"].append("t-1", "Thing", [happened()], 0)
    )
    thread.start()
    thread.join()
    assert [e.aggregate_id for e in event_store.read_all()] == ["t-1"]
    assert InMemoryEventStore("default").aggregate_version("t-1") == 1


def test_a_full_store_refuses_appends_and_keeps_serving_reads(settings):
    from eventstore.exceptions import EventStoreFull
    from eventstore.testing.contract import happened

    settings.EVENTSTORES = {"default": {"BACKEND": MEMORY, "OPTIONS": {"MAX_EVENTS": 3}}}
    store = eventstores["default"]
    store.clear()
    store.append("a", "Thing", [happened(), happened()], 0)
    with pytest.raises(EventStoreFull):
        store.append("b", "Thing", [happened(), happened()], 0)
    store.append("c", "Thing", [happened()], 0)
    assert [e.position for e in store.read_all()] == [1, 2, 3]
    assert store.stats()["events"] == 3
