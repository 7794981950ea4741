"""Key stores: where each data subject's key lives, one key store per event store.

A store's keys live with its events:

- :class:`MemoryKeyStore` (the process-memory backend): in the alias's data with
  the events (emptied with them, in snapshots); with a journal, also in a keys
  file next to it, ``<journal>.keys``, rewritten whole and atomically (a temp
  file, fsync, ``os.replace``) on every change: erasure rewrites it without the
  key, so the key is gone from disk. The journal itself never holds a key.
- :class:`DatabaseKeyStore` (the database backend): the ``SubjectKey`` model, in
  the store's ``DATABASE``.

Caching (database): keys are kept in the process for
``EVENTSTORE_KEY_CACHE_SECONDS`` (default 60): an append or a read of a cached
subject costs no query (``POST /api/payments/`` keeps its statement budget).
An erasure takes effect at once in the erasing process; another process may
still reveal (and seal with) a cached key for at most that many seconds.
``0`` turns the cache off (a query per append and per read of sealed events).
A key is cached for sealing only once the transaction that created or read it
committed, so a rolled-back key is never used again.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.signals import setting_changed

from .cipher import SubjectKey, b64decode, b64encode

__all__ = [
    "DEFAULT_KEY_CACHE_SECONDS",
    "DatabaseKeyStore",
    "KeyStore",
    "MemoryKeyStore",
    "forget_cached_keys",
    "keys_file_path",
    "read_keys_file",
    "write_keys_file",
]

#: The default of the ``EVENTSTORE_KEY_CACHE_SECONDS`` setting.
DEFAULT_KEY_CACHE_SECONDS = 60.0

#: The clock of the key cache (seconds); tests may replace it.
monotonic = time.monotonic


class KeyStore:
    """The keys of one event store's data subjects (base class).

    Each subject has at most one live key; erasure destroys it, and a later
    event of the same subject gets a new one.
    """

    def key_for(self, subject: str) -> SubjectKey:
        """Return ``subject``'s key, creating it if it has none (sealing an event)."""
        raise NotImplementedError("subclasses of KeyStore must provide key_for()")

    def find(self, subject: str) -> SubjectKey | None:
        """Return ``subject``'s key, or None if it has none (never creates one)."""
        raise NotImplementedError("subclasses of KeyStore must provide find()")

    def get(self, key_id: str) -> SubjectKey | None:
        """Return the key with ``key_id``, or None if it was destroyed (or never existed)."""
        raise NotImplementedError("subclasses of KeyStore must provide get()")

    def destroy(self, subject: str) -> int:
        """Destroy every key of ``subject``; return how many there were (0: none)."""
        raise NotImplementedError("subclasses of KeyStore must provide destroy()")

    def truncate(self) -> None:
        """Destroy every key (the event store was cleared)."""
        raise NotImplementedError("subclasses of KeyStore must provide truncate()")


# -- process memory ------------------------------------------------------------------------


def keys_file_path(journal_path: str | os.PathLike[str]) -> Path:
    """Return the keys file of a journal: ``<journal>.keys`` beside it."""
    path = Path(journal_path)
    return path.with_name(path.name + ".keys")


