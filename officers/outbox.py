"""The outbox: every email is recorded first, then sent by a background task, one at a time.

`email_queue()` writes an `OutgoingEmail` row and enqueues `officers.tasks.send_email` for it;
`email_send()` is that task's work; `outbox_flush()` (run by `send_reminders` from cron) hands
the task anything that is due and has no live task: a retry whose time has come, or a message
whose worker died while sending it.

Why: a request never waits for the mail server, and one refused address, an outage or a
crash costs one message, never the run or the request that queued it.

Once, and the one window where it is not. A message is claimed under a row lock and marked
`sending`, with a lease, in a committed step *before* the mail server is contacted, and marked
`sent` straight after the server accepts it. A worker that dies before the server's "250 OK"
for the message leaves it `sending`; when the lease runs out `outbox_flush()` queues it again
and it is sent again, which is right: the server never took it. The only duplicate is a crash
*after* the server has accepted the message and *before* `sent` is committed: one UPDATE of one
row by primary key, a millisecond or two (the connection is closed only after it, so QUIT is not
in the window). Every attempt of a message carries the same Message-ID, so a mail system that
drops repeated Message-IDs removes even that duplicate. Nothing in SMTP lets a client learn
whether a message it lost track of was delivered, so this window cannot be closed, only kept
this small.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import unicodedata
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db import DatabaseBackend

from officers.models import OutgoingEmail

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status

MAX_ATTEMPTS = 8  # 1, 2, 4 ... 64 minutes apart: about two hours of trying
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=2)
# A queued message whose time came this long ago and is still queued has lost its task (its
# process died between commit and enqueue, or the worker is far behind): flush enqueues it.
FLUSH_GRACE = timedelta(minutes=2)
FLUSH_BATCH = 1000
# How long a worker may hold a message in `sending`; longer, and it is presumed dead. Far
# longer than a send can take: SEND_TIMEOUT bounds each step of the SMTP conversation. The
# setting PATHWAYS_OUTBOX_LEASE_SECONDS, if there is one, overrides it.
DEFAULT_LEASE_SECONDS = 600
SEND_TIMEOUT = 60  # seconds, unless EMAIL_TIMEOUT is set
MAX_ERROR = OutgoingEmail._meta.get_field("last_error").max_length
MAX_SUBJECT = OutgoingEmail._meta.get_field("subject").max_length


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """`text` as one header-safe line: CR, LF and every other control or line-separator
    character become a space, runs of spaces one, and the result is cut to `limit`."""
    spaced = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text or ""
    )
    return " ".join(spaced.split())[:limit].rstrip()


def lease() -> timedelta:
    seconds = getattr(settings, "PATHWAYS_OUTBOX_LEASE_SECONDS", None) or DEFAULT_LEASE_SECONDS
    return timedelta(seconds=seconds)


# ---------------------------------------------------------------------------- queueing


def email_queue(
    *,
    to: str,
    subject: str,
    body: str,
    html_body: str = "",
    from_email: str = "",
    key: str = "",
    sensitive: bool = False,
) -> OutgoingEmail:
    """Record an email and hand it to the task worker; returns the row.

    With a `key`, the email is recorded once however many callers queue it, concurrently or
    not: later calls return the first row (and send nothing). `sensitive`: the body holds a
    sign-in link or code and is erased once the message is sent or has failed.
    """
    email = OutgoingEmail(
        to=(to or "").strip(),
        from_email=one_line(from_email, 254),
        subject=one_line(subject),
        body=body,
        html_body=html_body,
        key=key,
        sensitive=sensitive,
    )
    if key:
        try:
            with transaction.atomic():
                email.save()
        except IntegrityError:  # queued already, perhaps by a caller at the same moment
            return OutgoingEmail.objects.get(key=key)
    else:
        email.save()
    _enqueue(email.pk)
    return email


def _enqueue(email_id: int, *, at: datetime | None = None) -> None:
    """Enqueue the send task so that it runs only once the row is committed.

    The database task backend writes the task in the caller's transaction: the row and its task
    are committed together, or neither is. The immediate backend (tests, DEBUG) runs the task
    here and now, on this connection, where the row is visible. Any other backend is handed the
    task on commit. A retry (`at`) on a backend that cannot defer is left to `outbox_flush()`.
    """
    from officers.tasks import send_email  # officers.tasks imports this module

    task = send_email
    backend = task.get_backend()
    if at is not None:
        if not backend.supports_defer:
            return
        task = task.using(run_after=at)
    task_enqueue(task, email_id)


def task_enqueue(task: Any, *args: Any) -> None:
    """Hand a task to the worker once the rows it reads are there for it. The database backend
    writes the task in the caller's transaction (committed with those rows, or not at all); the
    immediate backend (tests, DEBUG) runs it here, where the caller's rows are visible; any
    other backend is handed the task once the transaction commits."""
    if isinstance(task.get_backend(), DatabaseBackend | ImmediateBackend):
        task.enqueue(*args)
    else:
        transaction.on_commit(partial(task.enqueue, *args))


# ---------------------------------------------------------------------------- sending


def email_send(email_id: int) -> str | None:
    """Send one queued email (the task's work). Returns its status, or None if there was
    nothing to do: sent or failed already, not due yet, or in another worker's hands."""
    now = timezone.now()
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, next_attempt_at__lte=now)
            .filter(Q(status=Status.QUEUED) | Q(status=Status.SENDING))  # SENDING: lease expired
            .first()
        )
        if email is None:
            return None
        if email.status == Status.SENDING and email.attempts >= MAX_ATTEMPTS:
            # The last attempt's worker died mid-send: no more tries.
            _finish(email, Status.FAILED, error=_stopped_error(email), now=now)
            return Status.FAILED
        email.status = Status.SENDING
        email.attempts += 1
        email.next_attempt_at = now + lease()
        email.save(update_fields=["status", "attempts", "next_attempt_at"])

    connection = _connection()
    try:
        connection.open()
        if not connection.send_messages([_message(email, connection)]):
            raise ValueError("the message has no recipient")  # Django skips it silently
    except Exception as exc:  # any failure is this message's alone
        _close(connection)
        return _failed(email, exc)
    try:
        _finish(email, Status.SENT, now=timezone.now())
    finally:
        _close(connection)
    return Status.SENT


