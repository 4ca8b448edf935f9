"""Test settings: the real settings, with only what tests need changed."""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "test-secret-key-not-used-anywhere-else-0123456789abcdef"
)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("PATHWAYS_TASKS_IMMEDIATE", "1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("PATHWAYS_BASE_URL", "http://127.0.0.1:8000")

from pathways.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# One process (the live server of browser tests runs in it too): its local-memory cache is
# shared by every request, so tests run with the content cache as production does with Redis.
PATHWAYS_CONTENT_CACHE = env_bool("PATHWAYS_CONTENT_CACHE", True)  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not the in-memory default: browser tests run a threaded live server, and an
    # in-memory shared-cache database refuses concurrent writers ("table is locked") instead
    # of waiting for them. One file per test process, so parallel runs never share it.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"pathways-test-{os.getpid()}.sqlite3")
    }
    # BEGIN IMMEDIATE: a writer waits for the lock (up to the timeout) instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(  # noqa: F405
        timeout=30,
        transaction_mode="IMMEDIATE",
        # A throwaway database: no need to wait for the disk.
        init_command="PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY;",
    )
