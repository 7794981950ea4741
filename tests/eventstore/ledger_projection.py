"""A test-only read model of the ledger: one row per account, kept by a checkpointed projection.

:class:`AccountBalances` (``ledger.balances``) is what the projection tests of the
event store declare in ``settings.EVENTSTORE_PROJECTIONS`` (by :data:`PATH`), in
place of a real domain's read model. Like one, it is idempotent: each batch
replays the accounts it touches from the store and rewrites their rows.

The rows live in a plain table (:data:`TABLE`) of the projection's database,
written through that database's connection: inside the runner's transaction,
so they commit or roll back with the checkpoint exactly as a Django model's
would, without a models app in the tests. ``opened_position`` is unique, like
a real view's position column: continuing old rows on a new history collides.
:func:`create_table` makes the table (inside a test's transaction it is rolled
back with the rest).
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from eventstore.projections import Projection
from eventstore.records import RecordedEvent

from .ledger import Account, AccountOpened, MoneyDeposited, MoneyWithdrawn

__all__ = ["PATH", "TABLE", "AccountBalances", "balances", "create_table", "row_of"]

#: The dotted path to give ``EVENTSTORE_PROJECTIONS``.
PATH = "tests.eventstore.ledger_projection.AccountBalances"
TABLE = "ledger_balances"
COLUMNS = ("account_id", "owner", "currency", "balance", "version", "opened_position")


def create_table(using: str = "default") -> None:
    """Create the (empty) table of the view in database ``using``."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (account_id VARCHAR(255) PRIMARY KEY, "
            "owner VARCHAR(255) NOT NULL, currency VARCHAR(3) NOT NULL, "
            "balance VARCHAR(32) NOT NULL, version INTEGER NOT NULL, "
            "opened_position BIGINT NOT NULL UNIQUE)"
        )
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608


def balances(using: str = "default") -> list[tuple[str, int]]:
    """``(account_id, opened_position)`` of every row, by account."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT account_id, opened_position FROM {TABLE} ORDER BY account_id")  # noqa: S608
        return [(account_id, position) for account_id, position in cursor.fetchall()]


def row_of(account_id: str, using: str = "default") -> dict[str, Any]:
    """The row of ``account_id``, as a dict of :data:`COLUMNS`.

    Raises:
        LookupError: if the view has no row for it.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE account_id = %s",  # noqa: S608
            [account_id],
        )
        found = cursor.fetchone()
    if found is None:
        raise LookupError(account_id)
    return dict(zip(COLUMNS, found, strict=True))


class AccountBalances(Projection):
    """``ledger.balances``: owner, currency, balance and version of each open account."""

    name = "ledger.balances"
    event_types = [e.event_type for e in (AccountOpened, MoneyDeposited, MoneyWithdrawn)]

    def apply(self, events: list[RecordedEvent], store: Any) -> None:
        touched = {e.aggregate_id for e in events if e.aggregate_type == Account.aggregate_type}
        with connections[self.database].cursor() as cursor:
            for account_id in sorted(touched):
                history = store.read_aggregate(account_id)
                account = Account.from_events(account_id, history)
                cursor.execute(f"DELETE FROM {TABLE} WHERE account_id = %s", [account_id])  # noqa: S608
                if account.owner is None:
                    continue
                cursor.execute(
                    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        account_id,
                        account.owner,
                        account.currency,
                        str(account.balance),
                        account.version,
                        history[0].position,
                    ],
                )

    def reset(self) -> None:
        with connections[self.database].cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
