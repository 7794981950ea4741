"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

No browser is ever downloaded: Chromium is the system's (``/usr/bin/chromium``,
the Debian package that ``.ci/run`` installs when it is missing); without it
these tests are skipped, saying why. Deselect them with ``-m "not browser"``.
Screenshots go to ``test-output/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "browser-test-pw"


@pytest.fixture
def page(
    transactional_db: None, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A page of a fresh headless Chromium whose relative URLs go to the live server.

    Playwright starts after the database and the live server are set up, and
    stops before they are torn down: its sync API runs an asyncio loop on this
    thread, and Django refuses ORM calls from a thread with a running loop. The
    test's own ORM calls (creating users) are synchronous, so they are allowed
    while the browser runs, and only then.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (see .ci/run)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    with sync_api.sync_playwright() as playwright:
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1400, "height": 1000}, locale="en-US"
        )
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE")


@pytest.fixture
def screenshot(page: Any) -> Any:
    """Save a full-page screenshot of the current page as ``test-output/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def auditor(django_user_model: Any) -> Any:
    """A staff user holding ``eventstore.view_audit_trail``."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("auditor", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    return user


def log_in(page: Any, username: str, next_url: str = "/admin/") -> None:
    """Log in through the admin's login form, then land on ``next_url``."""
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
