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
QUERY = "eventstore/queries/analytics.py"

# name: (file, original, mutated, why it is equivalent or None)
# Since the one-search-path refactor every view scopes through
# eventstore.queries.scope (scoped_criteria / may_see / visible_organizations;
# mutated by mutmut, `.ci/mutation scope`) and every backend answers
# store.search; the mutations below break each view's use of it.
MUTATIONS: dict[str, tuple[str, str, str, str | None]] = {
    "list: unscoped": (
        VIEWS,
        "criteria = scoped_criteria(request.user, filterset.criteria())",
        "criteria = filterset.criteria()",
        None,
    ),
    "list: nothing-visible becomes everything": (
        VIEWS,
        "        if criteria is None:\n"
        "            return Response(page.response_data([], None, False))\n",
        "        if criteria is None:\n            criteria = filterset.criteria()\n",
        None,
    ),
    "list: nothing-visible shortcut removed": (
        VIEWS,
        "        if criteria is None:\n"
        "            return Response(page.response_data([], None, False))\n",
        "",
        None,  # store.search(**None) is a TypeError: a 500 for a member of no organization
    ),
    "detail: scope check removed": (
        VIEWS,
        "if not may_see(request.user, event):",
        "if False:",
        None,
    ),
    "detail: scope check inverted": (
        VIEWS,
        "if not may_see(request.user, event):",
        "if may_see(request.user, event):",
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
    "analytics query: nothing-visible shortcut removed": (
        QUERY,
        "        if self.organization_ids == ():\n            return\n",
        "",
        None,
    ),
    "analytics query: organization criterion dropped": (
        QUERY,
        "organization_id=organizations,  # None: no criterion",
        "organization_id=None,",
        None,
    ),
    "analytics query: one organization only": (
        QUERY,
        "else list(self.organization_ids)\n",
        "else list(self.organization_ids)[:1]\n",
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
