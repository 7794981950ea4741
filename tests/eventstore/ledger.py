"""A tiny test-only domain for the event store's own tests: bank accounts.

The app's tests build their data with this domain instead of the demo site's
``payments`` app, so they keep working wherever ``eventstore`` is reused.
Event and aggregate types are named ``ledger.*`` so that they cannot clash
with a real domain's.

State of an :class:`Account` (``state()``):

- ``status``: None before it is opened, ``"empty"`` with a zero balance,
  ``"in_credit"`` with a positive one;
- ``balance``: a decimal string (amounts are ``Decimal`` with two places).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from eventstore.aggregates import Aggregate, AggregateRepository, applies
from eventstore.events import DomainEvent, event
from eventstore.records import RecordedEvent

__all__ = [
    "Account",
    "AccountOpened",
    "MoneyDeposited",
    "MoneyWithdrawn",
    "accounts",
    "organizations_of",
    "save",
]


@event
class AccountOpened(DomainEvent, event_type="ledger.AccountOpened"):
    """``owner`` opened an account in ``currency``."""

    owner: str
    currency: str


@event
class MoneyDeposited(DomainEvent, event_type="ledger.MoneyDeposited"):
    """``amount`` (in the account's currency) was paid in."""

    amount: Decimal


@event
class MoneyWithdrawn(DomainEvent, event_type="ledger.MoneyWithdrawn"):
    """``amount`` (in the account's currency) was taken out."""

    amount: Decimal


class Account(Aggregate):
    """One account; it cannot go below a zero balance."""

    aggregate_type = "ledger.Account"
    # Installed only by tests.eventstore.ledger_urls: elsewhere the pages fall back
    # to the event store's own API.
    api_url_names = {"history": "ledger-account-history", "replay": "ledger-account-replay"}

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.owner: str | None = None
        self.currency: str | None = None
        self.balance = Decimal("0.00")

    # -- commands ------------------------------------------------------------------------

    def open(self, owner: str, currency: str) -> None:
        if self.owner is not None:
            raise ValueError(f"Account {self.aggregate_id!r} is already open.")
        self.record(AccountOpened(owner=owner, currency=currency))

    def deposit(self, amount: str | Decimal) -> None:
        value = self._amount(amount)
        self.record(MoneyDeposited(amount=value))

    def withdraw(self, amount: str | Decimal) -> None:
        value = self._amount(amount)
        if value > self.balance:
            raise ValueError(f"Cannot withdraw {value}: the balance is {self.balance}.")
        self.record(MoneyWithdrawn(amount=value))

    def _amount(self, amount: str | Decimal) -> Decimal:
        if self.owner is None:
            raise ValueError(f"Account {self.aggregate_id!r} is not open.")
        value = Decimal(amount)
        if value <= 0:
            raise ValueError("Amounts are positive.")
        return value

    # -- state changes -------------------------------------------------------------------

    @applies(AccountOpened)
    def _opened(self, event: AccountOpened) -> None:
        self.owner = event.owner
        self.currency = event.currency

    @applies(MoneyDeposited)
    def _deposited(self, event: MoneyDeposited) -> None:
        self.balance += event.amount

    @applies(MoneyWithdrawn)
    def _withdrawn(self, event: MoneyWithdrawn) -> None:
        self.balance -= event.amount

    def state(self) -> dict[str, Any]:
        if self.owner is None:
            status = None
        else:
            status = "in_credit" if self.balance > 0 else "empty"
        return {
            "account_id": self.aggregate_id,
            "owner": self.owner,
            "currency": self.currency,
            "status": status,
            "balance": str(self.balance),
            "version": self.version,
        }


def accounts(store: Any) -> AggregateRepository[Account]:
    """Return a repository of accounts kept in ``store``."""
    return AggregateRepository(store, Account)


def save(
    store: Any,
    account: Account,
    *,
    username: str,
    organization_id: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[RecordedEvent]:
    """Append ``account``'s pending events with who did it and for which organization."""
    metadata = {"username": username, "organization_id": organization_id, **(extra or {})}
    return accounts(store).save(
        account, metadata=metadata, correlation_id=correlation_id, causation_id=causation_id
    )


def organizations_of(user: Any) -> Iterable[str]:
    """``EVENTSTORE_USER_ORGANIZATIONS`` for tests: a user's organizations are their groups."""
    return user.groups.values_list("name", flat=True)
