"""pytest plugin (entry point ``pytest11``): fixtures for code that uses the event store.

Fixtures (opt-in, request them by name):

- ``event_store``: the default store, an empty process-memory store configured
  through settings for this test (code that calls ``eventstore.eventstore``
  sees the same store); the setting is restored afterwards. Only the aliases
  taken over change (``default``, or those of an
  ``@pytest.mark.eventstore_aliases("default", "audit")`` marker); the rest of
  ``EVENTSTORES`` is kept.
- ``recorded_events``: the list of events appended during the test (like
  pytest-django's ``mailoutbox``).
- ``event_clock``: a :class:`~eventstore.testing.ManualClock` installed as the
  ``event_store``'s clock.
- ``run_projection``: :func:`eventstore.testing.projections.run_projection`,
  to catch a projection up (by name) and then assert on its view.

``event_store`` and ``recorded_events`` are strict: a failing bus receiver fails
the test after its body (``@pytest.mark.eventstore_lenient``: only logged).

After each test, the aliases the testing support took over are put back to
their baseline (empty): only those. A store it did not take over keeps its
events, and a journal file is never truncated, rewritten or deleted. Django is
imported lazily. See :mod:`eventstore.testing` for the rules.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "eventstore_aliases(*aliases): the event store aliases the event_store fixture "
        "switches to memory (default: 'default'); other aliases keep their settings",
    )
    config.addinivalue_line(
        "markers",
        "eventstore_lenient: a failing event bus receiver is only logged, not a test failure "
        "(the eventstore fixtures are strict by default)",
    )


_FAILURES = pytest.StashKey[Any]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Strict mode: fail the test, after its body, if a bus receiver failed meanwhile."""
    try:
        return (yield)
    finally:
        failures = item.stash.get(_FAILURES, None)
        if failures is not None:
            failures.check()


@pytest.fixture
def _eventstore_strict(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Strict mode for the test, unless it is marked ``eventstore_lenient``."""
    if request.node.get_closest_marker("eventstore_lenient"):
        yield None
        return
    from eventstore.testing import ReceiverFailures

    failures = ReceiverFailures().connect()
    request.node.stash[_FAILURES] = failures
    try:
        yield failures
    finally:
        failures.disconnect()
        del request.node.stash[_FAILURES]
    failures.check()  # failures reported after the test's body, by a fixture's teardown


@pytest.fixture
def event_store(
    request: pytest.FixtureRequest, settings: Any, _eventstore_strict: Any
) -> Iterator[Any]:
    """An empty in-memory default store, selected through ``settings.EVENTSTORES``.

    Only the default alias is switched (or the aliases of an
    ``@pytest.mark.eventstore_aliases("default", "audit")`` marker; the fixture is
    then the first one's store); every other alias keeps its configuration. An
    alias taken over gets memory data of its own, and whatever it held before (a
    project's memory store, with or without a journal) is set aside untouched
    and given back after the test. Strict: a failing bus receiver fails the test
    (unless it is marked ``eventstore_lenient``).
    """
    from eventstore.handler import eventstores
    from eventstore.testing import _Takeover

    marker = request.node.get_closest_marker("eventstore_aliases")
    takeover = _Takeover(tuple(marker.args) if marker else ("default",)).start()
    try:
        settings.EVENTSTORES = takeover.eventstores_setting()
        yield eventstores[takeover.aliases[0]]
    finally:
        takeover.stop()


@pytest.fixture
def recorded_events(_eventstore_strict: Any) -> Iterator[list[Any]]:
    """The events appended (published on the bus) during the test, in order.

    Strict: a failing bus receiver fails the test (unless ``eventstore_lenient``).
    """
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
def _eventstore_forget_scopes() -> None:
    """Each test starts without cached scopes (a rolled-back test sends no signal)."""
    scope = sys.modules.get("eventstore.queries.scope")
    if scope is not None:
        scope.forget_scopes()


@pytest.fixture(autouse=True)
def _eventstore_forget_keys() -> None:
    """Each test starts without cached data subject keys (a flushed or rolled-back database
    tells the process nothing)."""
    keys = sys.modules.get("eventstore.privacy.keys")
    if keys is not None:
        keys.forget_cached_keys()


@pytest.fixture(autouse=True)
def _eventstore_reset_memory_stores() -> Iterator[None]:
    yield
    testing = sys.modules.get("eventstore.testing")
    if testing is not None:  # nothing was taken over if the testing support was never imported
        testing.reset_memory_stores()
