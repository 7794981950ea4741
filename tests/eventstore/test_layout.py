"""The app keeps its shape: reusable without the demo site, and its API and pages apart.

- Neither the ``eventstore`` package nor its tests (tests/eventstore/) import the
  demo site's ``payments`` app or its ``gyroscops`` project, or name the project
  at all: the app's tests build their data with tests/eventstore/ledger.py.
- The REST API (``eventstore.api``) and the admin pages (``eventstore.admin``)
  do not import each other; what they share lives in ``eventstore.queries``.

Imports are read with :mod:`ast` (relative ones resolved, imports inside
functions included), never by importing the modules.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

APP_TESTS_DIR = Path(__file__).resolve().parent
ROOT = APP_TESTS_DIR.parents[1]
PACKAGE_DIR = ROOT / "eventstore"

#: Modules the app and its tests must not import: the demo site's domain app and
#: project, and the domain app's tests.
SITE_MODULES = ("payments", "gyroscops", "tests.payments")
#: The demo project's name, which the app and its tests must not mention at all.
SITE_NAME = "gyroscops"
#: A dotted path to a site module in a string (as given to import_string or a setting).
SITE_DOTTED_PATH = re.compile(r"(?:payments|gyroscops)(?:\.\w+)+")


def imported_modules(source: str, package: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line, module)`` for every module ``source`` imports, as absolute names.

    ``package`` is the dotted package the code belongs to (for a package's
    ``__init__``, the package itself), against which relative imports are
    resolved. ``from x import y`` yields ``x`` and ``x.y`` (``y`` may be a module).

    Raises:
        ValueError: for a relative import that goes above the top-level package.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level > len(parts):
                    raise ValueError(f"line {node.lineno}: relative import beyond {package!r}")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{module}.{alias.name}"


def is_within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def offending_imports(
    source: str, package: str, prefixes: tuple[str, ...]
) -> list[tuple[int, str]]:
    """Return ``(line, module)`` for each import statement of a module under ``prefixes``
    (once per line: the shortest such name, e.g. ``x`` for ``from x import a, b``)."""
    by_line: dict[int, str] = {}
    for line, module in imported_modules(source, package):
        if any(is_within(module, prefix) for prefix in prefixes):
            if line not in by_line or len(module) < len(by_line[line]):
                by_line[line] = module
    return sorted(by_line.items())


def package_of(path: Path) -> str:
    """The dotted package of a module file under ROOT (the package itself for ``__init__``)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1])


def site_references(path: Path, text: str, *, check_name: bool = True) -> list[str]:
    """Return ``"file:line: what"`` for each import of, or reference to, the demo site."""
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    if path.suffix == ".py":
        tree = ast.parse(text)
        found += [
            f"{where}:{line}: imports {module}"
            for line, module in offending_imports(text, package_of(path), SITE_MODULES)
        ]
        found += [
            f"{where}:{node.lineno}: names the module path {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SITE_DOTTED_PATH.fullmatch(node.value)
        ]
    if check_name:
        found += [
            f"{where}:{number}: mentions {SITE_NAME!r}"
            for number, line in enumerate(text.splitlines(), 1)
            if SITE_NAME in line.lower()
        ]
    return found


def source_files(directory: Path) -> list[Path]:
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


# -- the app without the demo site -----------------------------------------------------------


def test_the_eventstore_package_does_not_depend_on_the_demo_site():
    files = source_files(PACKAGE_DIR)
    assert PACKAGE_DIR / "aggregates.py" in files
    assert any(path.suffix == ".html" for path in files)  # templates are scanned too
    found = [
        problem for path in files for problem in site_references(path, path.read_text("utf-8"))
    ]
    assert not found, "eventstore must not use the demo site:\n" + "\n".join(found)


def test_the_apps_tests_build_their_data_without_the_demo_site():
    files = sorted(APP_TESTS_DIR.rglob("*.py"))
    assert Path(__file__).resolve() in files and len(files) > 10
    found = [
        problem
        for path in files
        # This file names the project to look for it; its imports are still checked.
        for problem in site_references(
            path, path.read_text("utf-8"), check_name=path.resolve() != Path(__file__).resolve()
        )
    ]
    assert not found, "tests/eventstore must not use the demo site:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "import payments",
        "import os, payments.models",
        "from payments.commands import ProcessPayment",
        "def f():\n    from payments import models",
        "from ..payments import test_api",  # tests/payments, from tests/eventstore
        "import gyroscops.settings",
        "SETTING = 'payments.models.organizations_for_user'",
        "# see Gyroscops",
    ],
)
def test_site_references_are_found(source):
    found = site_references(APP_TESTS_DIR / "example.py", source)
    assert found and all(problem.startswith("tests/eventstore/example.py:") for problem in found)


def test_other_modules_and_words_are_not_site_references():
    source = (
        "from .ledger import Account\nimport eventstore.payments_like\n"
        "NOTE = 'payments are one domain'\nTYPE = 'PaymentProcessed'\n"
    )
    assert site_references(APP_TESTS_DIR / "example.py", source) == []


# -- the API and the pages apart -------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "other"),
    [("eventstore.api", "eventstore.admin"), ("eventstore.admin", "eventstore.api")],
)
def test_the_api_and_the_admin_pages_do_not_import_each_other(layer, other):
    directory = ROOT.joinpath(*layer.split("."))
    modules = sorted(directory.rglob("*.py"))
    assert len(modules) > 3, directory
    found = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in modules
        for line, module in offending_imports(path.read_text("utf-8"), package_of(path), (other,))
    ]
    assert not found, f"{layer} must not import {other}:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "package", "expected"),
    [
        ("from ..admin import common", "eventstore.api", ["eventstore.admin.common"]),
        ("from .. import admin", "eventstore.api", ["eventstore.admin"]),
        (
            "from ...admin import x",
            "eventstore.api.sub",
            ["eventstore.admin", "eventstore.admin.x"],
        ),
        ("from . import views", "eventstore.api", ["eventstore.api.views"]),
        ("import eventstore.admin.common as c", "eventstore.api", ["eventstore.admin.common"]),
        ("def f():\n    from eventstore.admin import charts", "x", ["eventstore.admin.charts"]),
    ],
)
def test_imports_are_resolved_to_absolute_names(source, package, expected):
    modules = {module for _, module in imported_modules(source, package)}
    assert set(expected) <= modules
    assert not any(module.startswith(".") for module in modules)


def test_a_relative_import_above_the_top_package_is_an_error():
    with pytest.raises(ValueError, match="beyond"):
        list(imported_modules("from ... import x", "eventstore.api"))
