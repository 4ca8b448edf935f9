"""Database connections killed while learners complete lessons: nothing lost, nothing doubled.

Several learners, each in a thread with their own database connection, mark every lesson of a
course complete through the test client while another connection terminates every other
backend of the test database (`pg_terminate_backend`) a few times: what an administrator
restarting PostgreSQL, a failover or a proxy dropping idle connections does to the site.

Every request must either succeed or fail cleanly: no lesson completion outside its
enrolment, no completed enrolment without its certificate (or with two), no assignment
marked complete without a certificate. Retrying the failed requests must then give exactly
what a clean run gives: each lesson completed once, one certificate per completed course,
certificate numbers unique and consecutive. And the site recovers by itself: the next request
on a killed connection succeeds (`CONN_HEALTH_CHECKS`, on for PostgreSQL in the settings).

Django's test client suppresses the `close_old_connections` that the WSGI handler runs at the
start and end of every request (where persistent connections are health-checked and broken
ones dropped); `request` below runs it around each request as the real handler would.

Needs PostgreSQL: SQLite has no server connections to kill.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, connections
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from certificates.models import Certificate
from courses.models import Enrolment, LessonCompletion, LessonPage
from officers.models import User
from tests.factories import make_course, make_officer
from training.models import Assignment

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (DATABASE_URL=postgres://...): kills server connections",
    ),
    pytest.mark.django_db(transaction=True),
]

LEARNERS = 6
KILLS = 5
KILL = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def request(send: Callable[[], HttpResponse]) -> int:
    """One request as the WSGI handler runs it: old or broken connections dropped before
    and after (the test client leaves this out). A 500 is a clean failure: the request's
    transaction rolled back."""
    close_old_connections()
    try:
        return send().status_code
    finally:
        close_old_connections()


@dataclass
class Learner:
    user: User
    client: Client
    statuses: dict[int, list[int]] = field(default_factory=dict)  # lesson id -> each try
    recovered: int | None = None  # the status of a request after the faults

    def complete(self, lesson_id: int) -> int:
        url = f"/learning/lessons/{lesson_id}/complete/"
        status = request(lambda: self.client.post(url))
        self.statuses.setdefault(lesson_id, []).append(status)
        return status

    def failed(self) -> list[int]:
        return [lesson for lesson, tries in self.statuses.items() if tries[-1] in (400, 500)]


def check_no_partial_state(learners: list[Learner], lessons: list[int]) -> None:
    """Whatever was committed is whole: each request's transaction all or nothing."""
    for learner in learners:
        enrolments = list(Enrolment.objects.filter(user=learner.user))
        assert len(enrolments) <= 1, "one run of the course, one enrolment"
        done = list(
            LessonCompletion.objects.filter(enrolment__user=learner.user).values_list(
                "lesson_id", flat=True
            )
        )
        assert len(done) == len(set(done)), "a lesson completed twice"
        assert set(done) <= set(lessons)
        if done:
            assert enrolments, "a lesson completion without its enrolment"
        enrolment = enrolments[0] if enrolments else None
        certificates = list(Certificate.objects.filter(user=learner.user))
        complete = enrolment is not None and enrolment.completed_at is not None
        if complete:
            assert sorted(done) == sorted(lessons), "completed without every lesson"
            assert len(certificates) == 1, "a completed course without exactly one certificate"
            assert certificates[0].enrolment_id == enrolment.pk
        else:
            assert certificates == [], "a certificate for a course not completed"
        assignment = Assignment.objects.get(user=learner.user, current=True)
        assert (assignment.completed_at is not None) == complete, (
            "the assignment out of step with the completion and certificate"
        )
        if enrolment is not None:
            assert assignment.started_at is not None, "an enrolment its assignment missed"


def test_killed_connections_lose_and_double_nothing(home, org, settings, monkeypatch) -> None:  # noqa: ANN001
    # Persistent connections (what DATABASE_CONN_MAX_AGE turns on), so that a killed one is
    # reused by the next request unless the health check drops it.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 600)
    assert connections.settings["default"]["CONN_HEALTH_CHECKS"]
    # Production's task queue: the certificate's PDF is queued, not rendered in the request.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    course = make_course(home, title="Faults", modules=2, lessons=3, validity_months=12)
    lessons = list(
        LessonPage.objects.live()
        .descendant_of(course)
        .order_by("path")
        .values_list("pk", flat=True)
    )
    learners = []
    for _ in range(LEARNERS):
        user = make_officer(unit=org.dundee)
        Assignment.objects.create(
            user=user, course=course, due_on=timezone.localdate() + timedelta(days=30)
        )
        client = Client(raise_request_exception=False)
        client.force_login(user)
        learners.append(Learner(user, client))
    numbers_before = Certificate.objects.count()
    assert numbers_before == 0

    running = threading.Event()
    running.set()
    killed: list[int] = []
    errors: list[BaseException] = []

    def learn(learner: Learner) -> None:
        try:
            for lesson in lessons:
                learner.complete(lesson)
                time.sleep(random.uniform(0, 0.02))
            # The site recovers by itself: the next request on this thread's connection.
            learner.recovered = request(lambda: learner.client.get("/learning/"))
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def kill() -> None:
        try:
            for _ in range(KILLS):
                time.sleep(random.uniform(0.02, 0.08))
                if not running.is_set():
                    break
                with connection.cursor() as cursor:
                    cursor.execute(KILL)
                    killed.append(len(cursor.fetchall()))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=learn, args=(learner,)) for learner in learners]
    killer = threading.Thread(target=kill)
    started = time.monotonic()
    for thread in [*threads, killer]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    running.clear()
    killer.join(timeout=10)
    assert not any(t.is_alive() for t in [*threads, killer]), "a thread hung"
    assert not errors, errors
    assert time.monotonic() - started < 60
    assert sum(killed) > 0, "no connection was killed: the test tested nothing"

    # This thread's own connection was killed too: it recovers like a request would.
    close_old_connections()

    for learner in learners:
        for lesson, tries in learner.statuses.items():
            # 302 done; 500 a killed connection; 400 when the kill lands on the session save
            # (Django's SessionInterrupted). Whatever the answer, nothing is half-recorded
            # (check_no_partial_state) and a retry completes it (below).
            assert tries[-1] in (302, 400, 500), (learner.user, lesson, tries)
        assert learner.recovered == 200, "the site did not recover by itself"
    check_no_partial_state(learners, lessons)

    # Retry what failed, in course order, as the learner would.
    for learner in learners:
        for lesson in [lesson for lesson in lessons if lesson in learner.failed()]:
            status = learner.complete(lesson)
            # 409: the first try had committed before its connection went.
            assert status in (302, 409), (learner.user, lesson, learner.statuses[lesson])
        assert not learner.failed()
    check_no_partial_state(learners, lessons)

    # Exactly what a clean run gives.
    for learner in learners:
        enrolment = Enrolment.objects.get(user=learner.user)
        assert enrolment.completed_at is not None
        assert sorted(
            LessonCompletion.objects.filter(enrolment=enrolment).values_list("lesson_id", flat=True)
        ) == sorted(lessons)
    numbers = sorted(Certificate.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == LEARNERS
    serials = sorted(int(number.rsplit("-", 1)[1]) for number in numbers)
    assert serials == list(range(serials[0], serials[0] + LEARNERS)), numbers
    assert Assignment.objects.filter(completed_at__isnull=False).count() == LEARNERS

    failures = sum(tries.count(500) for learner in learners for tries in learner.statuses.values())
    print(f"killed {sum(killed)} connections in {len(killed)} rounds; {failures} requests failed")
