"""Exclusive, non-blocking file locks that keep a store's data to one process.

A process-memory store (with or without its journal) is only right while one
process serves it: a second process would keep a second, diverging history.
Both the journal (:mod:`eventstore.backends.journal`) and the serving claim
(:mod:`eventstore.serving`) hold such a lock: ``flock(LOCK_EX | LOCK_NB)`` on
an open file, released by the operating system when the process ends (a
crash or ``kill -9`` included), so a lock never outlives its holder.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import BinaryIO

__all__ = ["ONE_PROCESS_HINT", "open_locked"]

#: What to do when a second process meets a memory store's lock; said by the serving
#: claim, the journal and the system check eventstore.W001.
ONE_PROCESS_HINT = (
    "A process-memory store is served by one process: run the server with one worker "
    "process (gunicorn --workers=1, or uvicorn/daphne without several workers), or use "
    "the database backend (eventstore.backends.database.DatabaseEventStore) to serve "
    "from several."
)


def open_locked(path: str | os.PathLike[str]) -> BinaryIO | None:
    """Open ``path`` for reading and appending (created if missing) and lock it.

    Returns:
        The open file, holding an exclusive ``flock`` until it is closed (or the
        process ends); ``None`` when another open file, in this process or
        another, holds the lock (the file is closed again).

    Raises:
        OSError: if the file cannot be opened.
    """
    file = open(Path(path), "a+b")  # noqa: SIM115 - held open for the lock
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    except BaseException:
        file.close()
        raise
    return file
