"""The outbox (officers.outbox) against a real SMTP server over a real socket.

The server is aiosmtpd, run by `SmtpServer` in a process of its own: it refuses the addresses
it is told to with `550` and writes down every message it accepts. Django's SMTP backend talks
to it exactly as it would to the production relay.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import timedelta
from email import message_from_string, policy
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from officers import outbox
from officers.models import OutgoingEmail
from officers.outbox import email_queue, email_send, one_line, outbox_flush
from tests.factories import PASSWORD

HOST = "127.0.0.1"
REFUSED = "refused@police.scot"
Status = OutgoingEmail.Status

# The server process: aiosmtpd with a handler that refuses some recipients with 550, and may
# take `delay` seconds over each message before it answers (to catch a client mid-send). It
# writes a message down only once it has decided to answer "250": a client killed before then
# (the connection lost, aiosmtpd cancels the handler) has not had the message accepted.
SERVER = r"""
import asyncio, json, os, sys, threading, time
from aiosmtpd.controller import Controller

port, state, refused, delay = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
refused = {a for a in refused.split(",") if a}
accepted = os.path.join(state, "accepted.jsonl")
in_flight = os.path.join(state, "in-flight")


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in refused:
            return "550 5.1.1 <%s>: Recipient address rejected: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if delay:
            with open(in_flight, "w") as handle:
                handle.write(str(time.time()))
            try:
                await asyncio.sleep(delay)
            finally:
                os.remove(in_flight)
            if server.transport is None or server.transport.is_closing():
                return "451 4.3.0 the client has gone"
        line = json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        })
        with open(accepted, "a") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return "250 2.0.0 OK: queued"


controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
open(os.path.join(state, "ready"), "w").close()
threading.Event().wait()
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A real SMTP server in a process of its own, on one port for its whole life: `stop` and
    `start` again make an outage. What it accepted survives restarts."""

    def __init__(
        self, directory: Path, *, refuse: Iterable[str] = (REFUSED,), delay: float = 0.0
    ) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.refuse = ",".join(a.lower() for a in refuse)
        self.delay = delay
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        ready = self.directory / "ready"
        ready.unlink(missing_ok=True)
        log = (self.directory / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                str(self.port),
                str(self.directory),
                self.refuse,
                str(self.delay),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 20
        while not ready.exists():
            if self.process.poll() is not None:
                pytest.fail(f"the SMTP server exited:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the SMTP server did not start:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def accepted(self) -> list[dict[str, Any]]:
        """Every message accepted so far, with its parsed `message`."""
        path = self.directory / "accepted.jsonl"
        if not path.exists():
            return []
        messages = []
        for line in path.read_text().splitlines():
            item = json.loads(line)
            item["message"] = message_from_string(item["data"], policy=policy.default)
            messages.append(item)
        return messages

    def recipients(self) -> Counter[str]:
        return Counter(to for item in self.accepted() for to in item["to"])

    def in_flight_since(self) -> float | None:
        """When the message it is holding (before answering) arrived, if it holds one."""
        try:
            return float((self.directory / "in-flight").read_text() or "nan")
        except (OSError, ValueError):
            return None


def use_smtp(settings: Any, server: SmtpServer) -> None:  # noqa: ANN401
    """Point Django's mail at the server: the SMTP backend, plain text on localhost."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = HOST
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10


@pytest.fixture
def smtp(tmp_path: Path, settings: Any) -> Iterator[SmtpServer]:  # noqa: ANN401
    server = SmtpServer(tmp_path / "smtp")
    server.start()
    use_smtp(settings, server)
    try:
        yield server
    finally:
        server.stop()


def later(delta: timedelta) -> time_machine.travel:
    """Travel to `delta` from now (the clock keeps ticking there)."""
    return time_machine.travel(timezone.now() + delta, tick=True)


def run_tasks_as_the_worker() -> int:
    """Run every ready task of the database backend through db_worker's own `run_task`, here
    (the test's transaction cannot take the worker loop's exclusive lock on SQLite)."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
    )
    ran = 0
    while (result := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
    return ran


def send_tasks() -> list[Any]:
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.filter(task_path="officers.tasks.send_email"))


@pytest.fixture
def database_tasks(settings: Any) -> None:  # noqa: ANN401
    """The production task backend: tasks wait in the database for a worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