def _connection() -> BaseEmailBackend:
    return get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SEND_TIMEOUT)


def _close(connection: BaseEmailBackend) -> None:
    # The outcome is recorded already: QUIT going wrong changes nothing.
    with contextlib.suppress(Exception):
        connection.close()


def _message(email: OutgoingEmail, connection: BaseEmailBackend) -> EmailMessage:
    # The same Message-ID on every attempt: a mail system that drops repeats drops a duplicate.
    message_id = f"<pathways.outbox.{email.pk}.{int(email.created_at.timestamp())}@{DNS_NAME}>"
    common = {
        "subject": one_line(email.subject),
        "from_email": email.from_email or None,
        "to": [email.to],
        "headers": {"Message-ID": message_id},
        "connection": connection,
    }
    if not email.body and email.html_body:
        message = EmailMessage(body=email.html_body, **common)
        message.content_subtype = "html"
        return message
    message = EmailMultiAlternatives(body=email.body, **common)
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    return message


def _finish(email: OutgoingEmail, status: str, *, now: datetime, error: str = "") -> None:
    """Record a final status. `sent` is recorded whatever happened to the claim meanwhile:
    the server has the message."""
    changes: dict[str, object] = {"status": status}
    if status == Status.SENT:
        changes.update(sent_at=now, last_error="")
    else:
        changes["last_error"] = error
    if email.sensitive:
        changes.update(body="", html_body="")
    OutgoingEmail.objects.filter(pk=email.pk).update(**changes)


