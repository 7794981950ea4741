"""Settings of the test suite and of the type checker: the site's, with a fixed signing key.

The site refuses to start with DEBUG off and no ``DJANGO_SECRET_KEY``
(``gyroscops/settings.py``); the tests run with DEBUG off, as a deployment does,
and a key of their own. It is put in the environment, so the ``manage.py`` and
gunicorn processes the tests start (with a copy of it) have it too.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-key-" + "x" * 40)

from gyroscops.settings import *  # noqa: E402, F403
