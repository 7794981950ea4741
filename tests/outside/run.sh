#!/usr/bin/env bash
# The eventstore app as another project gets it, run by `make test` (target test-outside).
#
# Builds the wheel from the checkout's files, installs it with pytest and pytest-django
# (from the package index) in a fresh venv in a temporary directory, and, in a tiny
# project (tests/outside/project: Django's contrib apps, DRF, django-filter and
# eventstore only), runs: the import check (no `payments`, no `gyroscops`), `check`,
# `migrate`, events appended and read back by the management commands (stats, export,
# verify, projections), and a pytest suite over the audit-trail pages, the event API and the app's
# fixtures.
#
# PYTHON picks the interpreter (default python3); OUTSIDE_TMPDIR the parent directory
# (default: /dev/shm when it has 1 GiB free, else $TMPDIR or /tmp: a venv is some 11,000
# files, slow to write and delete on some disks); KEEP_OUTSIDE=1 keeps the directory.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
parent="${OUTSIDE_TMPDIR:-}"
if [ -z "$parent" ]; then
    parent="${TMPDIR:-/tmp}"
    if [ -d /dev/shm ] && [ -w /dev/shm ] \
        && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -ge 1048576 ]; then
        parent=/dev/shm
    fi
fi
WORK="$(mktemp -d "$parent/eventstore-outside.XXXXXX")"
if [ "${KEEP_OUTSIDE:-}" = 1 ]; then
    trap 'echo "outside: kept $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH DJANGO_SETTINGS_MODULE VIRTUAL_ENV
start=$SECONDS
step() { printf 'outside: %s\n' "$*"; }

step "copy the checkout's files (as git lists them: no build/ leftovers) to $WORK/src"
mkdir "$WORK/src"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' file; do [ -f "$file" ] && printf '%s\0' "$file"; done \
        | tar --null -T - -cf -) | tar -xf - -C "$WORK/src"
else
    (cd "$ROOT" && tar --exclude=./.venv --exclude=./build --exclude=./.git -cf - .) \
        | tar -xf - -C "$WORK/src"
fi

step "fresh venv ($("$PYTHON" --version))"
"$PYTHON" -m venv "$WORK/venv"
PY="$WORK/venv/bin/python"

# pip's output goes to a log, shown when a step fails.
quietly() { "$@" >"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; exit 1; }; }

step "build the wheel"
quietly "$PY" -m pip wheel --no-deps "$WORK/src" -w "$WORK/dist"
WHEEL="$(ls "$WORK"/dist/*.whl)"
"$PY" "$ROOT/tests/outside/check_wheel.py" "$WHEEL" "$WORK/src"

step "install the wheel, pytest and pytest-django"
quietly "$PY" -m pip install "$WHEEL" pytest pytest-django
"$PY" -m pip list --format=freeze | tr '\n' ' ' && echo

cp -R "$ROOT/tests/outside/project" "$WORK/project"
cd "$WORK/project"

step "nothing of the demo site is importable"
"$PY" - <<'PYTHON'
import importlib.util

import eventstore

assert "site-packages" in eventstore.__file__, eventstore.__file__
for name in ("payments", "gyroscops", "tests", "benchmarks"):
    assert importlib.util.find_spec(name) is None, f"{name} is importable"
PYTHON

step "check, migrate, append and read back with the management commands"
"$PY" manage.py check --fail-level WARNING
"$PY" manage.py migrate --verbosity 0
"$PY" manage.py shell --verbosity 0 -c 'import shop; shop.seed()'
"$PY" manage.py eventstore_stats
"$PY" manage.py eventstore_export events.jsonl
lines="$(wc -l < events.jsonl)"  # the events, then the signature line
[ "$lines" -eq 5 ] || { echo "outside: exported $lines lines, expected 4 events + 1" >&2; exit 1; }
"$PY" manage.py eventstore_verify
"$PY" manage.py eventstore_verify --file events.jsonl
"$PY" manage.py eventstore_projections run --once
"$PY" manage.py eventstore_projections status --json \
    | "$PY" -c 'import json, sys; [p] = json.load(sys.stdin); print(p); assert p["status"] == "caught_up", p'

step "pytest in the project"
"$PY" -m pytest -q -p no:cacheprovider

step "passed in $((SECONDS - start)) s"
