"""HTTP rows: ``POST /api/payments/`` against a DRF echo view and a bare Django view.

One gunicorn server (one sync worker: the memory store lives in one process,
as the demo runs it; Django's system check warns that more workers would each
keep their own) on 127.0.0.1, with the demo's settings plus the benchmark's
URLconf (``benchmarks.http_settings``) and the run's temporary SQLite file.
The three endpoints it serves:

- ``POST /api/payments/``: the command (validation, organization scope,
  replay, append to the memory store, the ``payments.summary`` read model
  written inline in SQLite), answered 201 with the payment's state;
- ``POST /bench/echo/``: a DRF view with the same authentication, parser,
  renderer and permission classes that answers the parsed body (the peer:
  the target is ≥ 0.5 × its rate);
- ``POST /bench/bare/``: a plain Django view that parses the JSON and
  answers ``{"ok": true}`` (the floor; no target).

The client is an organization member (not staff, no permission: the scoped
path), authenticated by a DRF token on every request. The load generator is
Python: :data:`CONCURRENCY` threads, each sending one request per connection
(the sync worker closes it after each answer), from request bytes built before
the timer, for at most ``config.http_requests // ROUNDS`` requests or
:data:`SECONDS_PER_SIDE` seconds per side and round. The three sides run
interleaved, in a rotating order, for :data:`ROUNDS` rounds; the table has the
median rate of each side, and the median CPU time the worker process spent per
request (``/proc/PID/stat``, user + system: what bounds a single worker's rate,
and less disturbed than the rate by other processes on a shared machine).
Every answer is checked (201 or 200), and every acknowledged payment must be
in the read model afterwards.

The SQL statement count of one ``POST /api/payments/`` is taken in this
process, after the server has stopped (the same database and settings, the
URLconf aside), with ``CaptureQueriesContext``: statements that are not
transaction control (BEGIN, COMMIT, savepoints), for a user's later requests
and for their first one (which also loads the user's scope).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from time import perf_counter

from benchmarks.workloads import Config, Failure, Fixtures, Row, check, progress

__all__ = ["CONCURRENCY", "ROUNDS", "WORKLOADS", "RUN_ORDER", "http_post", "sql_per_post"]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Rounds of the three sides; the table has the median rate of each.
ROUNDS = 5
#: Upper bound of one side's share of a round, in seconds (with the request bound).
SECONDS_PER_SIDE = 4.0
#: Client threads, each with one request in flight: the worker never waits for the client.
CONCURRENCY = 2
#: The request body of every side (no payment id: the server generates one per payment).
BODY = b'{"amount": "100.00", "currency": "EUR", "organization_id": "acme"}'
SIDES = {"post": "/api/payments/", "echo": "/bench/echo/", "bare": "/bench/bare/"}
#: SQL of transaction control, left out of the statement count (reported apart).
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raw_request(path: str, token: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Token {token}\r\nContent-Length: {len(BODY)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + BODY


def _send(port: int, raw: bytes) -> bytes:
    """Send one request on a new connection; return the whole answer (read until closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _load(port: int, raw: bytes, requests: int, seconds: float) -> tuple[int, float]:
    """Send ``raw`` ``requests`` times (or for ``seconds``) from CONCURRENCY threads.

    Returns:
        ``(answered, elapsed seconds)``.

    Raises:
        Failure: an answer was not 200 or 201 (its first bytes in the message).
    """
    lock = threading.Lock()
    state = {"left": requests, "done": 0}
    errors: list[str] = []
    deadline = perf_counter() + seconds

    def worker() -> None:
        while perf_counter() < deadline:
            with lock:
                if state["left"] <= 0 or errors:
                    return
                state["left"] -= 1
            try:
                answer = _send(port, raw)
            except OSError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                return
            if answer[9:12] not in (b"200", b"201"):
                errors.append(answer[:400].decode("latin-1"))
                return
            with lock:
                state["done"] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(CONCURRENCY)]
    start = perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = perf_counter() - start
    if errors:
        raise Failure(f"HTTP {raw.split(b' ', 2)[1].decode()}: {errors[0]}")
    return state["done"], elapsed


