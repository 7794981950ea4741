"""An append-only journal file so a process-memory store survives a restart.

Format: one line per appended batch, a JSON array of events in the form of
:mod:`eventstore.serialization` (each with its chain hash), ended by ``\\n``. A
batch is one line, so a crash can never leave half a batch that a reload would
show. Lines written before the hash chain existed have no hashes: the memory
backend chains them when it loads the journal, and logs it.

Durability policy: :meth:`Journal.write` writes the batch's line, flushes it
and, with ``fsync=True`` (the default), calls ``os.fsync`` before the append
returns. An acknowledged append is therefore on disk; a crash (even
``kill -9`` or power loss, with fsync) loses nothing acknowledged. With
``fsync=False`` the line reaches the operating system before the append
returns: it survives the process being killed, not a machine crash.

A crash during a write can leave a torn last line (no ``\\n``). On load it is
detected, moved to ``<journal>.torn-<UTC time>`` for inspection, cut from the
journal, and reported (logged, in ``stats()`` and by the system check); the
events of complete lines load normally. A damaged line that is not the last
one is corruption and refuses start-up.

Only one process may write a journal: it is locked with ``flock`` while open
(:func:`eventstore.backends.locks.open_locked`); a second process (or a second
alias on the same file) is refused with what to do.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..exceptions import EventStoreError, InvalidBackendError, InvalidEventError
from ..records import RecordedEvent
from ..serialization import record_from_object, record_to_json
from .locks import ONE_PROCESS_HINT, open_locked

__all__ = ["Journal", "TornTail"]

logger = logging.getLogger("eventstore.journal")


@dataclass(frozen=True)
class TornTail:
    """A torn last line found on load: ``size`` bytes moved to ``saved_to``."""

    size: int
    saved_to: str


class Journal:
    """An open, locked journal file.

    Args:
        path: the journal file (created if missing; its folder must exist).
        fsync: call ``os.fsync`` before acknowledging each batch.

    Raises:
        InvalidBackendError: if the file cannot be opened or another process
            (or open handle) holds its lock.
    """

    @staticmethod
    def resolve(path: str | os.PathLike[str]) -> Path:
        """Return the absolute path a journal setting names."""
        return Path(path).resolve()

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.path = self.resolve(path)
        self.fsync = fsync
        self.torn_tail: TornTail | None = None
        try:
            file = open_locked(self.path)
        except OSError as exc:
            raise InvalidBackendError(f"Cannot open journal {self.path}: {exc}") from exc
        if file is None:
            raise InvalidBackendError(
                f"Journal {self.path} is locked by another process (a running server, or "
                "another worker of it): only one process may write a journal. To run a "
                f"management command on it, stop that process first. {ONE_PROCESS_HINT}"
            )
        self._file = file

    def load(self) -> list[list[RecordedEvent]]:
        """Read every complete batch, in order; cut and report a torn last line.

        Raises:
            InvalidBackendError: if a complete line is damaged (corruption).
        """
        self._file.seek(0)
        content = self._file.read()
        batches: list[list[RecordedEvent]] = []
        end = content.rfind(b"\n") + 1
        for number, line in enumerate(content[:end].splitlines(), start=1):
            try:
                objects = json.loads(line)
                if not isinstance(objects, list) or not objects:
                    raise InvalidEventError("a journal line must be a non-empty JSON array")
                batches.append([record_from_object(obj) for obj in objects])
            except (ValueError, InvalidEventError) as exc:
                raise InvalidBackendError(
                    f"Journal {self.path} is damaged at line {number}: {exc}"
                ) from None
        if end < len(content):
            self._save_torn_tail(content[end:], end)
        return batches

    def _save_torn_tail(self, tail: bytes, good_length: int) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        saved_to = self.path.with_name(f"{self.path.name}.torn-{stamp}")
        saved_to.write_bytes(tail)
        self._file.truncate(good_length)
        self._file.flush()
        os.fsync(self._file.fileno())
        self.torn_tail = TornTail(len(tail), str(saved_to))
        logger.error(
            "Journal %s ended with a torn line of %d bytes (a crash during a write; that "
            "batch was never acknowledged). It was moved to %s; every complete batch loaded.",
            self.path,
            len(tail),
            saved_to,
        )

    def write(self, records: list[RecordedEvent]) -> None:
        """Append one batch as one line; return once it is flushed (and fsynced).

        Raises:
            EventStoreError: if the write fails; the journal is cut back to where it was.
        """
        line = ("[" + ",".join(record_to_json(record) for record in records) + "]\n").encode()
        self._file.seek(0, os.SEEK_END)
        start = self._file.tell()
        try:
            self._file.write(line)
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            try:
                self._file.truncate(start)
            except OSError:
                logger.exception("Could not cut journal %s back after a failed write", self.path)
            raise EventStoreError(f"Could not write journal {self.path}: {exc}") from exc

    def truncate(self) -> None:
        """Empty the journal (for ``clear()``)."""
        self._file.truncate(0)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Release the lock and close the file."""
        self._file.close()
