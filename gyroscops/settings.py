"""Settings of the Gyroscops audit trail, read from the environment with safe defaults.

Environment variables:
    DJANGO_DEBUG: "1"/"true" turns DEBUG on (default off).
    DJANGO_SECRET_KEY: the signing key, the same for every process; required when DEBUG
        is off (a random one per process in development).
    DJANGO_ALLOWED_HOSTS: comma-separated host names (default "localhost,127.0.0.1").
    DJANGO_HTTPS: "1" redirects HTTP to HTTPS and keeps cookies on HTTPS (default off).
    DJANGO_TRUST_X_FORWARDED_PROTO: "1" behind a TLS-terminating proxy setting that header.
    DJANGO_HSTS_SECONDS: Strict-Transport-Security max-age (default 0: no header).
    DJANGO_HSTS_INCLUDE_SUBDOMAINS, DJANGO_HSTS_PRELOAD: "1" adds those HSTS directives.
    DJANGO_CSRF_TRUSTED_ORIGINS: comma-separated origins, e.g. "https://audit.example.com".
    DJANGO_TIME_ZONE: IANA time zone for display and date-only filters (default "UTC").
    DJANGO_SQLITE_PATH: the SQLite file when DATABASE_URL is unset (default db.sqlite3).
    DATABASE_URL: the database, in dj-database-url form (default: SQLite).
    EVENTSTORE_BACKEND: "memory" (default) or "database".
    EVENTSTORE_TEST_POSTGRES_URL: a PostgreSQL server for the tests' PostgreSQL part.
    API_TOKEN_RATE: throttle of POST /api/auth/token/ per client address (default "10/min").
    DJANGO_NUM_PROXIES: trusted proxies appending to X-Forwarded-For (default 0).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ImproperlyConfigured(f"{name} must be a whole number ≥ 0, got {value!r}.")
    return number


DEBUG = _env_bool("DJANGO_DEBUG", False)
# The signing key (sessions, password reset tokens, signed cookies) must be the same in
# every process of the site and across restarts: a key drawn per process would log a
# staff user out whenever another worker answers. So outside development it must be set.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set and DEBUG is off: every process would sign "
            "sessions with a key of its own. Set DJANGO_SECRET_KEY to the same long random "
            "string for every process of the site (e.g. the output of python3 -c "
            "'import secrets; print(secrets.token_urlsafe(50))'), or DJANGO_DEBUG=1 for "
            "development; `manage.py rundemo` (make run) sets its own."
        )
    SECRET_KEY = secrets.token_urlsafe(50)  # development: one per process is enough

# Serving over HTTPS (the README's "Deploying" lists a production environment that
# `manage.py check --deploy` passes): DJANGO_HTTPS=1 redirects plain HTTP to HTTPS and
# sends the session and CSRF cookies over HTTPS only.
_HTTPS = _env_bool("DJANGO_HTTPS", False)
SECURE_SSL_REDIRECT = _HTTPS
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips it from
# clients' requests): trust it, or SECURE_SSL_REDIRECT would redirect every request.
if _env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTP Strict Transport Security, in seconds (0: no header). Browsers then refuse plain
# HTTP to the site for that long: start small (e.g. 3600) before a year (31536000).
SECURE_HSTS_SECONDS = _env_int("DJANGO_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("DJANGO_HSTS_PRELOAD", False)
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "eventstore",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "eventstore.middleware.CorrelationIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gyroscops.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "gyroscops.wsgi.application"

# DATABASE_URL (dj-database-url syntax, e.g. postgres://user@127.0.0.1:5432/gyroscops)
# chooses the database; SQLite by default.
DATABASES = {
    "default": dj_database_url.config(
        default="sqlite:///" + os.environ.get("DJANGO_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (threads of a test share it), one per test process (parallel runs don't clash).
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Every transaction takes the write lock when it begins (BEGIN IMMEDIATE): writers
    # queue for `timeout` seconds instead of failing with "database is locked" when a
    # read transaction turns into a write, and the projection runner needs no statement
    # of its own to lock its checkpoint. WAL: readers never block the writer.
    # synchronous=NORMAL with the memory event store only: a commit is then not flushed
    # to disk until the WAL's checkpoint (a power loss, not a crash of the process, may
    # undo the last commits: the read model and its checkpoint together, rebuilt from
    # the store, whose history a restart loses anyway). With the database event store
    # an acknowledged append must survive a power loss: FULL, SQLite's default.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL;" + (
        "PRAGMA synchronous=NORMAL;"
        if os.environ.get("EVENTSTORE_BACKEND", "memory") == "memory"
        else ""
    )
# A second database, used only by the test suite's PostgreSQL part when set.
if os.environ.get("EVENTSTORE_TEST_POSTGRES_URL"):
    DATABASES["postgres"] = dj_database_url.parse(os.environ["EVENTSTORE_TEST_POSTGRES_URL"])
    # One test database per test process, so that two test runs on one server don't clash.
    DATABASES["postgres"]["TEST"] = {"NAME": f"test_gyroscops_{os.getpid()}"}

# EVENTSTORE_BACKEND=memory (default) or database: where events are kept.
_EVENTSTORE_BACKENDS = {
    "memory": "eventstore.backends.memory.InMemoryEventStore",
    "database": "eventstore.backends.database.DatabaseEventStore",
}
_backend_name = os.environ.get("EVENTSTORE_BACKEND", "memory")
if _backend_name not in _EVENTSTORE_BACKENDS:
    raise ImproperlyConfigured(
        f"EVENTSTORE_BACKEND must be one of {', '.join(_EVENTSTORE_BACKENDS)}, "
        f"got {_backend_name!r}."
    )
EVENTSTORES = {
    "default": {
        "BACKEND": _EVENTSTORE_BACKENDS[_backend_name],
        "OPTIONS": {},
    }
}

# The key that signs export files (eventstore.signing): when unset, one is derived from
# SECRET_KEY. Set it to keep exports verifiable across a SECRET_KEY rotation, or to share
# it with whoever verifies the exports without sharing SECRET_KEY.
if "EVENTSTORE_SIGNING_KEY" in os.environ:
    EVENTSTORE_SIGNING_KEY = os.environ["EVENTSTORE_SIGNING_KEY"]

# Read models derived from the history (eventstore.projections): dotted paths of
# Projection classes. Inline after each append on the memory backend; on the database
# backend run `manage.py eventstore_projections run` (see the README).
EVENTSTORE_PROJECTIONS = ["payments.projections.PaymentSummaryProjection"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    # Token first: a request without credentials gets 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "eventstore.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "payments.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # POST /api/auth/token/ (payments.api.throttling.TokenRateThrottle), per client address.
    "DEFAULT_THROTTLE_RATES": {"auth_token": os.environ.get("API_TOKEN_RATE", "10/min")},
    # Proxies in front of the site that append to X-Forwarded-For: 0 trusts none (the
    # address is REMOTE_ADDR), so a client cannot pick its own address to dodge the limit.
    "NUM_PROXIES": _env_int("DJANGO_NUM_PROXIES", 0),
}

# Throttling counts (above). Local memory: per process, so with N workers a client gets
# up to N times the rate; use a shared cache (e.g. Redis) to make it exact.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SPECTACULAR_SETTINGS = {
    "TITLE": "Gyroscops audit trail API",
    "DESCRIPTION": "Payments recorded as events, and the audit trail of every event.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from installed static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"eventstore": {"handlers": ["console"], "level": "INFO"}},
}

# Which organizations a user belongs to, for scoping API reads (eventstore.queries.scope).
EVENTSTORE_USER_ORGANIZATIONS = "payments.models.organizations_for_user"
# A user's scope (audit-trail permission, memberships) is kept for this many seconds in
# each process: changes made in this process apply at once (signals), a change made in
# another process (another gunicorn worker, manage.py shell) within this many seconds.
EVENTSTORE_SCOPE_CACHE_SECONDS = 10
