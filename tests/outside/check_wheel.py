"""Check a built wheel: the eventstore package and its files, nothing else top-level.

Usage: check_wheel.py WHEEL SOURCE_DIR

Every file of SOURCE_DIR/eventstore (templates, migrations, management
commands, ``py.typed``; compiled files aside) must be in the wheel, the wheel
must hold nothing else but its ``.dist-info``, and it must declare the pytest
plugin.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path


def main(wheel: str, source: str) -> int:
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = {name.split("/")[0] for name in names if ".dist-info/" in name}
    top_level = sorted({name.split("/")[0] for name in names})
    problems = []
    if len(dist_info) != 1 or set(top_level) != {"eventstore", *dist_info}:
        problems.append(f"top-level entries {top_level}, expected eventstore and one .dist-info")
    root = Path(source)
    expected = {
        path.relative_to(root).as_posix()
        for path in (root / "eventstore").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    packaged = {name for name in names if name.startswith("eventstore/")}
    problems += [f"missing from the wheel: {name}" for name in sorted(expected - packaged)]
    problems += [f"not in the source: {name}" for name in sorted(packaged - expected)]
    for required in (
        "eventstore/py.typed",
        "eventstore/templates/eventstore/event_browser.html",
        "eventstore/migrations/0001_initial.py",
        "eventstore/management/commands/eventstore_export.py",
    ):
        if required not in names:
            problems.append(f"missing from the wheel: {required}")
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info.pop()}/entry_points.txt").decode()
    if "[pytest11]" not in entry_points or "eventstore.testing.plugin" not in entry_points:
        problems.append("no pytest11 entry point for eventstore.testing.plugin")
    for problem in problems:
        print(f"check_wheel: {problem}", file=sys.stderr)
    if not problems:
        templates = sum(name.endswith(".html") for name in packaged)
        print(f"{Path(wheel).name}: {' '.join(top_level)}")
        print(f"  {len(packaged)} files of eventstore, {templates} templates; pytest11 declared")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
