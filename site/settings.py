"""Pathways settings: one module, every value from the environment, safe local defaults.

Production is the same module with DJANGO_DEBUG=0 and a real DJANGO_SECRET_KEY; it then
passes `python manage.py check --deploy` with no warnings. See README.md for every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parent
BASE_DIR = PROJECT_DIR.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
# Local work needs no configuration: with no secret key and no DJANGO_DEBUG, this is a developer's
# machine and DEBUG is on. A server always has a key, so DEBUG is off there unless asked for;
# DJANGO_DEBUG=0 without a key refuses to start.
DEBUG = env_bool("DJANGO_DEBUG", not SECRET_KEY)

_DEV_SECRET_KEY = "django-insecure-local-development-only-not-for-production"  # noqa: S105
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for local work).")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "pathways",
    "officers",
    "courses",
    "scenarios",
    "certificates",
    "training",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pathways.middleware.CachedSiteMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "officers.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "pathways.middleware.PreviewFramingMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "officers.middleware.StaffMFAMiddleware",
    "officers.middleware.OfficerProfileMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "pathways.urls"
WSGI_APPLICATION = "pathways.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# --- Database: SQLite by default, PostgreSQL (or anything) through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves one machine and a handful of people at once (README). For
    # that: readers never wait for a writer (WAL), a writer waits its turn for up to 20 s
    # instead of failing with "database is locked", and a transaction that will write takes
    # the lock when it begins (IMMEDIATE), so two of them never deadlock half-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
else:
    # A kept connection is checked before use, so a database restart costs no request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared by every process (rate limits live here). Redis in production.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "pathways"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# What is the same for every learner (course outlines, rendered lesson bodies, the site) is kept
# in this cache (courses.cache) and dropped by a change of content. Only a cache every process
# shares sees that change (the task worker and cron jobs publish too): on by default with
# Redis, off with each process's own local-memory cache.
PATHWAYS_CONTENT_CACHE = env_bool("PATHWAYS_CONTENT_CACHE", bool(REDIS_URL))

# --- Background tasks: Django's Tasks API (django-tasks) with the database backend; a worker
# runs them (`python manage.py db_worker`). PATHWAYS_TASKS_IMMEDIATE=1 runs them in-process.
if env_bool("PATHWAYS_TASKS_IMMEDIATE", DEBUG):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Accounts (django-allauth): email login, verified addresses, MFA, user sessions.
AUTH_USER_MODEL = "officers.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "officers.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Pathways] "
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, tightened for sign-in; every limit lives in the shared cache.
    "login": "30/m/ip",
    "login_failed": "5/5m/key,20/m/ip",
    "signup": "10/h/ip",
    "reset_password": "20/m/ip,5/h/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Pathways"
# Activity (allauth's "last seen" and the session's expiry) is written at most this often by
# officers.middleware.SessionLifetimeMiddleware, not on every request.
USERSESSIONS_TRACK_ACTIVITY = False
PATHWAYS_ACTIVITY_WRITE_SECONDS = env_int("PATHWAYS_ACTIVITY_WRITE_SECONDS", 300)
# Behind N reverse proxies that append to X-Forwarded-For, set this to N so that rate limits
# count each client, not the proxy (allauth reads it; certificate checks use allauth's value).
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("PATHWAYS_TRUSTED_PROXY_COUNT", 0)

# Sign-up is open only to these email domains ("*.police.uk" matches any subdomain) or to
# addresses with an open invitation (officers.Invitation).
PATHWAYS_SIGNUP_DOMAINS = env_list("PATHWAYS_SIGNUP_DOMAINS", "police.scot,*.police.uk")
# Training leads, authors and administrators must set up two-factor authentication.
PATHWAYS_REQUIRE_STAFF_MFA = env_bool("PATHWAYS_REQUIRE_STAFF_MFA", not DEBUG)
PATHWAYS_MAX_CSV_BYTES = env_int("PATHWAYS_MAX_CSV_BYTES", 5 * 1024 * 1024)
# An officer import still previewing or applying after this long has lost its worker: the
# person may start its preview again (officers.import_jobs).
PATHWAYS_IMPORT_STALL_SECONDS = env_int("PATHWAYS_IMPORT_STALL_SECONDS", 15 * 60)
# XLSX exports of more rows than this are written by the task worker, to storage, and
# downloaded from "Your exports" (training.export_files); 0 sends every XLSX there. Written
# files are deleted after PATHWAYS_EXPORT_FILE_HOURS (`manage.py purge_exports`, from cron).
PATHWAYS_EXPORT_INLINE_ROWS = env_int("PATHWAYS_EXPORT_INLINE_ROWS", 2000)
PATHWAYS_EXPORT_FILE_HOURS = env_int("PATHWAYS_EXPORT_FILE_HOURS", 24)
# Public certificate checks allowed per client IP address per minute.
PATHWAYS_VERIFY_RATE_PER_MINUTE = env_int("PATHWAYS_VERIFY_RATE_PER_MINUTE", 30)

# --- Sessions: stored in the database (shared by every process).
# Idle timeout: a session unused for this long ends. Its expiry moves on when activity is
# written (at most every PATHWAYS_ACTIVITY_WRITE_SECONDS), so a request need not write.
SESSION_COOKIE_AGE = env_int("PATHWAYS_SESSION_IDLE_SECONDS", 60 * 60)
SESSION_SAVE_EVERY_REQUEST = False
# Absolute lifetime: however active, a session ends this long after sign-in.
PATHWAYS_SESSION_ABSOLUTE_SECONDS = env_int("PATHWAYS_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Security headers. HTTPS settings follow DEBUG: on in production, off locally.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# A load balancer checks the app servers over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
# /health/worker/ says "late" when a background task has waited longer than this.
PATHWAYS_HEALTH_TASK_WAIT_SECONDS = env_int("PATHWAYS_HEALTH_TASK_WAIT_SECONDS", 600)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

from csp.constants import NONE, SELF  # noqa: E402

# Scripts only from our own origin: no inline scripts, no eval. Wagtail's admin still sets
# inline styles, so style-src allows them; data: images are allauth's TOTP QR codes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        # PATHWAYS_MEDIA_HOST: where lesson images are served from, if not this site (S3).
        "img-src": [SELF, "data:", "blob:", *env_list("PATHWAYS_MEDIA_HOST", "")],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-src": [SELF, "https://www.youtube-nocookie.com", "https://player.vimeo.com"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Email: console locally; SMTP when EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Pathways <no-reply@pathways.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Internationalisation
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static and media files. Media goes through Django's storage API: set
# PATHWAYS_MEDIA_STORAGE to e.g. "storages.backends.s3.S3Storage" (django-storages) for S3.
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "static_collected"))
# site/static is the `pathways` app's own static folder, found by the app finder.
MEDIA_URL = os.environ.get("PATHWAYS_MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
_MEDIA_BACKEND = os.environ.get(
    "PATHWAYS_MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage"
)
_MEDIA_OPTIONS: dict[str, object] = {}
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # django-storages' S3 backend: a private bucket; certificate PDFs are personal data and
    # are only ever downloaded through Pathways, never by a public link.
    _MEDIA_OPTIONS = {
        "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
        "default_acl": None,  # objects keep the bucket's (private) setting
        "file_overwrite": False,
        "querystring_auth": True,  # lesson images get short-lived signed links
    }
STORAGES = {
    "default": {"BACKEND": _MEDIA_BACKEND, "OPTIONS": _MEDIA_OPTIONS},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Wagtail
WAGTAIL_SITE_NAME = "Pathways"
# The site's public address: every absolute link (emails, QR codes on certificates) is built
# from it, never from a request's Host header. Local development defaults to runserver's.
WAGTAILADMIN_BASE_URL = os.environ.get("PATHWAYS_BASE_URL", "").strip().rstrip("/")
if not WAGTAILADMIN_BASE_URL:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set PATHWAYS_BASE_URL to the site's public address "
            "(e.g. https://pathways.example.police.uk): emails and certificates link to it."
        )
    WAGTAILADMIN_BASE_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
# The admin signs in through allauth's pages, so MFA and rate limits apply there too.
# Wagtail sends people without admin access here; pathways.views sends them on to allauth.
WAGTAILADMIN_LOGIN_URL = "/admin/login/"
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
# Passwords and email addresses change only through allauth (verification, sessions ended).
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 5 * 1024 * 1024
WAGTAILDOCS_EXTENSIONS = ["pdf", "txt", "csv"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # Every task run is logged at INFO; only problems are worth reading.
    "loggers": {
        "django_tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
    },
}

# No third-party calls from the admin: no Gravatar, no update check (the CSP forbids both).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
