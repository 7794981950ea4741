"""Build a realistic demo history: organizations, users and 90 days of payments.

Used by ``manage.py seed_demo`` and ``manage.py rundemo``. The history goes
through the real command handler (so every rule applies) with the store's
clock moved along a timeline, and is reproducible for a given seed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from eventstore import eventstore as default_store

from .commands import (
    CommandContext,
    FailPayment,
    PaymentCommandHandler,
    ProcessPayment,
    RefundPayment,
)
from .models import Organization

__all__ = ["DEMO_ORGANIZATIONS", "DEMO_USERS", "SeedReport", "seed_demo"]

DEMO_ORGANIZATIONS = {
    "acme": "Acme Corporation",
    "globex": "Globex",
    "initech": "Initech",
    "umbrella": "Umbrella Cloud",
}
#: username → organizations (demo members; their password is their username + "-demo").
DEMO_USERS = {
    "alice": ["acme"],
    "bob": ["acme", "globex"],
    "carol": ["globex"],
    "dave": ["initech"],
    "erin": ["umbrella", "initech"],
}
CURRENCIES = [("EUR", 0.5), ("USD", 0.3), ("GBP", 0.1), ("JPY", 0.07), ("KWD", 0.03)]
FAILURE_REASONS = [
    "card_declined",
    "insufficient_funds",
    "expired_card",
    "3-D Secure authentication failed",
    "Zahlung abgelehnt: Karte gesperrt",
]


@dataclass
class SeedReport:
    """What :func:`seed_demo` created."""

    organizations: int = 0
    users: int = 0
    payments: int = 0
    events: int = 0


def ensure_demo_accounts() -> dict[str, Any]:
    """Create the demo organizations and users (idempotent); return users by name."""
    organizations = {
        slug: Organization.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in DEMO_ORGANIZATIONS.items()
    }
    users = {}
    user_model = get_user_model()
    for username, slugs in DEMO_USERS.items():
        user, made = user_model.objects.get_or_create(username=username)
        if made:
            user.set_password(f"{username}-demo")
            user.save()
        for slug in slugs:
            organizations[slug].members.add(user)
        users[username] = user
    return users


def _amount(rng: random.Random, currency: str) -> Decimal:
    major = rng.choice([9, 19, 49, 99, 149, 250, 499, 1200, 4999])
    if currency == "JPY":
        return Decimal(major * 150)
    if currency == "KWD":
        return (Decimal(major) * Decimal("0.307")).quantize(Decimal("0.001"))
    cents = rng.choice([0, 0, 50, 99])
    return Decimal(major) + Decimal(cents) / 100


def seed_demo(
    *, payments: int = 300, days: int = 90, seed: int = 2024, store: Any = None
) -> SeedReport:
    """Append a reproducible history of ``payments`` payments over the last ``days`` days.

    Roughly: 85 % go through (a third of them after one or two failed attempts),
    15 % only fail; a quarter of the processed ones get one or two refunds
    (some full). Monthly billing runs share one correlation id across several
    payments of an organization.
    """
    store = store or default_store
    rng = random.Random(seed)
    users = ensure_demo_accounts()
    members = {
        slug: [name for name, slugs in DEMO_USERS.items() if slug in slugs]
        for slug in DEMO_ORGANIZATIONS
    }
    now = timezone.now()
    start = now - timedelta(days=days)
    steps: list[tuple[datetime, int, Any, str, str]] = []
    billing_runs: dict[tuple[str, int], str] = {}
    for number in range(payments):
        organization = rng.choice(list(DEMO_ORGANIZATIONS))
        username = rng.choice(members[organization])
        currency = rng.choices([c for c, _ in CURRENCIES], [w for _, w in CURRENCIES])[0]
        amount = _amount(rng, currency)
        when = start + timedelta(seconds=rng.uniform(0, days * 86400 - 7200))
        payment_id = f"pay-{number + 1:05d}"
        month_key = (organization, when.month)
        if rng.random() < 0.3:
            correlation = billing_runs.setdefault(month_key, f"billing-{organization}-{when:%Y-%m}")
        else:
            correlation = str(uuid.uuid4())
        roll = rng.random()
        attempts = rng.choice([1, 1, 2]) if roll < 0.3 or roll >= 0.85 else 0
        for attempt in range(attempts):
            steps.append(
                (
                    when + timedelta(seconds=attempt * 40),
                    number,
                    FailPayment(
                        payment_id, amount, currency, organization, rng.choice(FAILURE_REASONS)
                    ),
                    username,
                    correlation,
                )
            )
        if roll >= 0.85:
            continue
        processed_at = when + timedelta(seconds=attempts * 40 + 5)
        steps.append(
            (
                processed_at,
                number,
                ProcessPayment(payment_id, amount, currency, organization),
                username,
                correlation,
            )
        )
        if rng.random() < 0.25:
            refund_at = processed_at + timedelta(hours=rng.uniform(1, 24 * 10))
            full = rng.random() < 0.4
            first = amount if full else (amount / 2).quantize(amount)
            refund_user = rng.choice(members[organization])
            refund_correlation = str(uuid.uuid4())
            steps.append(
                (
                    refund_at,
                    number,
                    RefundPayment(payment_id, first),
                    refund_user,
                    refund_correlation,
                )
            )
            second = ((amount - first) / 2).quantize(amount)
            if not full and second > 0 and rng.random() < 0.5:
                steps.append(
                    (
                        refund_at + timedelta(minutes=rng.uniform(5, 600)),
                        number,
                        RefundPayment(payment_id, second),
                        refund_user,
                        refund_correlation,
                    )
                )
    steps = [step for step in steps if step[0] < now]
    steps.sort(key=lambda step: (step[0], step[1]))
    handler = PaymentCommandHandler(store)
    report = SeedReport(organizations=len(DEMO_ORGANIZATIONS), users=len(users))
    original_clock = store.clock
    try:
        for when, _number, command, username, correlation in steps:
            store.clock = lambda when=when: when
            context = CommandContext(
                user_id=str(users[username].pk), username=username, correlation_id=correlation
            )
            method = {
                ProcessPayment: handler.process,
                RefundPayment: handler.refund,
                FailPayment: handler.fail,
            }[type(command)]
            _payment, events = method(command, context)
            report.events += len(events)
            if isinstance(command, ProcessPayment):
                report.payments += 1
    finally:
        store.clock = original_clock
    return report