def read_keys_file(path: Path) -> list[SubjectKey]:
    """Return the keys stored in ``path`` (none if the file does not exist).

    One JSON object a line: ``{"key_id", "subject", "secret" (base64url), "created_at"}``.

    Raises:
        ValueError: naming the file and line, for a line that is not such an object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            keys.append(SubjectKey(obj["key_id"], obj["subject"], b64decode(obj["secret"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Keys file {path} is damaged at line {number}: {exc}") from None
    return keys


def write_keys_file(path: Path, keys: Iterable[SubjectKey]) -> None:
    """Replace ``path`` by a file holding exactly ``keys``, atomically and durably.

    The lines go to a temporary file in the same directory (mode 0600), which is
    fsynced, then renamed over ``path`` (``os.replace``, atomic on POSIX), then
    the directory is fsynced: after a crash the file holds the old keys or the
    new ones, never a mix; a destroyed key is in neither the file nor a leftover.
    """
    now = datetime.now(UTC).isoformat()
    lines = "".join(
        json.dumps(
            {
                "key_id": key.key_id,
                "subject": key.subject,
                "secret": b64encode(key.secret),
                "created_at": now,
            }
        )
        + "\n"
        for key in keys
    )
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(lines)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with _suppress_missing():
            os.unlink(temp)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class _suppress_missing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, *rest: Any) -> bool:
        return kind is not None and issubclass(kind, FileNotFoundError)


class MemoryKeyStore(KeyStore):
    """Keys in a process-memory store's data (``keys``: id → key, ``subject_keys``: subject → key).

    Args:
        data: the alias's data object (its ``lock``, ``keys`` and
            ``subject_keys`` attributes are read at each call, so a reset or a
            restore of the data is seen at once).
        path: the keys file, or None without a journal.
    """

    def __init__(self, data: Any, path: Path | None) -> None:
        self._data = data
        self.path = path

    def __deepcopy__(self, memo: dict[int, Any]) -> MemoryKeyStore:
        return self  # a view of its data, shared by snapshots of it

    def key_for(self, subject: str) -> SubjectKey:
        key: SubjectKey | None = self._data.subject_keys.get(subject)
        if key is not None:
            return key
        with self._data.lock:
            key = self._data.subject_keys.get(subject)
            if key is None:
                key = SubjectKey.generate(subject)
                keys = {**self._data.keys, key.key_id: key}
                if self.path is not None:
                    write_keys_file(self.path, keys.values())  # on disk before any event uses it
                self._data.keys = keys
                self._data.subject_keys = {**self._data.subject_keys, subject: key}
            return key

    def find(self, subject: str) -> SubjectKey | None:
        found: SubjectKey | None = self._data.subject_keys.get(subject)
        return found

    def get(self, key_id: str) -> SubjectKey | None:
        found: SubjectKey | None = self._data.keys.get(key_id)
        return found

    def destroy(self, subject: str) -> int:
        with self._data.lock:
            doomed = [key for key in self._data.keys.values() if key.subject == subject]
            if not doomed:
                return 0
            keys = {kid: key for kid, key in self._data.keys.items() if key.subject != subject}
            if self.path is not None:
                write_keys_file(self.path, keys.values())  # gone from disk first
            self._data.keys = keys
            self._data.subject_keys = {
                name: key for name, key in self._data.subject_keys.items() if name != subject
            }
            return len(doomed)

    def truncate(self) -> None:
        """Forget every key (the store was cleared), on disk too."""
        with self._data.lock:
            if self.path is not None:
                write_keys_file(self.path, [])
            self._data.keys = {}
            self._data.subject_keys = {}


# -- database -----------------------------------------------------------------------------


class _Cache:
    """The keys of one database kept in the process: by subject (sealing) and by id (reading)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_subject: dict[str, tuple[SubjectKey, float]] = {}
        self.by_id: dict[str, tuple[SubjectKey | None, float]] = {}


_caches: dict[str, _Cache] = {}
_cache_seconds: float | None = None


def cache_seconds() -> float:
    """Return ``EVENTSTORE_KEY_CACHE_SECONDS`` (default 60; 0 turns the cache off).

    Raises:
        django.core.exceptions.ImproperlyConfigured: for a negative or non-number value.
    """
    global _cache_seconds
    seconds = _cache_seconds
    if seconds is None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        value = getattr(settings, "EVENTSTORE_KEY_CACHE_SECONDS", DEFAULT_KEY_CACHE_SECONDS)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ImproperlyConfigured(
                f"EVENTSTORE_KEY_CACHE_SECONDS must be a number of seconds ≥ 0, got {value!r}."
            )
        seconds = _cache_seconds = float(value)
    return seconds


