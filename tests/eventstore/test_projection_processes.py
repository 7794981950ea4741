"""Projection runners in other processes: kill -9 mid-batch, two runners at once,
LISTEN/NOTIFY wake-ups and polling when notifications are lost.

The runners are child processes (``manage.py eventstore_projections run``) with
``tests.projection_settings``, on the test database of this process (SQLite file,
or the PostgreSQL test database when ``EVENTSTORE_TEST_POSTGRES_URL`` is set).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connections

from eventstore.backends.database import DatabaseEventStore
from eventstore.records import NewEvent
from eventstore.testing.contract import ContractCounted  # noqa: F401 - registers contract.Counted
from tests.projection_fixtures import create_table, logged

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("EVENTSTORE_TEST_POSTGRES_URL")
needs_pg = pytest.mark.skipif(not PG, reason="set EVENTSTORE_TEST_POSTGRES_URL")
pytestmark = pytest.mark.slow


def database_url(using):
    settings = connections[using].settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    return PG.rsplit("/", 1)[0] + "/" + settings["NAME"]


def start_runner(using, tmp_path, *args, delay="0", name="runner"):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.projection_settings",
        "DATABASE_URL": database_url(using),
        "EVENTSTORE_BACKEND": "database",
        "PROJECTION_TEST_DELAY": delay,
        "PYTHONUNBUFFERED": "1",
    }
    out = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}.log"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "eventstore_projections", "run", *args, "tests.applied_log"],
        cwd=ROOT,
        env=env,
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
    )
    process.log = out
    return process


def wait_until(condition, timeout=30.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return False


def append(store, count, prefix="a"):
    for number in range(count):
        store.append(
            f"{prefix}-{number}", "Thing", [NewEvent("contract.Counted", {"count": number})], 0
        )


def stop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0, process.log.read_text()
    assert "Stopped." in process.log.read_text()


@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_batch_then_restart_applies_every_event_exactly_once(tmp_path):
    store = DatabaseEventStore("kill-test")
    create_table()
    append(store, 200)
    runner = start_runner(
        "default", tmp_path, "--batch-size=50", "--poll-interval=0.2", delay="0.02"
    )
    try:
        assert wait_until(lambda: len(logged()) >= 50), runner.log.read_text()
        time.sleep(0.3)  # inside the second batch: 15 of its 50 events applied, uncommitted
    finally:
        runner.kill()  # SIGKILL
        runner.wait(10)
    applied = logged()
    assert len(applied) in (50, 100, 150), "only whole batches ever commit"
    assert applied == list(range(1, len(applied) + 1))
    again = start_runner("default", tmp_path, "--once", "--batch-size=50")
    assert again.wait(120) == 0, again.log.read_text()
    replay = [event.position for event in store.read_all()]
    assert logged() == replay == list(range(1, 201))


@needs_pg
@pytest.mark.django_db(transaction=True, databases=["default", "postgres"])
def test_two_runners_of_one_projection_on_postgresql_never_apply_twice(tmp_path):
    store = DatabaseEventStore("pg-two-runners", {"DATABASE": "postgres"})
    create_table("postgres")
    first = start_runner(
        "postgres", tmp_path, "--batch-size=20", "--poll-interval=0.1", delay="0.005"
    )
    second = start_runner(
        "postgres", tmp_path, "--batch-size=20", "--poll-interval=0.1", delay="0.005"
    )
    try:
        append(store, 300)
        assert wait_until(lambda: len(logged("postgres")) >= 300, timeout=60)
        time.sleep(1.0)  # time for a double apply to show, if there were one
        assert logged("postgres") == list(range(1, 301))
    finally:
        stop(first)
        stop(second)
    said = first.log.read_text() + second.log.read_text()
    assert "another runner holds it; skipping" in said


@needs_pg
@pytest.mark.django_db(transaction=True, databases=["default", "postgres"])
def test_events_from_this_process_reach_a_runner_in_another_within_2_seconds(tmp_path, monkeypatch):
    store = DatabaseEventStore("pg-listen", {"DATABASE": "postgres"})
    create_table("postgres")
    # A 60 s poll: only LISTEN/NOTIFY can wake it in time.
    listening = start_runner("postgres", tmp_path, "--poll-interval=60", name="listen")
    try:
        assert wait_until(lambda: "listening on PostgreSQL" in listening.log.read_text())
        time.sleep(0.5)  # its first (empty) catch-up is done
        for number in range(3):
            started = time.monotonic()
            append(store, 1, prefix=f"n{number}")
            assert wait_until(lambda n=number: len(logged("postgres")) == n + 1, timeout=2.0)
            assert time.monotonic() - started < 2.0
    finally:
        stop(listening)

    # Notifications lost: the appends send none; a runner polling every 0.5 s still sees them.
    monkeypatch.setattr("eventstore.backends.database.notify_append", lambda *args: None)
    polling = start_runner("postgres", tmp_path, "--poll-interval=0.5", name="poll")
    try:
        assert wait_until(lambda: "listening on PostgreSQL" in polling.log.read_text())
        time.sleep(0.5)
        started = time.monotonic()
        append(store, 1, prefix="lost")
        assert wait_until(lambda: len(logged("postgres")) == 4, timeout=2.0)
        assert time.monotonic() - started < 2.0
    finally:
        stop(polling)
    assert logged("postgres") == [1, 2, 3, 4]
