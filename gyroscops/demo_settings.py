"""Settings of ``manage.py rundemo`` (``make run``): the site's, as a local demo needs them.

``manage.py`` picks this module for ``rundemo`` when ``DJANGO_SETTINGS_MODULE``
is not set. Compared with :mod:`gyroscops.settings`:

- a signing key that stays the same across restarts of the demo (a login
  survives them): ``DJANGO_SECRET_KEY`` if set, else the one kept in
  ``.demo-secret-key`` in the checkout, drawn on the first run and readable by
  its owner only;
- ``eventstore.W001`` silenced: the demo seeds its history at each start (that
  it is gone after a restart is expected), and it serves it from the one
  process that seeded it, claimed (``eventstore.serving.claim_serving``), so a
  second demo of this checkout refuses to start.

DEBUG stays off, as in a deployment: errors answer the way users see them (JSON
404 and 500 bodies on ``/api/``), and ``runserver --insecure`` serves the
static files.
"""

import os
import secrets
from pathlib import Path

_KEY_FILE = Path(__file__).resolve().parent.parent / ".demo-secret-key"


def _demo_key() -> str:
    key = secrets.token_urlsafe(50)
    try:
        descriptor = os.open(_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _KEY_FILE.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key


if not os.environ.get("DJANGO_SECRET_KEY"):
    os.environ["DJANGO_SECRET_KEY"] = _demo_key()

from gyroscops.settings import *  # noqa: E402, F403

SILENCED_SYSTEM_CHECKS = ["eventstore.W001"]