def _worker_pid(master: int) -> int:
    """Return the pid of gunicorn ``master``'s one worker (a child found in ``/proc``)."""
    end = time.monotonic() + 30
    while time.monotonic() < end:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    return int(entry.name)
        time.sleep(0.1)
    raise Failure("gunicorn's worker process was not found")


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, seconds) process ``pid`` has used so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _member_token() -> str:
    """Create (once) the organization ``acme``, a member of it and their token; return the key."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from payments.models import Organization

    user, _ = get_user_model().objects.get_or_create(username="bench-member")
    organization, _ = Organization.objects.get_or_create(slug="acme", defaults={"name": "Acme"})
    organization.members.add(user)
    Organization.objects.get_or_create(slug="globex", defaults={"name": "Globex"})
    return str(Token.objects.get_or_create(user=user)[0].key)


def _reset_read_model() -> None:
    from eventstore.models import Checkpoint
    from payments.models import PaymentSummary

    PaymentSummary.objects.all().delete()
    Checkpoint.objects.all().delete()


def _start_server(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.http_settings",
        "PYTHONPATH": str(REPO_ROOT),
        "EVENTSTORE_BACKEND": "memory",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "gyroscops.wsgi:application",
    ]
    server = subprocess.Popen(command, cwd=REPO_ROOT, env=env)  # noqa: S603 - our own command
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if server.poll() is not None:
            raise Failure(f"gunicorn exited at start (code {server.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise Failure("gunicorn did not listen within 60 s")


def _stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(5)


def sql_per_post(token: str) -> tuple[int, int, int]:
    """Count the SQL of ``POST /api/payments/`` in this process (see the module).

    Returns:
        ``(statements of a later request, of the user's first one, transaction control
        statements of a later request)``; the worst of three later requests.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from eventstore import eventstores
    from eventstore.queries.scope import forget_scopes

    eventstores["default"].clear()
    _reset_read_model()
    forget_scopes()
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    counts = []
    for _ in range(4):
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/payments/", BODY, content_type="application/json")
        check(response.status_code == 201, f"SQL count: POST answered {response.status_code}")
        sql = [query["sql"] for query in queries.captured_queries]
        control = [s for s in sql if s.startswith(TRANSACTION_CONTROL)]
        counts.append((len(sql) - len(control), len(control)))
    eventstores["default"].clear()
    _reset_read_model()
    later = max(counts[1:])
    return later[0], counts[0][0], later[1]


def http_post(config: Config, fixtures: Fixtures) -> list[Row]:
    """The HTTP rows (see the module): POST vs DRF echo, POST vs bare view, SQL per POST."""
    from django.core.management import call_command

    from payments.models import PaymentSummary

    progress("migrating the temporary database")
    call_command("migrate", verbosity=0, interactive=False)
    token = _member_token()
    _reset_read_model()
    requests = max(20, config.http_requests // ROUNDS)
    raws = {side: _raw_request(path, token) for side, path in SIDES.items()}
    rates: dict[str, list[float]] = {side: [] for side in SIDES}
    cpu: dict[str, list[float]] = {side: [] for side in SIDES}  # worker CPU s per request
    posts = 0
    port = _free_port()
    progress(f"gunicorn on 127.0.0.1:{port}, {ROUNDS} rounds × {requests} requests per side")
    server = _start_server(port)
    try:
        worker = _worker_pid(server.pid)
        for side, raw in raws.items():  # warm-up: imports, connections, caches
            done, _elapsed = _load(port, raw, 50, 30)
            posts += done if side == "post" else 0
        order = list(SIDES)
        for number in range(ROUNDS):
            for side in order[number % len(order) :] + order[: number % len(order)]:
                used = _cpu_seconds(worker)
                done, elapsed = _load(port, raws[side], requests, SECONDS_PER_SIDE)
                cpu[side].append((_cpu_seconds(worker) - used) / done)
                rates[side].append(done / elapsed)
                posts += done if side == "post" else 0
            progress(
                f"round {number + 1}: "
                + ", ".join(
                    f"{side} {rates[side][-1]:,.0f}/s ({cpu[side][-1] * 1e3:.2f} ms CPU)"
                    for side in SIDES
                )
                + f"; post/echo {rates['post'][-1] / rates['echo'][-1]:.2f}"
            )
    finally:
        _stop_server(server)
    check(
        PaymentSummary.objects.count() == posts,
        f"HTTP: {posts} payments acknowledged, {PaymentSummary.objects.count()} in the read model",
    )
    statements, first, control = sql_per_post(token)
    post, echo, bare = (statistics.median(rates[side]) for side in SIDES)
    post_cpu, echo_cpu, bare_cpu = (statistics.median(cpu[side]) for side in SIDES)
    server_note = "gunicorn 1 sync worker, member's token, req/s"
    cpu_note = "the worker's CPU time per request (user + system), less exposed to a busy machine"
    return [
        Row(
            f"HTTP POST /api/payments/ ({server_note}; peer: DRF echo view, same auth)",
            post,
            echo,
            "/s",
            "≥ 0.5 × peer",
            post >= 0.5 * echo,
        ),
        Row(
            f"HTTP POST /api/payments/ ({server_note}; peer: bare Django JSON view)",
            post,
            bare,
            "/s",
            "—",
            None,
        ),
        Row(
            f"HTTP POST /api/payments/: {cpu_note}; peer: DRF echo view",
            post_cpu,
            echo_cpu,
            "s",
            "≥ 0.5 × peer",
            echo_cpu >= 0.5 * post_cpu,
        ),
        Row(
            f"HTTP POST /api/payments/: {cpu_note}; peer: bare Django JSON view",
            post_cpu,
            bare_cpu,
            "s",
            "—",
            None,
        ),
        Row(
            f"SQL statements per POST /api/payments/ (member; first request {first}; "
            f"+{control} transaction control)",
            statements,
            None,
            "n",
            "≤ 4",
            statements <= 4,
        ),
    ]


#: The workloads of this module, by the names ``--only`` takes.
WORKLOADS: dict[str, Callable[[Config, Fixtures], list[Row]]] = {"http": http_post}
#: They run last (after the memory workloads, before PostgreSQL's).
RUN_ORDER = ("http",)
