"""A minimal project using the eventstore app, installed from its wheel.

Only Django's contrib apps, Django REST framework, django-filter and eventstore:
nothing of the Gyroscops demo site (tests/outside/run.sh checks that
``payments`` and ``gyroscops`` cannot be imported).
"""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "outside-test-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

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
    "eventstore",
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

ROOT_URLCONF = "urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"},
}

USE_TZ = True
TIME_ZONE = "Europe/Paris"
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The app's settings, as its README documents them.
EVENTSTORES = {
    "default": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"},
}
EVENTSTORE_USER_ORGANIZATIONS = "shop.organizations_for_user"
EVENTSTORE_PROJECTIONS = ["shop.ShippedOrders"]

# The project's choice: an authenticator with a challenge first, so that anonymous
# API requests get 401 with WWW-Authenticate (DRF's defaults, session first, give 403).
# No EXCEPTION_HANDLER: the app's views map store errors themselves.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}
