"""``manage.py eventstore_erase SUBJECT``: erase a data subject's personal data (crypto-shredding).

``SUBJECT`` is ``<kind>:<id>``, ``user:<id>`` for a Django user (its primary
key, the ``user_id`` the audit trail records). The subject's keys are
destroyed and a ``DataSubjectErased`` event appended; erasing again says it
was already erased. See :mod:`eventstore.privacy.erasure`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore.exceptions import EventStoreError
from eventstore.handler import eventstores
from eventstore.privacy.declarations import parse_subject
from eventstore.privacy.erasure import describe


class Command(BaseCommand):
    help = (
        "Erase a data subject's personal data from the audit trail: destroy their key(s), "
        "so their personal fields read as '[erased]'. SUBJECT is <kind>:<id>, e.g. user:42."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subject", help="<kind>:<id>, e.g. user:42 for the user of id 42.")
        parser.add_argument("--alias", default="default", help="EVENTSTORES alias.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--erased-by", default="command-line", help="Who asked (kept in the erasure event)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        subject = options["subject"]
        try:
            parse_subject(subject)
            store = eventstores[options["alias"]]
        except EventStoreError as exc:
            raise CommandError(str(exc)) from None
        if not options["yes"]:
            try:
                answer = input(
                    f"Erase every personal value of {subject} from {options['alias']!r}? "
                    "This cannot be undone. Type 'yes' to continue: "
                )
            except EOFError:
                self.stdout.write("")  # end the prompt's line
                raise CommandError(
                    "No answer was given (no terminal?): nothing was changed. "
                    "Pass --yes to erase without asking."
                ) from None
            if answer.strip().lower() != "yes":
                raise CommandError("Erasure cancelled: nothing was changed.")
        try:
            erasure = store.erase_subject(subject, erased_by=options["erased_by"])
        except (EventStoreError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(describe(erasure))
