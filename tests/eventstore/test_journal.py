"""The journal file's promises, seen through a journaled memory store (and its own class).

What a failed write leaves on disk, the errors and log lines an operator reads,
the name a torn tail is saved under, and the default durability of
:class:`~eventstore.backends.journal.Journal`.
"""

import errno
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from eventstore.backends.journal import Journal
from eventstore.backends.memory import InMemoryEventStore, forget
from eventstore.exceptions import EventStoreError, InvalidBackendError
from eventstore.records import NO_STREAM
from eventstore.testing.contract import happened


@pytest.fixture
def open_store(tmp_path):
    """Open memory stores on journals under tmp_path; forget them (closing the journals) after."""
    aliases = []

    def open_(name, alias=None):
        alias = alias or f"journal-{uuid.uuid4()}"
        aliases.append(alias)
        return InMemoryEventStore(alias, {"JOURNAL": str(tmp_path / name)})

    yield open_
    for alias in aliases:
        forget(alias)


def reopen(open_store, store, name):
    forget(store.alias)
    return open_store(name, alias=store.alias)


def test_a_journal_in_a_missing_folder_is_a_configuration_error_naming_it(tmp_path):
    path = tmp_path / "missing" / "journal"
    with pytest.raises(InvalidBackendError) as caught:
        InMemoryEventStore(f"journal-{uuid.uuid4()}", {"JOURNAL": str(path)})
    assert str(caught.value).startswith(f"Cannot open journal {path.resolve()}: ")
    assert "No such file or directory" in str(caught.value)


def test_a_second_alias_on_the_same_journal_is_refused_with_the_way_out(open_store, tmp_path):
    open_store("shared")
    with pytest.raises(InvalidBackendError) as caught:
        open_store("shared")
    assert str(caught.value) == (
        f"Journal {(tmp_path / 'shared').resolve()} is locked by another process (a running "
        "server, or another worker of it): only one process may write a journal. To run a "
        "management command on it, stop that process first. A process-memory store is served "
        "by one process: run the server with one worker process (gunicorn --workers=1, or "
        "uvicorn/daphne without several workers), or use the database backend "
        "(eventstore.backends.database.DatabaseEventStore) to serve from several."
    )


@pytest.mark.parametrize("line", [b"[]", b"{}", b'"text"', b"null"])
def test_a_line_that_is_not_a_non_empty_array_refuses_start_up(open_store, tmp_path, line):
    store = open_store("arrays")
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    path = tmp_path / "arrays"
    with open(path, "ab") as journal:
        journal.write(line + b"\n")
    forget(store.alias)
    with pytest.raises(InvalidBackendError) as caught:
        open_store("arrays")
    assert str(caught.value) == (
        f"Journal {path.resolve()} is damaged at line 2: "
        "a journal line must be a non-empty JSON array"
    )


def test_a_damaged_keys_file_refuses_start_up_naming_alias_file_and_line(open_store, tmp_path):
    store = open_store("keyed")
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    keys = tmp_path / "keyed.keys"
    keys.write_text("not json\n", encoding="utf-8")
    forget(store.alias)
    with pytest.raises(InvalidBackendError) as caught:
        open_store("keyed", alias=store.alias)
    assert isinstance(caught.value, ImproperlyConfigured)
    assert str(caught.value) == (
        f"EVENTSTORES[{store.alias!r}]: Keys file {keys.resolve()} is damaged at line 1: "
        "Expecting value: line 1 column 1 (char 0)"
    )


@pytest.fixture
def far_local_zone(monkeypatch):
    """Run with a local time zone 14 hours from UTC, so local and UTC stamps differ."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_torn_tail_is_saved_under_a_utc_stamp_and_logged_in_full(
    open_store, tmp_path, caplog, far_local_zone
):
    store = open_store("torn")
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    path = (tmp_path / "torn").resolve()
    with open(path, "ab") as journal:
        journal.write(b"[{half")
    forget(store.alias)
    before = datetime.now(UTC)
    with caplog.at_level(logging.ERROR, logger="eventstore.journal"):
        reopened = open_store("torn")
    after = datetime.now(UTC)
    saved_to = reopened.stats()["journal_torn_tail"]["saved_to"]
    match = re.fullmatch(re.escape(f"{path}.torn-") + r"(\d{8}T\d{12})Z", saved_to)
    assert match, saved_to
    stamp = datetime.strptime(match[1], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= stamp <= after + timedelta(seconds=1)
    [record] = [r for r in caplog.records if r.name == "eventstore.journal"]
    assert record.getMessage() == (
        f"Journal {path} ended with a torn line of 6 bytes (a crash during a write; that "
        f"batch was never acknowledged). It was moved to {saved_to}; every complete batch "
        "loaded."
    )


def failing_fsync(monkeypatch, then=None):
    """Make the journal's next fsync fail with EIO (after calling ``then(fd)``, if given)."""

    def fsync(fd):
        if then is not None:
            then(fd)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)


def test_a_failed_write_leaves_the_journal_as_it_was(open_store, tmp_path, monkeypatch):
    store = open_store("failing")
    store.append("a-1", "Thing", [happened("1"), happened("2")], NO_STREAM)
    path = (tmp_path / "failing").resolve()
    before = path.read_bytes()
    failing_fsync(monkeypatch)
    with pytest.raises(EventStoreError) as caught:
        store.append("a-1", "Thing", [happened("3")], 2)
    monkeypatch.undo()
    assert str(caught.value) == f"Could not write journal {path}: [Errno 5] Input/output error"
    assert path.read_bytes() == before
    reloaded = reopen(open_store, store, "failing")
    assert [e.version for e in reloaded.read_all()] == [1, 2]
    assert reloaded.append("a-1", "Thing", [happened("3")], 2)[0].position == 3


def test_a_journal_that_cannot_be_cut_back_is_logged_and_the_append_fails(
    open_store, tmp_path, monkeypatch, caplog
):
    store = open_store("stuck")
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    path = (tmp_path / "stuck").resolve()

    def make_read_only(fd):  # the cut-back (ftruncate) then fails with EINVAL
        read_only = os.open(path, os.O_RDONLY)
        os.dup2(read_only, fd)
        os.close(read_only)

    failing_fsync(monkeypatch, then=make_read_only)
    with (
        caplog.at_level(logging.ERROR, logger="eventstore.journal"),
        pytest.raises(EventStoreError, match=re.escape(f"Could not write journal {path}: ")),
    ):
        store.append("a-1", "Thing", [happened("2")], 1)
    monkeypatch.undo()
    [record] = [r for r in caplog.records if r.name == "eventstore.journal"]
    assert record.getMessage() == f"Could not cut journal {path} back after a failed write"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], OSError)


def test_a_journal_fsyncs_each_batch_unless_told_not_to(open_store, tmp_path, monkeypatch):
    records = open_store("source").append("a-1", "Thing", [happened("1")], NO_STREAM)
    synced = []
    monkeypatch.setattr(os, "fsync", synced.append)
    journal = Journal(tmp_path / "default")
    try:
        journal.write(records)
    finally:
        journal.close()
    assert len(synced) == 1
    unsynced = Journal(tmp_path / "unsynced", fsync=False)
    try:
        unsynced.write(records)
    finally:
        unsynced.close()
    assert len(synced) == 1
    assert (tmp_path / "unsynced").read_bytes() == (tmp_path / "default").read_bytes()