# ------------------------------------------------------------------------------- subjects


def test_a_subject_is_one_line_of_at_most_the_column() -> None:
    assert one_line("Course\r\nassigned:\tA\x00B\u2028C\x7f  D ") == "Course assigned: A B C D"
    assert len(one_line("x" * 1000)) == 255
    assert one_line("  ") == ""


def test_a_newline_in_a_subject_reaches_the_server_as_one_line(db, smtp: SmtpServer) -> None:  # noqa: ANN001
    email = email_queue(to="a@police.scot", subject="Line one\nLine two\r\nthree", body="Hi")
    assert email.subject == "Line one Line two three"
    (item,) = smtp.accepted()
    assert item["message"]["Subject"] == "Line one Line two three"
    email.refresh_from_db()
    assert email.status == Status.SENT


# ------------------------------------------------------------------------------- refusals


def test_a_refused_address_fails_at_once_and_stops_no_other(db, smtp: SmtpServer) -> None:  # noqa: ANN001
    addresses = ["first@police.scot", REFUSED, "third@police.scot"]
    emails = [email_queue(to=a, subject="Hello", body="Body") for a in addresses]
    assert smtp.recipients() == Counter({"first@police.scot": 1, "third@police.scot": 1})
    first, refused, third = (OutgoingEmail.objects.get(pk=e.pk) for e in emails)
    assert first.status == third.status == Status.SENT
    assert first.sent_at is not None and first.attempts == 1
    assert refused.status == Status.FAILED
    assert refused.attempts == 1  # a 5xx refusal is not retried
    assert refused.last_error.startswith("550 5.1.1")
    assert "\n" not in refused.last_error and len(refused.last_error) <= 255
    # Nothing is due: the refused one is never tried again.
    with later(timedelta(days=1)):
        assert outbox_flush() == 0
    assert smtp.recipients()[REFUSED] == 0


def test_a_message_that_cannot_be_sent_fails_at_once(db, smtp: SmtpServer) -> None:
    nobody = email_queue(to="", subject="Hello", body="Body")
    broken = email_queue(to="a@police.scot\nBcc: b@police.scot", subject="Hello", body="Body")
    fine = email_queue(to="fine@police.scot", subject="Hello", body="Body")
    for email in (nobody, broken):
        email.refresh_from_db()
        assert email.status == Status.FAILED and email.attempts == 1, email.last_error
    assert "no recipient" in OutgoingEmail.objects.get(pk=nobody.pk).last_error
    fine.refresh_from_db()
    assert fine.status == Status.SENT
    assert smtp.recipients() == Counter({"fine@police.scot": 1})


# ------------------------------------------------------------------------------- outages


def test_a_server_that_is_down_is_retried_and_delivers_once(db, smtp: SmtpServer) -> None:  # noqa: ANN001
    smtp.stop()
    email = email_queue(to="patient@police.scot", subject="Hello", body="Body")
    email.refresh_from_db()
    assert email.status == Status.QUEUED and email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at > timezone.now()  # back-off
    assert outbox_flush() == 0  # not yet due

    smtp.start()
    with later(outbox.RETRY_BASE + outbox.FLUSH_GRACE + timedelta(seconds=1)):
        assert outbox_flush() == 1
        assert outbox_flush() == 0
    email.refresh_from_db()
    assert email.status == Status.SENT and email.attempts == 2 and email.last_error == ""
    assert smtp.recipients() == Counter({"patient@police.scot": 1})
    with later(timedelta(days=1)):
        assert outbox_flush() == 0
        assert email_send(email.pk) is None  # a stray task does nothing
    assert smtp.recipients() == Counter({"patient@police.scot": 1})


def test_back_off_doubles_and_the_last_attempt_fails_the_message(
    db, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 3)
    smtp.stop()
    email = email_queue(to="never@police.scot", subject="Hello", body="Body", sensitive=True)
    waits = []
    for _ in range(2):
        email.refresh_from_db()
        assert email.status == Status.QUEUED
        wait = email.next_attempt_at - timezone.now()
        waits.append(wait)
        with later(wait + outbox.FLUSH_GRACE + timedelta(seconds=1)):
            assert outbox_flush() == 1
    assert waits[1] > waits[0] * 1.5
    email.refresh_from_db()
    assert email.status == Status.FAILED and email.attempts == 3
    assert email.body == ""  # sensitive: erased once it has failed
    assert smtp.recipients() == Counter()


