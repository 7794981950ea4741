"""pytest plugin (entry point ``pytest11``): fixtures for code that uses the event store.

Fixtures (opt-in, request them by name):

- ``event_store``: the default store, an empty process-memory store configured
  through settings for this test (code that calls ``eventstore.eventstore``
  sees the same store); the setting is restored afterwards.
- ``recorded_events``: the list of events appended during the test (like
  pytest-django's ``mailoutbox``).
- ``event_clock``: a :class:`~eventstore.testing.ManualClock` installed as the
  ``event_store``'s clock.
- ``run_projection``: :func:`eventstore.testing.projections.run_projection`,
  to catch a projection up (by name) and then assert on its view.

When Django is in use, every process-memory store is emptied after each test,
the way Django empties ``mail.outbox``. Django is imported lazily.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def event_store(settings: Any) -> Iterator[Any]:
    """An empty in-memory default store, selected through ``settings.EVENTSTORES``."""
    from eventstore.handler import eventstores
    from eventstore.testing import MEMORY_EVENTSTORES, reset_memory_stores

    settings.EVENTSTORES = MEMORY_EVENTSTORES
    reset_memory_stores()
    yield eventstores["default"]
    reset_memory_stores()


@pytest.fixture
def recorded_events() -> Iterator[list[Any]]:
    """The events appended (published on the bus) during the test, in order."""
    from eventstore.testing import EventRecorder

    recorder = EventRecorder().connect()
    yield recorder.events
    recorder.disconnect()


@pytest.fixture
def event_clock(event_store: Any) -> Iterator[Any]:
    """A manual clock (2024-01-01T00:00:00Z) driving ``event_store``'s timestamps."""
    from eventstore.testing import ManualClock

    clock = ManualClock()
    original = event_store.clock
    event_store.clock = clock
    yield clock
    event_store.clock = original


@pytest.fixture
def run_projection() -> Any:
    """Catch a declared projection up (``run_projection("payments.summary")``)."""
    from eventstore.testing.projections import run_projection

    return run_projection


@pytest.fixture(autouse=True)
def _eventstore_reset_memory_stores() -> Iterator[None]:
    yield
    if "eventstore.backends.memory" in sys.modules:
        from eventstore.testing import reset_memory_stores

        reset_memory_stores()
