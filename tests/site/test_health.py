"""/health/ answers 503 when the database or the cache does not; /health/worker/ when a
background task has waited too long. Neither is redirected to HTTPS nor cached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from certificates.tasks import render_certificate


@pytest.fixture
def client_(db) -> Client:  # noqa: ANN001
    return Client()


def test_ready_when_the_database_and_cache_answer(client_) -> None:  # noqa: ANN001
    response = client_.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["cache"] == "ok"
    assert body["tasks_waiting"] == 0 and body["oldest_task_waiting_seconds"] is None
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


def test_not_ready_when_the_database_fails(client_, monkeypatch) -> None:  # noqa: ANN001
    def refuse(*args: object, **kwargs: object) -> object:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client_.get("/health/")
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json()["database"] == "failing"


def test_not_ready_when_the_cache_fails(client_, settings) -> None:  # noqa: ANN001
    # A real Redis client pointed at a port where nothing listens.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    response = client_.get("/health/")
    assert response.status_code == 503 and response.json()["cache"] == "failing"


def test_not_redirected_to_https(client_, settings) -> None:  # noqa: ANN001
    settings.SECURE_SSL_REDIRECT = True
    assert client_.get("/health/").status_code == 200
    assert client_.get("/certificates/verify/").status_code == 301


def test_the_worker_check_is_late_when_a_task_waits_too_long(client_, settings) -> None:  # noqa: ANN001
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert client_.get("/health/worker/").status_code == 200
    result = render_certificate.using(backend="default").enqueue(0)
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now()
        - timedelta(seconds=settings.PATHWAYS_HEALTH_TASK_WAIT_SECONDS + 5)
    )
    response = client_.get("/health/worker/")
    assert response.status_code == 503 and response.json()["status"] == "late"
    # The site itself is still ready: pages do not need the worker.
    health = client_.get("/health/")
    assert health.status_code == 200 and health.json()["tasks_waiting"] == 1
