"""Payment commands and their handler: load by replay, decide, append, publish.

The handler follows the source document's flow: it loads the payment from
its events, lets the aggregate check the rules and record new events, and
appends them with the version it loaded (so a concurrent writer makes the
append fail with ``ConcurrencyError`` instead of losing an update). The store
publishes the appended batch on the event bus once it is recorded.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from eventstore import eventstore as default_store
from eventstore.aggregates import AggregateRepository
from eventstore.context import get_correlation_id, new_correlation_id
from eventstore.records import RecordedEvent

from .aggregate import Payment
from .exceptions import NotAMember, PaymentError, PaymentNotFound

__all__ = [
    "CommandContext",
    "FailPayment",
    "PaymentCommandHandler",
    "ProcessPayment",
    "RefundPayment",
    "PAYMENT_ID_PATTERN",
]

#: A payment id: 1 to 64 letters, digits, ``-`` or ``_``.
PAYMENT_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def validate_payment_id(payment_id: object) -> str:
    """Return ``payment_id`` if it matches :data:`PAYMENT_ID_PATTERN`.

    Raises:
        PaymentError: naming the ``payment_id`` field otherwise.
    """
    if not isinstance(payment_id, str) or not PAYMENT_ID_PATTERN.fullmatch(payment_id):
        raise PaymentError("A payment id is 1 to 64 letters, digits, '-' or '_'.", "payment_id")
    return payment_id


@dataclass(frozen=True)
class CommandContext:
    """Who runs a command and in which chain.

    Attributes:
        user_id: the authenticated user's id (as a string), or None for a system process.
        username: the user's login name, for display.
        correlation_id: the request's id; by default the current correlation scope's
            (set by the middleware), or a new one.
        command_id: this command's id, recorded as the causation id of its events.
        organizations: the organization ids the user may act for; None means any
            (staff, system processes). A payment of another organization is
            reported as not found.
        once: run the command at most once per ``command_id``: if events recorded
            with this command id are in the payment's stream, the command already
            ran (an earlier attempt of a retried request) and its answer is given
            again, nothing appended. The API sets it for a request with an
            ``Idempotency-Key``, whose command id is the same for every retry.
    """

    user_id: str | None = None
    username: str | None = None
    organizations: frozenset[str] | None = None
    correlation_id: str = field(
        default_factory=lambda: get_correlation_id() or new_correlation_id()
    )
    command_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    once: bool = False


@dataclass(frozen=True)
class ProcessPayment:
    """Record a successful payment of ``amount`` (decimal string or Decimal) ``currency``."""

    payment_id: str
    amount: Any
    currency: str
    organization_id: str


@dataclass(frozen=True)
class RefundPayment:
    """Give back ``amount`` of a processed payment."""

    payment_id: str
    amount: Any
    refund_id: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class FailPayment:
    """Record a failed attempt to pay, with its ``reason``."""

    payment_id: str
    amount: Any
    currency: str
    organization_id: str
    reason: str


class PaymentCommandHandler:
    """Run payment commands against a store (the default store unless given).

    Every method returns ``(payment, recorded_events)``: the payment's new state
    and the events the command appended. With ``context.once``, a command whose
    ``command_id`` is already in the payment's stream is not run again: the
    answer is the payment as that command left it, with the events it recorded.

    Raises (every method):
        PaymentError (and subclasses): a rule refused the command; nothing appended.
        eventstore.exceptions.ConcurrencyError: another writer changed the payment
            between load and append; nothing appended, retry the command.
        eventstore.exceptions.EventStoreFull: the store's bound is reached.
    """

    def __init__(self, store: Any = None) -> None:
        self.repository = AggregateRepository(store or default_store, Payment)

    def process(
        self, command: ProcessPayment, context: CommandContext
    ) -> tuple[Payment, list[RecordedEvent]]:
        """Process a payment; a payment id can go through only once."""
        payment = self._load(command.payment_id, context)
        if context.once and context.command_id in payment.commands:
            return self._done(payment, context)
        payment.process(
            command.amount, command.currency, _organization(command.organization_id, context)
        )
        return payment, self._save(payment, context, "ProcessPayment")

    def refund(
        self, command: RefundPayment, context: CommandContext
    ) -> tuple[Payment, list[RecordedEvent]]:
        """Refund all or part of what remains of a processed payment.

        A ``refund_id`` already used on this payment with the same amount is a
        replay: no event is appended and the recorded events returned are empty.
        """
        payment = self._load(command.payment_id, context)
        if context.once and context.command_id in payment.commands:
            return self._done(payment, context)
        payment.refund(command.amount, command.refund_id, command.currency)
        # A refund is caused by the payment it gives back: link it to that event.
        return payment, self._save(
            payment, context, "RefundPayment", causation_id=payment.processed_event_id
        )

    def fail(
        self, command: FailPayment, context: CommandContext
    ) -> tuple[Payment, list[RecordedEvent]]:
        """Record a failed payment attempt (the payment may be retried later)."""
        payment = self._load(command.payment_id, context)
        if context.once and context.command_id in payment.commands:
            return self._done(payment, context)
        payment.fail(
            command.amount,
            command.currency,
            _organization(command.organization_id, context),
            command.reason,
        )
        return payment, self._save(payment, context, "FailPayment")

    def _done(
        self, payment: Payment, context: CommandContext
    ) -> tuple[Payment, list[RecordedEvent]]:
        """The answer of a command already run (its ``command_id`` is in the stream).

        A retry of the same command (the API pins the command id of a request with
        an ``Idempotency-Key``) gets the first run's result again, appending nothing:
        the payment as the command left it and the events it recorded.
        """
        version = payment.commands[context.command_id]
        history = self.repository.store.read_aggregate(payment.payment_id, 1, version)
        done = [e for e in history if e.metadata.get("command_id") == context.command_id]
        return Payment.from_events(payment.payment_id, history), done

    def _load(self, payment_id: str, context: CommandContext) -> Payment:
        payment = self.repository.load(validate_payment_id(payment_id))
        if (
            payment.version
            and context.organizations is not None
            and payment.organization_id not in context.organizations
        ):
            raise PaymentNotFound(payment_id)
        return payment

    def _save(
        self,
        payment: Payment,
        context: CommandContext,
        command: str,
        *,
        causation_id: str | None = None,
    ) -> list[RecordedEvent]:
        """Append the payment's new events.

        Metadata names who (``user_id``, ``username``), for whom
        (``organization_id``) and which command (``command``, ``command_id``);
        the causation id is the command's, unless a causing event is given.
        """
        metadata = {
            "organization_id": payment.organization_id,
            "user_id": context.user_id,
            "username": context.username,
            "command": command,
            "command_id": context.command_id,
        }
        records = self.repository.save(
            payment,
            metadata=metadata,
            correlation_id=context.correlation_id,
            causation_id=causation_id or context.command_id,
        )
        for record in records:
            if record.event_type == "PaymentProcessed":
                payment.processed_event_id = str(record.event_id)
        return records


def _organization(organization_id: object, context: CommandContext) -> str:
    if (
        not isinstance(organization_id, str)
        or not organization_id.strip()
        or len(organization_id) > 64
    ):
        raise PaymentError("Give an organization id of 1 to 64 characters.", "organization_id")
    organization_id = organization_id.strip()
    if context.organizations is not None and organization_id not in context.organizations:
        raise NotAMember(organization_id)
    return organization_id
