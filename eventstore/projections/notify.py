"""Wake-ups and identity on the database backend.

On PostgreSQL every append sends ``NOTIFY eventstore_events, '<last position>'``
inside its transaction, so it is delivered on commit only (never for a
rolled-back append); a daemon runner ``LISTEN``\\ s on that channel and polls
as the fallback. Other databases send nothing: runners poll.
"""

from __future__ import annotations

from django.db import IntegrityError, connections, transaction

from ..identity import new_identity

__all__ = ["CHANNEL", "database_identity", "notify_append"]

#: The PostgreSQL notification channel of appends.
CHANNEL = "eventstore_events"
_IDENTITY_ROW = "events"


def notify_append(using: str, position: int) -> None:
    """Send the append notification (PostgreSQL only; delivered when the transaction commits)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(position)])


def database_identity(using: str) -> str:
    """Return the identity of the history in database ``using``, creating it once."""
    from ..models import StoreIdentity

    rows = StoreIdentity.objects.using(using)
    row = rows.filter(name=_IDENTITY_ROW).first()
    if row is not None:
        return row.identity
    try:
        with transaction.atomic(using=using):
            return rows.create(name=_IDENTITY_ROW, identity=new_identity()).identity
    except IntegrityError:  # another process created it first
        return rows.get(name=_IDENTITY_ROW).identity
