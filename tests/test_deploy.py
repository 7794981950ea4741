"""Deploys that cannot fork: the site as its servers and commands start it, in real processes.

- the memory backend under gunicorn: a second worker (or server) refuses to boot,
  saying what to do; management commands beside a running server keep working;
- the settings refuse DEBUG off without DJANGO_SECRET_KEY;
- the README's production environment passes ``manage.py check --deploy``;
- ``manage.py rundemo`` (``make run``) starts quietly, with a stable key.

Every child gets its own temporary directory (``TMPDIR``, where the serving locks
go) and SQLite file, and runs on the site's own settings (not the tests').
"""

import hashlib
import http.cookiejar
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.test_smoke_gunicorn import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
KEY = "deploy-test-key-" + "k" * 40
ONE_WORKER = "run the server with one worker process"
DATABASE = "use the database backend"


@pytest.fixture
def env(tmp_path):
    """The environment of a site process: none of the tests' settings, a place of its own."""
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "EVENTSTORE_")) and name != "DATABASE_URL"
    }
    return {
        **base,
        "TMPDIR": str(tmp_path),
        "DJANGO_SQLITE_PATH": str(tmp_path / "site.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    }


def manage(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def gunicorn(env, port, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gyroscops.wsgi", f"--bind=127.0.0.1:{port}", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def status(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


@pytest.mark.slow
def test_two_gunicorn_workers_on_the_memory_backend_refuse_to_boot(env):
    env = {**env, "DJANGO_SECRET_KEY": KEY, "EVENTSTORE_BACKEND": "memory"}
    server = gunicorn(env, free_port(), "--workers=2")
    try:
        output, _ = server.communicate(timeout=90)
    finally:
        stop(server)
    assert server.returncode != 0, output
    assert "Worker failed to boot" in output
    assert re.search(
        r"ServingConflict: EVENTSTORES\['default'\] keeps events in process memory and is "
        r"already served by process \d+ of this project",
        output,
    ), output
    assert ONE_WORKER in output and DATABASE in output


@pytest.mark.slow
def test_one_worker_serves_a_second_server_is_refused_and_commands_still_run(env):
    env = {**env, "DJANGO_SECRET_KEY": KEY, "EVENTSTORE_BACKEND": "memory"}
    assert manage(env, "migrate", "--verbosity=0").returncode == 0
    port = free_port()
    server = gunicorn(env, port, "--workers=1", "--threads=2")
    try:
        wait_for(port)
        assert status(port, "/api/") == 200  # served (the API root)
        second = gunicorn(env, free_port(), "--workers=1")
        output, _ = second.communicate(timeout=90)
        assert second.returncode != 0 and "already served by process" in output, output
        # A management command does not claim the store: it runs on its own memory.
        stats = manage(env, "eventstore_stats")
        assert stats.returncode == 0, stats.stderr
        assert "events" in stats.stdout
        assert status(port, "/api/") == 200  # the first server was not disturbed
    finally:
        stop(server)


def test_the_asgi_application_claims_the_memory_stores_too(env):
    env = {**env, "DJANGO_SECRET_KEY": KEY, "EVENTSTORE_BACKEND": "memory"}
    code = "import sys, gyroscops.asgi; print('serving', flush=True); sys.stdin.readline()"
    first = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout.readline() == "serving\n", first.stderr.read()
        second = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1
        assert f"already served by process {first.pid} of this project" in second.stderr
    finally:
        first.stdin.close()
        first.wait(30)


def test_the_settings_refuse_debug_off_without_a_secret_key(env):
    refused = manage({**env, "DJANGO_DEBUG": "0"}, "check")
    assert refused.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set and DEBUG "
        "is off: every process would sign sessions with a key of its own."
    ) in refused.stderr
    assert manage({**env, "DJANGO_DEBUG": "1"}, "check").returncode == 0  # development
    assert manage({**env, "DJANGO_SECRET_KEY": KEY}, "check").returncode == 0


def test_the_settings_read_the_export_signing_key_from_the_environment(env):
    show = (
        "from django.conf import settings; from eventstore.signing import key_id, signing_key; "
        "print(repr(getattr(settings, 'EVENTSTORE_SIGNING_KEY', None)), key_id(signing_key()))"
    )
    env = {**env, "DJANGO_SECRET_KEY": KEY}
    given = manage({**env, "EVENTSTORE_SIGNING_KEY": "auditors-key-1"}, "shell", "-c", show)
    assert given.returncode == 0, given.stderr
    expected_id = hashlib.sha256(b"auditors-key-1").hexdigest()[:16]
    # (the last line: Django 5.2's shell may first say what it imported)
    assert given.stdout.splitlines()[-1] == f"'auditors-key-1' {expected_id}"
    unset = manage(env, "shell", "-c", show)
    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.splitlines()[-1].startswith("None ")  # derived from SECRET_KEY
    assert expected_id not in unset.stdout


def readme_production_environment():
    """The ``sh`` block of the README's "Deploying" section that sets the environment."""
    section = README.read_text().split("\n## Deploying\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block and "export DJANGO_SECRET_KEY" in block[1]
    return block[1]


def check_deploy(env, extra=""):
    script = readme_production_environment() + extra + '\nexec "$PYTHON" manage.py check --deploy'
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", script],
        cwd=ROOT,
        env={**env, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_readme_production_environment_passes_check_deploy(env):
    result = check_deploy(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.stderr == ""


@pytest.mark.slow
def test_check_deploy_warns_when_the_production_environment_is_left_out(env):
    # The same check, with parts of that environment undone: it does look at them.
    result = check_deploy(
        env, "\nexport DJANGO_HTTPS=0 DJANGO_HSTS_SECONDS=0 EVENTSTORE_BACKEND=memory"
    )
    found = set(re.findall(r"\((\w+\.\w\d+)\)", result.stderr))
    assert found == {
        "security.W004",
        "security.W008",
        "security.W012",
        "security.W016",
        "eventstore.W001",
    }, result.stderr


def start_demo(env, log, port):
    """``manage.py rundemo`` as ``make run`` starts it, once it serves."""
    with open(log, "a") as out:
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo", "--payments=5", f"--port={port}"],
            cwd=ROOT,
            env=env,  # no DJANGO_SETTINGS_MODULE, no DJANGO_SECRET_KEY: what `make run` has
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    end = time.monotonic() + 120
    while log.read_text().count("Quit the server with CONTROL-C.") < start_demo.runs + 1:
        assert demo.poll() is None, log.read_text()
        assert time.monotonic() < end, log.read_text()
        time.sleep(0.2)
    start_demo.runs += 1
    wait_for(port)
    return demo


def staff_page(opener, port):
    """GET the audit trail as the session in ``opener``; return the URL it ended at."""
    with opener.open(f"http://127.0.0.1:{port}/admin/eventstore/audittrail/", timeout=30) as page:
        return page.url


def log_in(opener, port):
    login = f"http://127.0.0.1:{port}/admin/login/"
    with opener.open(login, timeout=30) as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())[1]
    form = urllib.parse.urlencode(
        {
            "username": "admin",
            "password": "gyroscops-demo",
            "csrfmiddlewaretoken": token,
            "next": "/admin/eventstore/audittrail/",
        }
    ).encode()
    request = urllib.request.Request(login, data=form, headers={"Referer": login})
    with opener.open(request, timeout=30) as page:
        assert "/admin/login/" not in page.url, "logged in"


@pytest.mark.slow
def test_rundemo_starts_quietly_keeps_logins_across_restarts_and_refuses_a_second_demo(
    env, tmp_path
):
    log = tmp_path / "demo.log"
    start_demo.runs = 0
    port = free_port()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    demo = start_demo(env, log, port)
    try:
        log_in(opener, port)
        assert staff_page(opener, port) == f"http://127.0.0.1:{port}/admin/eventstore/audittrail/"
        second = manage({**env, "PORT": str(free_port())}, "rundemo", "--payments=1")
        assert second.returncode == 1
        assert second.stderr.startswith(
            "CommandError: EVENTSTORES['default'] keeps events in process memory and is "
            f"already served by process {demo.pid} of this project"
        ), second.stderr
        assert ONE_WORKER in second.stderr
    finally:
        stop(demo)
    # Started again (same database): the key is the same, so the session still holds,
    # and the read model is started afresh on the new store without a word.
    demo = start_demo(env, log, port)
    try:
        assert staff_page(opener, port) == f"http://127.0.0.1:{port}/admin/eventstore/audittrail/"
    finally:
        stop(demo)
    output = log.read_text()
    assert output.count("using settings 'gyroscops.demo_settings'") == 2
    # Django 5.2 says "Starting development server at", Django 6 "Starting WSGI development ...".
    assert re.search(rf"Starting (WSGI )?development server at http://127\.0\.0\.1:{port}/", output)
    for noise in (
        "W001",
        "WARNING",
        "Do not use it in a production setting",
        "another history",
        "Traceback",
    ):
        assert noise not in output, output
    key_file = ROOT / ".demo-secret-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 50