def _failed(email: OutgoingEmail, exc: Exception) -> str:
    """Record a failed attempt: retried later with back-off, or failed for good."""
    error = describe_error(exc)
    now = timezone.now()
    permanent = is_permanent(exc)
    if permanent or email.attempts >= MAX_ATTEMPTS:
        status, retry_at = Status.FAILED, None
    else:
        status = Status.QUEUED
        retry_at = now + min(RETRY_BASE * 2 ** (email.attempts - 1), RETRY_MAX)
    changes: dict[str, object] = {"status": status, "last_error": error}
    if retry_at is not None:
        changes["next_attempt_at"] = retry_at
    elif email.sensitive:
        changes.update(body="", html_body="")
    # Only while the claim is still ours: a worker that outlived its lease records nothing.
    updated = OutgoingEmail.objects.filter(
        pk=email.pk, status=Status.SENDING, attempts=email.attempts
    ).update(**changes)
    logger.warning("Email %s attempt %s failed (%s): %s", email.pk, email.attempts, status, error)
    if updated and retry_at is not None:
        _enqueue(email.pk, at=retry_at)
    return status


def is_permanent(exc: BaseException) -> bool:
    """True if trying again cannot help: the server refused the recipients or the message
    with a 5xx reply, or the message cannot be built (an address that is not one).

    A 5xx refusal of our sender address or credentials, or a server that is down or answers
    4xx, is a fault of the configuration or of the moment: retried.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return not isinstance(exc, OSError)  # smtplib's errors and socket errors are OSErrors


def describe_error(exc: BaseException) -> str:
    """One short line for the lists: the server's code and reply, or the kind of error. Never
    the message; SMTP replies carry no credentials."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, reply = next(iter(exc.recipients.values()))
        text = f"{code} {_text(reply)}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"{exc.smtp_code} {_text(exc.smtp_error)}"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return one_line(text, MAX_ERROR)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _stopped_error(email: OutgoingEmail) -> str:
    return one_line(
        f"The worker stopped during attempt {email.attempts}; it may or may not have been "
        "delivered.",
        MAX_ERROR,
    )


# ---------------------------------------------------------------------------- recovery


def outbox_flush() -> int:
    """Enqueue what is due and has no live task; returns how many. Safe to run at any time.

    Queued messages whose time came more than FLUSH_GRACE ago (a retry on a backend that cannot
    defer, or a task lost with its process) are enqueued again, and so are messages left in
    `sending` after their lease by a worker that died: those go back to `queued` first, so a
    stale task of the dead worker's can no longer send them. A duplicate task finds nothing
    to claim and does nothing.
    """
    now = timezone.now()
    due = Q(status=Status.QUEUED, next_attempt_at__lte=now - FLUSH_GRACE) | Q(
        status=Status.SENDING, next_attempt_at__lte=now
    )
    with transaction.atomic():
        rows = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("next_attempt_at")
            .values_list("pk", "status", "attempts", "sensitive")[:FLUSH_BATCH]
        )
        again: list[int] = []
        for pk, status, attempts, sensitive in rows:
            if status == Status.SENDING and attempts >= MAX_ATTEMPTS:
                stopped = OutgoingEmail(pk=pk, attempts=attempts, sensitive=sensitive)
                _finish(stopped, Status.FAILED, error=_stopped_error(stopped), now=now)
                continue
            changes: dict[str, object] = {"status": Status.QUEUED, "next_attempt_at": now}
            if status == Status.SENDING:
                changes["last_error"] = _stopped_error(OutgoingEmail(attempts=attempts))
            OutgoingEmail.objects.filter(pk=pk).update(**changes)
            again.append(pk)
    for pk in again:  # after the commit: the immediate backend sends right here
        _enqueue(pk)
    return len(again)


def outbox_counts() -> dict[str, int]:
    """How many messages are waiting (queued or being sent), and how many failed in the last
    seven days."""
    week_ago = timezone.now() - timedelta(days=7)
    return {
        "waiting": OutgoingEmail.objects.filter(status__in=[Status.QUEUED, Status.SENDING]).count(),
        "failed": OutgoingEmail.objects.filter(
            status=Status.FAILED, created_at__gte=week_ago
        ).count(),
    }
