"""Test settings: the real settings, with only what tests need changed."""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "test-secret-key-not-used-anywhere-else-0123456789abcdef"
)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("PATHWAYS_TASKS_IMMEDIATE", "1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

from pathways.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