def test_a_worker_that_dies_mid_send_is_replaced_after_its_lease(db, smtp: SmtpServer) -> None:  # noqa: ANN001
    email = email_queue(to="once@police.scot", subject="Hello", body="Body")
    assert smtp.recipients() == Counter({"once@police.scot": 1})
    # As a worker that died after claiming it and before the server accepted it leaves it:
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=Status.SENDING, sent_at=None, next_attempt_at=timezone.now() + outbox.lease()
    )
    assert outbox_flush() == 0  # the lease still runs
    assert email_send(email.pk) is None  # nor can a stray task take it
    with later(outbox.lease() + timedelta(seconds=1)):
        assert outbox_flush() == 1
    email.refresh_from_db()
    assert email.status == Status.SENT and email.attempts == 2
    assert smtp.recipients() == Counter({"once@police.scot": 2})  # resent: see the docstring


# ------------------------------------------------------------------------------- once


def test_a_key_queues_the_same_email_once(db, smtp: SmtpServer) -> None:  # noqa: ANN001
    first = email_queue(to="key@police.scot", subject="Hello", body="Body", key="welcome:1")
    again = email_queue(to="key@police.scot", subject="Hello", body="Body", key="welcome:1")
    assert again.pk == first.pk
    assert OutgoingEmail.objects.count() == 1
    assert smtp.recipients() == Counter({"key@police.scot": 1})
    # Every attempt carries the same Message-ID, the row's.
    (item,) = smtp.accepted()
    assert f"pathways.outbox.{first.pk}." in item["message"]["Message-ID"]


# ------------------------------------------------------------------------------- accounts


def test_sign_up_email_is_queued_in_the_request_and_sent_by_the_task(
    db, smtp: SmtpServer, database_tasks: None
) -> None:
    response = Client().post(
        "/accounts/signup/",
        {"email": "new.officer@police.scot", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert smtp.accepted() == []  # nothing sent inside the request
    email = OutgoingEmail.objects.get(to="new.officer@police.scot")
    assert email.status == Status.QUEUED and email.sensitive
    assert "/accounts/confirm-email/" in email.body
    assert [t.args_kwargs["args"] for t in send_tasks()] == [[email.pk]]

    assert run_tasks_as_the_worker() == 1
    (item,) = smtp.accepted()
    assert item["to"] == ["new.officer@police.scot"]
    assert item["message"]["Subject"].startswith("[Pathways] ")
    assert "/accounts/confirm-email/" in item["message"].get_content()
    email.refresh_from_db()
    assert email.status == Status.SENT
    assert email.body == ""  # the link is not kept once it has gone


def test_password_reset_email_is_queued_in_the_request_and_sent_by_the_task(
    learner, smtp: SmtpServer, database_tasks: None
) -> None:
    response = Client().post("/accounts/password/reset/", {"email": learner.email})
    assert response.status_code == 302
    assert smtp.accepted() == []
    email = OutgoingEmail.objects.get(to=learner.email)
    assert email.status == Status.QUEUED
    assert run_tasks_as_the_worker() == 1
    (item,) = smtp.accepted()
    assert item["to"] == [learner.email]
    assert "/accounts/password/reset/key/" in item["message"].get_content()
    email.refresh_from_db()
    assert email.status == Status.SENT


def test_invitations_are_queued_once_per_invitation(
    client, administrator, no_staff_mfa, smtp: SmtpServer, database_tasks: None
) -> None:
    from officers.models import Invitation
    from officers.services import invitation_send

    client.force_login(administrator)
    response = client.post("/admin/invitations/new/", {"email": "trainer@university.example"})
    assert response.status_code == 302
    assert smtp.accepted() == []
    invitation_send(Invitation.objects.get())  # again, by mistake: still one email
    email = OutgoingEmail.objects.get()
    assert email.key == f"signup-invitation:{Invitation.objects.get().pk}"
    assert run_tasks_as_the_worker() >= 1
    assert smtp.recipients() == Counter({"trainer@university.example": 1})
