"""Settings of the HTTP benchmark's gunicorn server: the demo's, with the benchmark's URLconf.

Everything else is ``gyroscops.settings`` as the demo runs it (memory event
store, SQLite at ``DJANGO_SQLITE_PATH``, DEBUG off); only ``ROOT_URLCONF``
adds the two comparison views of :mod:`benchmarks.bench_urls`.
"""

from gyroscops.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
