"""One process serves a memory store: eventstore.serving.claim_serving, across real processes.

Each child process runs under the settings of this test run, with its own
temporary directory (``TMPDIR``: where the lock files go), so a server running
from the same checkout is never in the way, and on this test run's database
(the project a claim names is its default database).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eventstore.backends.locks import open_locked
from eventstore.backends.memory import InMemoryEventStore
from eventstore.serving import ServingConflict, claim_serving, release_serving, serving_lock_path

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = {settings_module!r}
import django
django.setup()
from eventstore.serving import ServingConflict, claim_serving
"""

HOLD = """
print("claimed", claim_serving(), os.getpid(), flush=True)
sys.stdin.readline()  # hold the claim until the test closes stdin
"""

TRY = """
try:
    print("claimed", claim_serving())
except ServingConflict as exc:
    print("refused:", exc)
"""


def python(code, tmp_path, database=None, **kwargs):
    if database is None:
        from django.conf import settings

        database = settings.DATABASES["default"]["NAME"]
    setup = SETUP.format(root=str(ROOT), settings_module=os.environ["DJANGO_SETTINGS_MODULE"])
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(setup) + textwrap.dedent(code)],
        env={**os.environ, "TMPDIR": str(tmp_path), "DJANGO_SQLITE_PATH": str(database)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def run(code, tmp_path):
    process = python(code, tmp_path)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out


@pytest.fixture
def holder(tmp_path):
    process = python(HOLD, tmp_path)
    line = process.stdout.readline()
    assert line.startswith("claimed ['default']"), line + process.stderr.read()
    yield process, int(line.split()[-1])
    if process.poll() is None:
        process.kill()
        process.wait(30)


def test_a_second_process_is_refused_while_the_first_serves_and_served_after(holder, tmp_path):
    process, pid = holder
    out = run(TRY, tmp_path)
    assert out.startswith("refused: EVENTSTORES['default'] keeps events in process memory")
    assert f"already served by process {pid} of this project" in out
    assert "run the server with one worker process" in out
    assert "use the database backend" in out
    process.stdin.close()
    assert process.wait(30) == 0
    assert run(TRY, tmp_path).startswith("claimed ['default']")


def test_a_killed_server_leaves_no_claim_behind(holder, tmp_path):
    process, _pid = holder
    process.kill()  # SIGKILL: no clean-up runs; the system drops the lock
    process.wait(30)
    assert run(TRY, tmp_path).startswith("claimed ['default']")


def test_the_claim_is_per_alias_and_only_for_memory_stores(holder, tmp_path, settings):
    settings.EVENTSTORES = {
        "other": {"BACKEND": "eventstore.backends.memory.InMemoryEventStore"},
        "default": {"BACKEND": "eventstore.backends.memory.InMemoryEventStore"},
        "rows": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"},
    }
    settings.EVENTSTORE_SERVING_LOCK_DIR = str(tmp_path)
    with pytest.raises(ServingConflict):
        claim_serving()  # "other" first, then "default", which the holder serves
    # The refusal released what it had taken on the way: "other" is free.
    free = open_locked(serving_lock_path("other"))
    assert free is not None
    free.close()
    assert claim_serving(["other", "rows"]) == ["other"]
    try:
        assert claim_serving(["other"]) == ["other"]  # again in the same process: a no-op
        assert serving_lock_path("other") != serving_lock_path("default")
        assert serving_lock_path("other").parent == tmp_path
    finally:
        release_serving()


def test_a_worker_forked_from_the_claiming_process_refuses_its_memory_store(tmp_path):
    out = run(
        """
        claim_serving()
        from eventstore.backends.memory import InMemoryEventStore
        child = os.fork()
        if child == 0:
            try:
                InMemoryEventStore("default")
                print("child served")
            except ServingConflict as exc:
                print("child refused:", exc)
            sys.stdout.flush()
            os._exit(0)
        os.waitpid(child, 0)
        InMemoryEventStore("default")
        print("parent served")
        """,
        tmp_path,
    )
    refused, served = out.splitlines()
    assert refused.startswith("child refused: EVENTSTORES['default'] keeps events in process")
    assert "before it forked this one (gunicorn --preload?)" in refused
    assert "no --preload" in refused
    assert served == "parent served"


def test_tests_and_commands_never_claim(tmp_path, settings):
    # This test process never called claim_serving: its stores build, and a claim
    # by another process is not in its way.
    settings.EVENTSTORE_SERVING_LOCK_DIR = str(tmp_path)
    InMemoryEventStore("default")
    assert not serving_lock_path("default").exists()


def test_a_server_under_another_settings_module_on_the_same_database_is_refused(tmp_path):
    # A demo and the site it shows may run under two settings modules on one database:
    # a second settings module of the same project, on the same database, forks it as well.
    database = tmp_path / "shared.sqlite3"
    holding = python(HOLD, tmp_path, database=database)
    try:
        line = holding.stdout.readline()
        assert line.startswith("claimed ['default']"), line + holding.stderr.read()
        pid = int(line.split()[-1])
        (tmp_path / "other_settings.py").write_text(
            f"from {os.environ['DJANGO_SETTINGS_MODULE']} import *  # noqa: F403\nDEBUG = True\n"
        )
        code = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n" + textwrap.dedent(
            SETUP.format(root=str(ROOT), settings_module="other_settings")
        )
        env = {**os.environ, "TMPDIR": str(tmp_path), "DJANGO_SQLITE_PATH": str(database)}
        child = subprocess.run(
            [sys.executable, "-c", code + textwrap.dedent(TRY)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert child.returncode == 0, child.stderr
        assert f"already served by process {pid} of this project" in child.stdout
        elsewhere = {**env, "DJANGO_SQLITE_PATH": str(tmp_path / "another.sqlite3")}
        child = subprocess.run(
            [sys.executable, "-c", code + textwrap.dedent(TRY)],
            env=elsewhere,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert child.stdout.startswith("claimed ['default']"), child.stderr  # another database
    finally:
        holding.kill()
        holding.wait(30)
