"""Hand-made mutations of the API views' organization-scoping lines; never part of `make test`.

mutmut skips decorated functions, and every API view's ``get`` is decorated
(``extend_schema``), so the scoping lines of the views are mutated here instead:
each mutation below replaces one exact piece of code, the view tests run in a
scratch copy of the working tree, and a mutation that leaves them passing is
reported as a survivor (unless it is listed as equivalent, with the reason).

    .venv/bin/python .ci/mutation_views.py [--keep] [NAME ...]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/eventstore/test_api_scoping.py", "tests/eventstore/test_event_detail.py"]

VIEWS = "eventstore/api/views.py"
REPLAY = "eventstore/api/replay.py"
ANALYTICS = "eventstore/api/analytics.py"

# name: (file, original, mutated, why it is equivalent or None)
MUTATIONS: dict[str, tuple[str, str, str, str | None]] = {
    "list: no scope": (
        VIEWS,
        "scope = visible_organizations(request.user)\n        if scope is not None and not",
        "scope = None\n        if scope is not None and not",
        None,
    ),
    "list: empty-scope shortcut inverted": (
        VIEWS,
        "if scope is not None and not scope:",
        "if scope is not None and scope:",
        None,
    ),
    "list: empty-scope shortcut removed": (
        VIEWS,
        "if scope is not None and not scope:",
        "if False:",
        "a shortcut: without it an empty scope filters the QuerySet by an empty list, and "
        "scoped_criteria returns None on the memory path; both answer the same empty page",
    ),
    "list: queryset scope test inverted": (
        VIEWS,
        "        if scope is not None:\n            queryset = queryset.filter(",
        "        if scope is None:\n            queryset = queryset.filter(",
        None,
    ),
    "list: queryset organization filter deleted": (
        VIEWS,
        "            queryset = queryset.filter(organization_id__in=sorted(scope))\n",
        "            pass\n",
        None,
    ),
    "list: queryset filter keeps one organization": (
        VIEWS,
        "organization_id__in=sorted(scope)",
        "organization_id__in=sorted(scope)[:1]",
        None,
    ),
    "list: queryset filter excludes instead": (
        VIEWS,
        "queryset = queryset.filter(organization_id__in=sorted(scope))",
        "queryset = queryset.exclude(organization_id__in=sorted(scope))",
        None,
    ),
    "list: store criteria unscoped": (
        VIEWS,
        "criteria = scoped_criteria(request.user, filterset.criteria())",
        "criteria = filterset.criteria()",
        None,
    ),
    "list: nothing-visible criteria become everything": (
        VIEWS,
        "            if criteria is None:\n"
        "                return Response(page.response_data([], None, False))\n"
        "            events",
        "            if criteria is None:\n"
        "                criteria = filterset.criteria()\n"
        "            events",
        None,
    ),
    "detail: scope check removed": (
        VIEWS,
        'if scope is not None and event.metadata.get("organization_id") not in scope:',
        "if False:",
        None,
    ),
    "detail: scope check inverted": (
        VIEWS,
        'event.metadata.get("organization_id") not in scope:',
        'event.metadata.get("organization_id") in scope:',
        None,
    ),
    "detail: everyone scoped": (
        VIEWS,
        'if scope is not None and event.metadata.get("organization_id") not in scope:',
        'if event.metadata.get("organization_id") not in (scope or ()):',
        None,
    ),
    "correlation: unscoped": (
        VIEWS,
        'criteria = scoped_criteria(request.user, {"correlation_id": correlation_id})',
        'criteria = {"correlation_id": correlation_id}',
        None,
    ),
    "correlation: nothing-visible becomes everything": (
        VIEWS,
        "events = [] if criteria is None else eventstore.search(**criteria, limit=limit)",
        "events = eventstore.search(\n"
        '        **(criteria or {"correlation_id": correlation_id}), limit=limit\n    )',
        None,
    ),
    "correlation: empty is not a 404": (
        VIEWS,
        '    if not events:\n        raise NotFound("Unknown correlation id.")\n    return events',
        "    return events",
        None,
    ),
    "by-type: unscoped": (
        REPLAY,
        "criteria = scoped_criteria(request.user, wanted)",
        "criteria = wanted",
        None,
    ),
    "by-type: nothing-visible becomes everything": (
        REPLAY,
        "        events = (\n"
        "            []\n"
        "            if criteria is None\n"
        "            else eventstore.search(\n"
        "                **criteria,",
        "        events = (\n"
        "            eventstore.search(\n"
        "                **(criteria or wanted),",
        None,
    ),
    "counts: unscoped": (
        REPLAY,
        "return 0 if scoped is None else eventstore.count(**scoped)",
        "return eventstore.count(**criteria)",
        None,
    ),
    "counts: nothing-visible becomes everything": (
        REPLAY,
        "return 0 if scoped is None else eventstore.count(**scoped)",
        "return eventstore.count(**(criteria if scoped is None else scoped))",
        None,
    ),
    "analytics: unscoped": (
        ANALYTICS,
        "organization_ids=visible_organizations(request.user),",
        "organization_ids=None,",
        None,
    ),
    "analytics: nothing-visible becomes everything": (
        ANALYTICS,
        "organization_ids=visible_organizations(request.user),",
        "organization_ids=visible_organizations(request.user) or None,",
        None,
    ),
}


def copy_tree(target: Path) -> None:
    listed = subprocess.run(  # noqa: S603
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            destination = target / os.fsdecode(name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def run_tests(work: Path) -> bool:
    """Run the view tests on the copy (``python -m pytest`` puts the copy first on sys.path)."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


def main(argv: list[str]) -> int:
    keep = "--keep" in argv
    names = [a for a in argv if a != "--keep"] or list(MUTATIONS)
    work = Path(tempfile.mkdtemp(prefix="mutation-views-"))
    copy_tree(work)
    if not run_tests(work):
        print("the view tests fail without any mutation", file=sys.stderr)
        return 2
    killed, survived, equivalent = [], [], []
    for name in names:
        path, original, mutated, why = MUTATIONS[name]
        file = work / path
        text = file.read_text()
        if text.count(original) != 1:
            print(f"{name}: the original code is not found once in {path}", file=sys.stderr)
            return 2
        file.write_text(text.replace(original, mutated))
        try:
            passed = run_tests(work)
        finally:
            file.write_text(text)
        if not passed:
            killed.append(name)
            verdict = "killed"
        elif why:
            equivalent.append(name)
            verdict = f"survived, equivalent: {why}"
        else:
            survived.append(name)
            verdict = "SURVIVED"
        print(f"{verdict:>8}  {name}", flush=True)
    print(
        f"{len(killed)} killed / {len(killed) + len(survived)} non-equivalent "
        f"({len(equivalent)} equivalent, {len(survived)} survived)"
    )
    if not keep:
        shutil.rmtree(work)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