def _reset_setting(*, setting: str, **kwargs: Any) -> None:
    global _cache_seconds
    if setting == "EVENTSTORE_KEY_CACHE_SECONDS":
        _cache_seconds = None
        forget_cached_keys()


setting_changed.connect(_reset_setting, dispatch_uid="eventstore.privacy.key_cache_seconds")


def forget_cached_keys(using: str | None = None) -> None:
    """Drop the process's cached keys of database ``using`` (every database if None)."""
    if using is None:
        _caches.clear()
    else:
        _caches.pop(using, None)


class DatabaseKeyStore(KeyStore):
    """Keys in the ``eventstore_subjectkey`` table of database ``using``, cached (see module)."""

    def __init__(self, using: str) -> None:
        self.using = using

    def _cache(self) -> _Cache:
        cache = _caches.get(self.using)
        if cache is None:
            cache = _caches.setdefault(self.using, _Cache())
        return cache

    def _rows(self) -> Any:
        from ..models import SubjectKey as SubjectKeyRow

        return SubjectKeyRow.objects.using(self.using)

    def _remember(self, key: SubjectKey) -> None:
        """Cache ``key`` by id now, and by subject once the current transaction commits."""
        from django.db import transaction

        seconds = cache_seconds()
        if not seconds:
            return
        cache = self._cache()
        cache.by_id[key.key_id] = (key, monotonic() + seconds)

        def by_subject() -> None:
            cache.by_subject[key.subject] = (key, monotonic() + seconds)

        transaction.on_commit(by_subject, using=self.using)

    def _load(self, subject: str) -> SubjectKey | None:
        row = self._rows().filter(subject=subject).order_by("created_at").first()
        if row is None:
            return None
        key = SubjectKey(row.key_id, row.subject, bytes(row.secret))
        self._remember(key)
        return key

    def key_for(self, subject: str) -> SubjectKey:
        cached = self._cache().by_subject.get(subject)
        if cached is not None and cached[1] > monotonic():
            return cached[0]
        from django.db import IntegrityError, transaction

        key = self._load(subject)
        if key is not None:
            return key
        key = SubjectKey.generate(subject)
        try:
            with transaction.atomic(using=self.using):
                self._rows().create(key_id=key.key_id, subject=subject, secret=key.secret)
        except IntegrityError:  # another writer created the subject's key first
            found = self._load(subject)
            if found is None:
                raise
            return found
        self._remember(key)
        return key

    def find(self, subject: str) -> SubjectKey | None:
        cached = self._cache().by_subject.get(subject)
        if cached is not None and cached[1] > monotonic():
            return cached[0]
        return self._load(subject)

    def get(self, key_id: str) -> SubjectKey | None:
        cache = self._cache()
        cached = cache.by_id.get(key_id)
        if cached is not None and cached[1] > monotonic():
            return cached[0]
        row = self._rows().filter(key_id=key_id).first()
        key = None if row is None else SubjectKey(row.key_id, row.subject, bytes(row.secret))
        seconds = cache_seconds()
        if seconds:
            cache.by_id[key_id] = (key, monotonic() + seconds)
        return key

    def destroy(self, subject: str) -> int:
        rows = self._rows().filter(subject=subject)
        key_ids = list(rows.values_list("key_id", flat=True))
        deleted = rows.delete()[0] if key_ids else 0
        cache = self._cache()
        with cache.lock:
            cache.by_subject.pop(subject, None)
            for key_id in key_ids:
                cache.by_id.pop(key_id, None)
            for key_id, (key, _expires) in list(cache.by_id.items()):
                if key is not None and key.subject == subject:
                    cache.by_id.pop(key_id, None)
        return int(deleted)

    def truncate(self) -> None:
        """Delete every key of the database (the store was cleared) and the cached ones."""
        self._rows().delete()
        forget_cached_keys(self.using)
