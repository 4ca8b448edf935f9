"""Reminders through the outbox, against a real SMTP server (tests.officers.test_outbox).

A refused address or a mail server that is down costs one message, never the run; a newline
in a course title cannot break a header; two runs at once, or a worker killed mid-run, still
deliver each reminder exactly once.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from officers import outbox
from officers.models import OutgoingEmail
from tests.factories import make_course, make_officer
from tests.officers.test_outbox import REFUSED, SmtpServer, later, use_smtp
from training.assignments import assignment_rule_create
from training.models import Reminder
from training.reminders import send_reminders

ROOT = Path(__file__).resolve().parents[2]
Status = OutgoingEmail.Status


@pytest.fixture
def smtp(tmp_path: Path, settings: Any) -> Iterator[SmtpServer]:  # noqa: ANN401
    server = SmtpServer(tmp_path / "smtp")
    server.start()
    use_smtp(settings, server)
    try:
        yield server
    finally:
        server.stop()


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs this there)")


def assign(home, org, lead, *, title: str = "Naloxone refresher", officers: int = 3, **kw):  # noqa: ANN001, ANN003, ANN201
    course = make_course(home, title=title, modules=1, lessons=1)
    made = [make_officer(unit=org.dundee, **kw) for _ in range(officers)]
    assignment_rule_create(by=lead, course=course, unit=org.dundee, due_days=30)
    return course, made


# ------------------------------------------------------------------------------ refusals


def test_a_refused_address_stops_no_other_and_is_shown_as_failed(
    home, org, north_lead, smtp: SmtpServer, no_staff_mfa
) -> None:
    course = make_course(home, title="Naloxone refresher", modules=1, lessons=1)
    for email in ("one@police.scot", REFUSED, "three@police.scot"):
        make_officer(unit=org.dundee, email=email)
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_days=30)

    run = send_reminders()
    assert run.sent == {"assigned": 3}
    assert smtp.recipients() == Counter({"one@police.scot": 1, "three@police.scot": 1})
    refused = Reminder.objects.get(user__email=REFUSED)
    assert refused.outgoing_email.status == Status.FAILED
    assert refused.outgoing_email.attempts == 1
    assert refused.delivery_error().startswith("550 5.1.1")
    assert run.failed == 1 and run.waiting == 0
    assert "Outbox: 0 waiting, 1 failed" in run.summary()

    # The lead sees which one failed, and why; and can list the failed ones alone.
    client = Client()
    client.force_login(north_lead)
    page = client.get("/admin/training/reminders/").content.decode()
    assert "Failed" in page and "550 5.1.1" in page and "three@police.scot" in page
    failed_only = client.get("/admin/training/reminders/?status=failed").content.decode()
    assert REFUSED in failed_only and "three@police.scot" not in failed_only
    export = client.get("/admin/training/reminders/?export=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert sorted(row["Status"] for row in rows) == ["Failed", "Sent", "Sent"]
    assert [row["Error"][:9] for row in rows if row["Status"] == "Failed"] == ["550 5.1.1"]

    # The next runs make nothing again, and never retry a refusal.
    with later(timedelta(days=1)):
        assert send_reminders().sent == {}
    assert smtp.recipients()[REFUSED] == 0


def test_the_command_says_what_it_queued_and_what_failed(
    home, org, north_lead, smtp: SmtpServer
) -> None:
    course = make_course(home, title="Naloxone refresher", modules=1, lessons=1)
    make_officer(unit=org.dundee, email="one@police.scot")
    make_officer(unit=org.dundee, email=REFUSED)
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_days=30)
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    text = out.getvalue()
    assert "Reminders queued: assigned: 2." in text
    assert "Outbox: 0 waiting, 1 failed in the last 7 days." in text
    assert "1 email(s) failed" in text


# ------------------------------------------------------------------------------ subjects


def test_a_newline_in_a_course_title_does_not_break_the_run(
    home, org, north_lead, smtp: SmtpServer
) -> None:
    assign(home, org, north_lead, title="Naloxone\nrefresher\r\nBcc: everyone@police.scot")
    run = send_reminders()
    assert run.sent == {"assigned": 3}
    accepted = smtp.accepted()
    assert len(accepted) == 3
    for item in accepted:
        subject = item["message"]["Subject"]
        assert "\n" not in subject and "\r" not in subject
        assert subject == (
            "[Pathways] New course assigned: Naloxone refresher Bcc: everyone@police.scot"
        )
        assert item["message"]["Bcc"] is None
        assert item["to"] != ["everyone@police.scot"]
    for reminder in Reminder.objects.all():
        assert "\n" not in reminder.subject
        assert reminder.outgoing_email.status == Status.SENT


# ------------------------------------------------------------------------------ outages


def test_reminders_wait_out_an_outage_and_go_once(home, org, north_lead, smtp: SmtpServer) -> None:
    smtp.stop()
    _, officers = assign(home, org, north_lead)
    run = send_reminders()  # the run completes, and records every reminder
    assert run.sent == {"assigned": 3} and run.waiting == 3
    assert Reminder.objects.count() == 3
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(Status.QUEUED, 1)}

    smtp.start()
    with later(outbox.RETRY_BASE + outbox.FLUSH_GRACE + timedelta(seconds=1)):
        run = send_reminders()  # cron, a few minutes later
        assert run.sent == {} and run.retried == 3 and run.waiting == 0
        assert send_reminders().retried == 0
    assert smtp.recipients() == Counter({o.email: 1 for o in officers})
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(Status.SENT, 2)}


# ------------------------------------------------------------------------------ once


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_make_and_deliver_each_reminder_once(
    home, org, smtp: SmtpServer
) -> None:
    needs_postgresql()
    lead = make_officer(unit=org.north, leads=[org.north])
    _, officers = assign(home, org, lead, officers=10)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(send_reminders().sent)
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.get("assigned", 0) for r in results) == 10
    assert Reminder.objects.filter(kind="assigned").count() == 10
    assert OutgoingEmail.objects.filter(status=Status.SENT).count() == 10
    assert smtp.recipients() == Counter({o.email: 1 for o in officers})
    # And again, one after the other: nothing more.
    assert send_reminders().sent == {}
    assert sum(smtp.recipients().values()) == 10


# ------------------------------------------------------------------------------ a killed worker

WORKER_SETTINGS = """
from pathways.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = {port}
EMAIL_HOST_USER = ""
EMAIL_HOST_PASSWORD = ""
EMAIL_USE_TLS = False
EMAIL_TIMEOUT = 10
PATHWAYS_OUTBOX_LEASE_SECONDS = {lease}
"""
LEASE_SECONDS = 3


class Workers:
    """`manage.py db_worker` processes on the test's database (the database task backend, as in
    production), each in its own process group."""

    def __init__(self, tmp: Path, port: int) -> None:
        from tests.deploy.test_multiprocess import shared_database_url

        (tmp / "outbox_worker_settings.py").write_text(
            WORKER_SETTINGS.format(port=port, lease=LEASE_SECONDS)
        )
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PATHWAYS_", "EMAIL_"))
            and k not in {"DATABASE_URL", "REDIS_URL"}
        }
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "outbox_worker_settings",
            "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "outbox-test-secret-key-0123456789abcdef0123456789abcdef",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": shared_database_url(),
            "PATHWAYS_TASKS_IMMEDIATE": "0",
            "PATHWAYS_BASE_URL": "https://127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
        self.tmp = tmp
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--interval",
                    "0.1",
                    "--no-startup-delay",
                    "--no-reload",
                    "--worker-id",
                    name,
                ],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.kill(process)

    def logs(self) -> str:
        return "\n".join(
            f"----- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp.glob("worker-*.log"))
        )


def wait_for(condition: Any, seconds: float, what: str, workers: Workers) -> None:  # noqa: ANN401
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {seconds} s\n{workers.logs()}")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_loses_nothing_and_sends_nothing_twice(
    home, org, settings, tmp_path: Path
) -> None:
    needs_postgresql()
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    # The server takes a second over each message, so that the kill lands mid-send.
    server = SmtpServer(tmp_path / "smtp", delay=1.0)
    server.start()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    use_smtp(settings, server)
    workers = Workers(tmp_path, server.port)
    try:
        lead = make_officer(unit=org.north, leads=[org.north])
        _, officers = assign(home, org, lead, officers=8)
        run = send_reminders()  # cron: records and queues; sends nothing itself
        assert run.sent == {"assigned": 8} and run.waiting == 8
        assert server.accepted() == []
        sends = DBTaskResult.objects.filter(task_path="officers.tasks.send_email")
        assert sends.filter(status=TaskResultStatus.READY).count() == 8

        first = workers.start("worker-1")

        def mid_send() -> bool:
            since = server.in_flight_since()
            return len(server.accepted()) >= 2 and since is not None and time.time() - since < 0.4

        wait_for(mid_send, 60, "the first worker sending its third message", workers)
        workers.kill(first)  # SIGKILL: no clean-up of any kind
        killed = OutgoingEmail.objects.filter(status=Status.SENDING)
        assert killed.count() == 1, "the message in the dead worker's hands"
        stuck = killed.get()
        delivered_before = len(server.accepted())
        assert stuck.to not in server.recipients()

        workers.start("worker-2")  # picks up the tasks still waiting

        def all_but_the_stuck_one() -> bool:
            return OutgoingEmail.objects.filter(status=Status.SENT).count() == 7

        wait_for(all_but_the_stuck_one, 60, "the second worker sending the rest", workers)
        assert delivered_before < 7
        # The dead worker's task never ends, and its message waits out the lease...
        assert OutgoingEmail.objects.get(pk=stuck.pk).status == Status.SENDING
        time.sleep(LEASE_SECONDS + 0.5)
        # ...after which the next cron run hands it to the live worker.
        again = send_reminders()
        assert again.sent == {} and again.retried == 1

        def all_sent() -> bool:
            return OutgoingEmail.objects.filter(status=Status.SENT).count() == 8

        wait_for(all_sent, 60, "the stuck message being sent", workers)
    finally:
        workers.stop()
        server.stop()
    assert server.recipients() == Counter({o.email: 1 for o in officers}), workers.logs()
    stuck.refresh_from_db()
    assert stuck.attempts == 2
    assert Reminder.objects.count() == 8
