"""The benchmark's PostgreSQL server: two throw-away databases, created at start, dropped at exit.

``run.py`` calls :func:`create_databases` *before* ``django.setup()``: our
store's database reaches Django through ``EVENTSTORE_TEST_POSTGRES_URL``,
which ``gyroscops.settings`` reads to add the ``"postgres"`` alias. So this
module imports nothing from Django or the project.

Each side gets its own fresh database on the same server,
``gyroscops_bench_<random>_ours`` and ``gyroscops_bench_<random>_peer``.
They are dropped at exit (``DROP DATABASE … WITH (FORCE)``, PostgreSQL 13+);
a run killed with SIGKILL leaves them behind, to drop by that prefix.
"""

from __future__ import annotations

import atexit
import secrets
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

#: The server's maintenance database, where the bench databases are created and dropped.
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
#: The PostgreSQL workloads (``benchmarks.pg_workloads``), named here for ``run.py``'s
#: decision to create the databases, which comes before the workloads can be imported.
WORKLOAD_NAMES = (
    "pg_append",
    "pg_writers",
    "pg_read_aggregate",
    "pg_catch_up",
    # benchmarks.projection_workloads, on the same databases:
    "pg_projection_catch_up",
    "pg_projection_rebuild",
    "pg_projection_lag",
)
#: PostgreSQL workloads whose timed code runs in other processes: ``--profile`` cannot see it.
NOT_PROFILABLE = ("pg_writers",)
PREFIX = "gyroscops_bench_"


@dataclass(frozen=True)
class BenchDatabases:
    """The two databases of one run, on the server of ``admin_url``."""

    admin_url: str
    server_version: str
    ours: str
    peer: str

    def url(self, dbname: str) -> str:
        """Return ``admin_url`` pointing at database ``dbname`` (for dj-database-url)."""
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{dbname}"))

    def connect_kwargs(self, dbname: str) -> dict[str, Any]:
        """Return host, port, user and password of the server, with ``dbname``."""
        params = conninfo_to_dict(self.admin_url)
        return {
            "dbname": dbname,
            "host": params.get("host", "127.0.0.1"),
            "port": params.get("port", "5432"),
            "user": params.get("user", "postgres"),
            "password": params.get("password", ""),
        }


def create_databases(admin_url: str, timeout: int = 3) -> BenchDatabases:
    """Create the two databases and register their drop at exit.

    Raises:
        psycopg.Error: the server did not answer within ``timeout`` seconds,
            or refused to create a database.
    """
    token = secrets.token_hex(4)
    names = (f"{PREFIX}{token}_ours", f"{PREFIX}{token}_peer")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=timeout) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        for name in names:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            atexit.register(drop_database, admin_url, name)
    return BenchDatabases(admin_url, version.split()[0], *names)


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name``, closing any connection still open on it; report a failure."""
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(statement)
    except psycopg.Error as exc:
        print(f"Could not drop the bench database {name}: {exc}", file=sys.stderr)
