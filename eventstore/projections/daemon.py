"""The daemon runner: follow the store from the checkpoints, in any process or machine.

Loop: catch up every selected projection (``lock="skip"`` by default: when
another runner holds a projection this one says so and moves on), then wait
for a wake-up: a PostgreSQL ``NOTIFY`` on :data:`~eventstore.projections.notify.CHANNEL`
(sent by each append on commit) or the poll interval, whichever comes first;
other databases poll. A projection that fails is retried with exponential
backoff (1 s, 2 s, 4 s … capped at ``max_backoff``); the others go on.
SIGTERM and SIGINT end the loop after the current batch commits.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

from .base import Projection
from .notify import CHANNEL
from .runner import CatchUpResult, catch_up, runner_name

__all__ = ["Daemon"]

logger = logging.getLogger("eventstore.projections")


class _Listener:
    """A dedicated PostgreSQL connection ``LISTEN``-ing to the append channel."""

    def __init__(self, database: str) -> None:
        self.wrapper = connections.create_connection(database)
        self.wrapper.ensure_connection()
        self.connection = self.wrapper.connection
        self.connection.autocommit = True
        self.connection.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a notification; return whether one came."""
        woke = False
        for _notify in self.connection.notifies(timeout=timeout, stop_after=1):
            woke = True
        return woke

    def close(self) -> None:
        self.wrapper.close()


class Daemon:
    """Run ``projections`` until stopped (see the module).

    Args:
        say: called with one line per notable step (skips, errors, wake-ups).
        lock: ``"skip"`` or ``"wait"`` (see :func:`~eventstore.projections.catch_up`).
        listen: use PostgreSQL ``LISTEN/NOTIFY`` when the store's database is PostgreSQL.
    """

    def __init__(
        self,
        projections: list[Projection],
        *,
        poll_interval: float = 1.0,
        listen: bool = True,
        lock: str = "skip",
        batch_size: int | None = None,
        max_backoff: float = 60.0,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.projections = projections
        self.poll_interval = poll_interval
        self.listen = listen
        self.lock = lock
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self.say = say or logger.info
        self.stopping = False
        self.runner = runner_name()
        self._retry_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._said_skip: set[str] = set()
        self._listener: _Listener | None = None

    def stop(self, *_args: Any) -> None:
        """Ask the loop to end after the current batch."""
        self.stopping = True

    def run_once(self) -> dict[str, CatchUpResult]:
        """Catch up every projection due now; return their results."""
        results = {}
        for projection in self.projections:
            if self.stopping:
                break
            if time.monotonic() < self._retry_at.get(projection.name, 0):
                continue
            result = catch_up(
                projection,
                lock=self.lock,
                batch_size=self.batch_size,
                raise_errors=False,
                runner=self.runner,
                should_stop=lambda: self.stopping,
            )
            results[projection.name] = result
            self._after(projection, result)
        return results

    def _after(self, projection: Projection, result: CatchUpResult) -> None:
        name = projection.name
        if result.skipped:
            if name not in self._said_skip:
                self.say(f"{name}: another runner holds it; skipping (will retry)")
                self._said_skip.add(name)
            return
        self._said_skip.discard(name)
        if result.status == "stalled":
            failures = self._failures[name] = self._failures.get(name, 0) + 1
            delay = min(self.max_backoff, 2.0 ** (failures - 1))
            self._retry_at[name] = time.monotonic() + delay
            self.say(
                f"{name}: stalled at position {result.position} ({result.error}); "
                f"retry in {delay:g} s"
            )
            return
        if self._failures.pop(name, None):
            self.say(f"{name}: recovered, position {result.position}")
        self._retry_at.pop(name, None)
        if result.applied or result.rebuilt:
            self.say(f"{name}: applied {result.applied} events, position {result.position}")

    def _wait(self) -> None:
        deadline = time.monotonic() + self.poll_interval
        if self.listen and self._listener is None:
            self._listener = self._open_listener()
        while not self.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            step = min(remaining, 0.25)  # wake up often enough to see SIGTERM
            if self._listener is not None:
                try:
                    if self._listener.wait(step):
                        return
                except Exception as exc:  # noqa: BLE001 - fall back to polling
                    self.say(f"LISTEN connection lost ({exc}); polling")
                    self._close_listener()
                    self.listen = False
            else:
                time.sleep(step)

    def _open_listener(self) -> _Listener | None:
        from ..handler import eventstores

        databases = set()
        for projection in self.projections:
            store = eventstores[projection.store_alias]
            using = getattr(store, "using", None)
            if using is not None and connections[using].vendor == "postgresql":
                databases.add(using)
        if len(databases) != 1:
            self.listen = False
            self.say(f"polling every {self.poll_interval:g} s (no PostgreSQL store to LISTEN to)")
            return None
        listener = _Listener(databases.pop())
        self.say(
            f"listening on PostgreSQL channel {CHANNEL}, polling every {self.poll_interval:g} s"
        )
        return listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None

    def run(self, *, once: bool = False) -> dict[str, CatchUpResult]:
        """Run until SIGTERM/SIGINT (or one pass with ``once``); return the last results."""
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous[sig] = signal.signal(sig, self.stop)
            except ValueError:  # not the main thread
                pass
        results: dict[str, CatchUpResult] = {}
        try:
            while not self.stopping:
                results.update(self.run_once())
                if once:
                    break
                self._wait()
        finally:
            self._close_listener()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return results
