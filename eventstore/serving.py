"""Claim, when a server starts, that this process alone serves the memory stores.

A process-memory store (:class:`~eventstore.backends.memory.InMemoryEventStore`)
holds its history in one process. Served by two (two gunicorn workers, two
``runserver`` on other ports, an old and a new deploy side by side) it forks:
the same payment is processed twice, each process numbers its own positions
from 1, and what one acknowledged the other never sees. :func:`claim_serving`,
called by the site's ``wsgi.py`` / ``asgi.py`` once the application is built,
prevents that: for each memory alias it takes an exclusive, non-blocking lock
(:func:`eventstore.backends.locks.open_locked`) on a file named from the
project (its default database: what the servers of a deployment share, see
:func:`_project`) and the alias, in the system's temporary directory
(``TMPDIR``) or ``settings.EVENTSTORE_SERVING_LOCK_DIR``. A second process of
the same project, under any settings module, is refused with :class:`ServingConflict`, so its
worker fails to boot; the lock goes with the process that holds it (exit,
crash or ``kill -9``), and the next server can start.

Only servers claim: management commands (``eventstore_stats``,
``eventstore_export``, ...) and tests do not, so they keep running beside a
server, on their own process memory. A journal is locked by whichever process
opens it, server or command (:mod:`eventstore.backends.journal`).

A process forked from the claiming one (``gunicorn --preload``, which builds
the application before forking its workers) inherits the lock without owning
it: its memory stores refuse to be built (``ServingConflict`` at the first
request), since every worker would fork the history; load the application in
the worker (no ``--preload``).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import ENVIRONMENT_VARIABLE, settings
from django.utils.module_loading import import_string

from .backends.locks import ONE_PROCESS_HINT, open_locked
from .exceptions import InvalidBackendError
from .handler import eventstores

__all__ = ["ServingConflict", "claim_serving", "release_serving", "serving_lock_path"]


class ServingConflict(InvalidBackendError):
    """Another process already serves this memory store (or this process was forked from it)."""


@dataclass
class _Claim:
    file: BinaryIO
    path: Path
    pid: int


_claims: dict[str, _Claim] = {}
_claims_lock = threading.Lock()


def _project() -> str:
    """Name what the servers of one deployment share: the default database.

    Two servers with memory stores that write the same database (read models,
    idempotency claims, users) fork it, whatever settings module each runs
    under (the demo's and the site's, say). SQLite: the file's resolved path;
    other engines: engine, host, port and name. A private database (SQLite in
    memory) is shared by nobody: the settings module's file names the project
    instead (else the module name and working folder).
    """
    database = settings.DATABASES.get("default", {})
    name = str(database.get("NAME") or "")
    engine = str(database.get("ENGINE", ""))
    if name and ":memory:" not in name and "mode=memory" not in name:
        if engine.endswith("sqlite3"):
            return f"sqlite:{Path(name).resolve()}"
        return f"{engine}:{database.get('HOST', '')}:{database.get('PORT', '')}/{name}"
    # override_settings hides the module (UserSettingsHolder); Django loaded it from here.
    module = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get(ENVIRONMENT_VARIABLE)
    source = getattr(sys.modules.get(module), "__file__", None) if module else None
    if source:
        return str(Path(source).resolve())
    return f"{module}@{os.getcwd()}"


def serving_lock_path(alias: str) -> Path:
    """Return the lock file of ``alias`` in this project.

    ``<EVENTSTORE_SERVING_LOCK_DIR or the temporary directory>/eventstore-serving-<hash>.lock``,
    where the hash (SHA-256, 20 hex digits) is taken over the project (see
    :func:`claim_serving`) and the alias.
    """
    directory = getattr(settings, "EVENTSTORE_SERVING_LOCK_DIR", None) or tempfile.gettempdir()
    digest = hashlib.sha256(f"{_project()}\0{alias}".encode()).hexdigest()[:20]
    return Path(directory) / f"eventstore-serving-{digest}.lock"


def _memory_aliases() -> list[str]:
    from .backends.memory import InMemoryEventStore

    aliases = []
    for alias, config in eventstores.configuration.items():
        try:
            backend = import_string(config.get("BACKEND", ""))
        except (ImportError, AttributeError, TypeError):
            continue  # the system check (eventstore.E001) and the first use report it
        if isinstance(backend, type) and issubclass(backend, InMemoryEventStore):
            aliases.append(alias)
    return aliases


def _holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"


def claim_serving(aliases: Iterable[str] | None = None) -> list[str]:
    """Claim that this process serves the memory stores of ``aliases`` (default: every alias).

    Call it in the server's entry point once Django is set up, e.g. last in
    ``wsgi.py`` (after ``get_wsgi_application()``) or ``asgi.py``. Aliases whose
    ``BACKEND`` is not a memory store are skipped (a database store is shared by
    any number of processes). Claiming again in the same process is a no-op.
    Each lock is held until the process ends or :func:`release_serving`.

    Args:
        aliases: ``EVENTSTORES`` aliases, or ``None`` for all of them.

    Returns:
        The memory aliases this process now serves.

    Raises:
        ServingConflict: another process of this project (same default database)
            serves one of them; the message names it and says what to do. Aliases
            claimed before the refusal are released again.
        InvalidBackendError: the lock file cannot be opened.
    """
    memory = _memory_aliases()
    wanted = memory if aliases is None else [alias for alias in aliases if alias in memory]
    taken: list[str] = []
    with _claims_lock:
        try:
            for alias in wanted:
                claim = _claims.get(alias)
                if claim is not None and claim.pid == os.getpid():
                    continue
                _claims.pop(alias, None)  # inherited across a fork: not ours (see below)
                _claims[alias] = _take(alias)
                taken.append(alias)
        except BaseException:
            for alias in taken:
                _claims.pop(alias).file.close()
            raise
    return wanted


def _take(alias: str) -> _Claim:
    path = serving_lock_path(alias)
    try:
        file = open_locked(path)
    except OSError as exc:
        raise InvalidBackendError(
            f"EVENTSTORES[{alias!r}]: cannot open the serving lock {path}: {exc}"
        ) from exc
    if file is None:
        raise ServingConflict(
            f"EVENTSTORES[{alias!r}] keeps events in process memory and is already served "
            f"by {_holder(path)} of this project (lock {path}): a second process would keep "
            f"its own, diverging history, so this one refuses to serve. {ONE_PROCESS_HINT}"
        )
    file.truncate(0)
    file.write(f"{os.getpid()}\n".encode())
    file.flush()
    return _Claim(file, path, os.getpid())


def release_serving(aliases: Iterable[str] | None = None) -> None:
    """Give up this process's claims on ``aliases`` (default: all); exiting does the same."""
    with _claims_lock:
        for alias in list(_claims) if aliases is None else list(aliases):
            claim = _claims.pop(alias, None)
            if claim is not None and claim.pid == os.getpid():
                claim.file.close()


def refuse_if_forked(alias: str) -> None:
    """Refuse to build ``alias``'s memory store in a process forked from the one serving it.

    Called by :class:`~eventstore.backends.memory.InMemoryEventStore` when a
    store is built. No-op unless a claim on ``alias`` was inherited across
    ``fork()`` (``gunicorn --preload``).

    Raises:
        ServingConflict: the claim was taken by another process (this one's parent).
    """
    claim = _claims.get(alias)
    if claim is not None and claim.pid != os.getpid():
        raise ServingConflict(
            f"EVENTSTORES[{alias!r}] keeps events in process memory and was claimed by "
            f"process {claim.pid} before it forked this one (gunicorn --preload?): each "
            "forked worker would keep its own, diverging history. Load the application in "
            f"the worker (no --preload). {ONE_PROCESS_HINT}"
        )
