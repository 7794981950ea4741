"""Smoke test: the site under gunicorn with 2 worker processes.

On the database backend every worker sees the same history, and a projection
daemon (``eventstore_projections run``) in a third process puts every
acknowledged payment in the read model once; on the memory backend Django's
system check warns that each worker would keep its own.
Uses PostgreSQL when ``EVENTSTORE_TEST_POSTGRES_URL`` is set, else a SQLite file.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_url(tmp_path):
    base = os.environ.get("EVENTSTORE_TEST_POSTGRES_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'smoke.sqlite3'}"
        return
    import psycopg

    name = f"gyroscops_smoke_{uuid.uuid4().hex[:8]}"
    admin = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def request(port, path, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - local server
        return response.status, json.loads(response.read())


def wait_for(port, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def test_two_workers_on_the_database_backend_share_one_history(tmp_path, database_url):
    env = {
        **os.environ,
        "EVENTSTORE_BACKEND": "database",
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "smoke-test-key",
        "DJANGO_DEBUG": "0",
    }
    assert manage(env, "migrate", "--verbosity=0").returncode == 0
    setup = manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        "from rest_framework.authtoken.models import Token;"
        "from payments.models import Organization;"
        "u = User.objects.create_superuser('smoke', password='x');"
        "Organization.objects.create(slug='acme', name='Acme');"
        "print(Token.objects.create(user=u).key)",
    )
    token = setup.stdout.strip().splitlines()[-1]
    port = free_port()
    log = tmp_path / "access.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "gyroscops.wsgi",
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            f"--access-logfile={log}",
            "--access-logformat=%(p)s %(m)s %(U)s %(s)s",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    daemon = subprocess.Popen(
        [sys.executable, "manage.py", "eventstore_projections", "run", "--poll-interval=0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    acknowledged = []
    try:
        wait_for(port)
        created = 0
        for number in range(40):
            status, _ = request(
                port,
                "/api/payments/",
                token,
                {
                    "payment_id": f"p-{number}",
                    "amount": "1.00",
                    "currency": "EUR",
                    "organization_id": "acme",
                },
            )
            assert status == 201
            acknowledged.append(f"p-{number}")
            created += 1
            # Concurrent reads, so that while one worker is busy the other answers too.
            with ThreadPoolExecutor(4) as pool:
                pages = list(
                    pool.map(
                        lambda _: request(port, "/api/events/?page_size=500", token)[1],
                        range(4),
                    )
                )
            assert [len(page["results"]) for page in pages] == [created] * 4
            if number >= 10 and len(get_pids(log)) >= 2:
                break
        # The read model, filled by the daemon: every acknowledged payment, once.
        end = time.monotonic() + 30
        while True:
            listed = request(port, "/api/payments/?page_size=200", token)[1]["results"]
            in_view = sorted(row["payment_id"] for row in listed)
            if in_view == sorted(acknowledged) or time.monotonic() > end:
                break
            time.sleep(0.2)
        assert in_view == sorted(acknowledged)
    finally:
        server.terminate()
        server.wait(30)
        daemon.terminate()
        assert daemon.wait(30) == 0, "the daemon stops cleanly on SIGTERM"
    assert len(get_pids(log)) == 2, "both workers answered history reads"


def get_pids(log):
    pids = set()
    for line in log.read_text().splitlines() if log.exists() else []:
        match = re.match(r"<?(\d+)>? GET /api/events/ 200", line)
        if match:
            pids.add(match.group(1))
    return pids


def test_the_memory_backend_warns_about_several_workers():
    env = {**os.environ, "EVENTSTORE_BACKEND": "memory", "DJANGO_DEBUG": "0"}
    result = manage(env, "check")
    assert "eventstore.W001" in result.stderr + result.stdout
    assert "each worker" in result.stderr + result.stdout
