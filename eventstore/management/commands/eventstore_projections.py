"""``manage.py eventstore_projections run|status|rebuild``: run, watch and rebuild projections.

- ``run [--once] [NAME ...]``: the daemon runner (:mod:`eventstore.projections.daemon`);
  ``--once`` catches up and exits (status 1 if a projection is stalled).
- ``status [--json] [NAME ...]``: position, store's last position, lag, status, last error.
- ``rebuild NAME``: reset the view and apply the whole history with a progress
  bar; ends caught up. On PostgreSQL the old view stays readable until the
  rebuilt one commits (one transaction); SQLite readers may wait while it writes.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore.projections import ProjectionError, get_projection, projections, rebuild
from eventstore.projections.daemon import Daemon
from eventstore.projections.status import status_table


class Command(BaseCommand):
    help = "Run (daemon), show the status of, or rebuild the projections of EVENTSTORE_PROJECTIONS."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Follow the store and keep projections caught up.")
        run.add_argument("names", nargs="*", metavar="NAME", help="Only these projections.")
        run.add_argument("--once", action="store_true", help="Catch up once, then exit.")
        run.add_argument("--poll-interval", type=float, default=1.0, help="Seconds (default 1).")
        run.add_argument(
            "--no-listen", action="store_true", help="Poll only (no PostgreSQL LISTEN)."
        )
        run.add_argument(
            "--wait",
            action="store_true",
            help="Wait for a projection another runner holds (default: skip it, and say so).",
        )
        run.add_argument("--batch-size", type=int, default=None)
        status = sub.add_parser("status", help="Position, lag and status of each projection.")
        status.add_argument("names", nargs="*", metavar="NAME")
        status.add_argument("--json", action="store_true", help="Print JSON.")
        again = sub.add_parser("rebuild", help="Reset a projection and apply the whole history.")
        again.add_argument("name", metavar="NAME")
        again.add_argument("--batch-size", type=int, default=None)

    def _chosen(self, names: list[str]) -> list[Any]:
        try:
            return (
                [get_projection(name) for name in names] if names else list(projections().values())
            )
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _run(self, options: dict[str, Any]) -> None:
        chosen = self._chosen(options["names"])
        if not chosen:
            raise CommandError("No projections declared in EVENTSTORE_PROJECTIONS.")
        daemon = Daemon(
            chosen,
            poll_interval=options["poll_interval"],
            listen=not options["no_listen"],
            lock="wait" if options["wait"] else "skip",
            batch_size=options["batch_size"],
            say=lambda line: self.stdout.write(line),
        )
        self.stdout.write(
            f"Running {', '.join(p.name for p in chosen)} as {daemon.runner}"
            + (" (once)" if options["once"] else "; stop with SIGTERM or Ctrl-C")
        )
        results = daemon.run(once=options["once"])
        stalled = [name for name, result in results.items() if result.status == "stalled"]
        if stalled:
            raise CommandError(f"Stalled: {', '.join(stalled)} (see eventstore_projections status)")
        self.stdout.write("Stopped." if not options["once"] else "Caught up.")

    def _status(self, options: dict[str, Any]) -> None:
        self._chosen(options["names"])  # refuse unknown names
        rows = status_table(options["names"] or None)
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        self.stdout.write(
            f"{'projection':<24} {'status':<10} {'position':>10} {'last':>10} "
            f"{'lag':>8} {'lag s':>9}"
        )
        for row in rows:
            self.stdout.write(
                f"{row['name']:<24} {row['status']:<10} {row['position']:>10} "
                f"{row['last_position']:>10} {row['lag_events']:>8} {row['lag_seconds']:>9.1f}"
            )
            if row["error"]:
                error = row["error"]
                last_line = (error["text"].strip().splitlines() or [""])[-1]
                self.stdout.write(
                    f"  error at event {error['event_id']} (position {error['position']}): "
                    f"{last_line}"
                )

    def _refuse_an_empty_process_memory_store(self, projection: Any) -> None:
        """Refuse to rebuild from this process's empty memory store a view built from events.

        A process-memory store without a journal holds its events in the process
        that appended them (the server): a command run in another process sees it
        empty, and rebuilding from it would empty the view.
        """
        from eventstore.backends.memory import InMemoryEventStore
        from eventstore.handler import eventstores
        from eventstore.models import Checkpoint

        store = eventstores[projection.store_alias]
        if not isinstance(store, InMemoryEventStore) or store.options["JOURNAL"] is not None:
            return
        if store.last_position() != 0:
            return
        applied = (
            Checkpoint.objects.using(projection.database)
            .filter(name=projection.name)
            .values_list("position", flat=True)
            .first()
        )
        if applied:
            raise CommandError(
                f"Not rebuilding {projection.name}: its checkpoint says it applied events up to "
                f"position {applied}, but this process's memory store {projection.store_alias!r} "
                "is empty: the events of a process-memory store live in the process that "
                "serves them (the server). Rebuild there, or use the database backend "
                "(eventstore.backends.database.DatabaseEventStore). Nothing was changed."
            )

    def _rebuild(self, options: dict[str, Any]) -> None:
        from tqdm import tqdm

        (projection,) = self._chosen([options["name"]])
        self._refuse_an_empty_process_memory_store(projection)
        bar = tqdm(
            total=None,
            unit="ev",
            desc=projection.name,
            file=self.stderr,
            disable=options["verbosity"] < 1,
            dynamic_ncols=True,
        )
        self.stdout.write(
            "The old view stays readable until the rebuilt one commits (PostgreSQL; "
            "SQLite readers may wait)."
        )

        def progress(position: int, target: int) -> None:
            bar.total = target
            bar.update(position - bar.n)

        try:
            result = rebuild(projection, batch_size=options["batch_size"], progress=progress)
        except ProjectionError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"{projection.name} rebuilt: {result.applied} events applied, caught up at "
                f"position {result.position}."
            )
        )
        if result.notes:
            self.stdout.write(
                self.style.WARNING(f"{len(result.notes)} item(s) left out of the view:")
            )
            for note in result.notes:
                self.stdout.write(f"- {note}")
