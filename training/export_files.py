"""Export files: spreadsheets too long to write inside a request, written by a background task.

A request for a long XLSX records an `ExportFile` (`export_file_request`) and is sent to a page
that waits for it; the task (training.tasks.build_export_file) writes it (`export_file_build`)
to default storage under a random name, and the person who asked downloads it from Pathways
(never from a public address) until it expires. What goes into the file is decided by the
list's own view, rebuilt for the same person and query string when the task runs
(training.admin_views.export_file_write), so that a list has one home for its rules.

Why: openpyxl needs seconds to minutes for a force's list (the expiring list at 150,000
officers once took 45 s and 843 MB inside the request, and never returned). CSV needs no job:
it streams from a server-side cursor as it is read.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from officers.models import User
from officers.outbox import task_enqueue
from training.models import ExportFile

logger = logging.getLogger(__name__)

# Lists of up to this many rows are written as XLSX inside the request (instant, and too small
# to cost time or memory); longer ones by the task. PATHWAYS_EXPORT_INLINE_ROWS; 0: every XLSX.
INLINE_ROWS = 2000
# How long a written file is kept. PATHWAYS_EXPORT_FILE_HOURS.
FILE_HOURS = 24
# An export still queued or being written after this long has lost its worker (or none is
# running): the person who asked is told so rather than left waiting.
STALE_AFTER = timedelta(hours=1)
# Exports one person may have waiting at once: a lead cannot fill the worker's queue.
MAX_OPEN = 5
# The waiting page looks again after this many seconds.
REFRESH_SECONDS = 3

# Query-string names that are not part of what a list holds: the format, and the page shown.
NOT_PARAMS = ("export", "p", "page")

FAILED = gettext_lazy(
    "The export could not be prepared. Please try again; if it fails again, tell your "
    "administrator."
)
NO_ACCESS = gettext_lazy(
    "You can no longer see this list (your role or units have changed): nothing was exported."
)


def export_inline_rows() -> int:
    return int(getattr(settings, "PATHWAYS_EXPORT_INLINE_ROWS", INLINE_ROWS))


def export_file_lifetime() -> timedelta:
    return timedelta(hours=int(getattr(settings, "PATHWAYS_EXPORT_FILE_HOURS", FILE_HOURS)))


def export_fits_inline(queryset: QuerySet) -> bool:
    """Whether the list is short enough to write inside the request: counted up to the limit
    only (a `LIMIT` in a subquery), never the whole list."""
    limit = export_inline_rows()
    return queryset.order_by()[: limit + 1].count() <= limit


def export_params(query: QueryDict) -> dict[str, list[str]]:
    """What of a query string defines the list: everything but the format and the page."""
    return {name: values for name, values in query.lists() if name not in NOT_PARAMS}


def export_files_of(user: User, *, now: datetime | None = None) -> QuerySet[ExportFile]:
    """The person's own export files that have not expired: nobody else's, whoever asks."""
    return ExportFile.objects.filter(user=user, expires_at__gt=now or timezone.now())


def export_file_is_stale(export: ExportFile, *, now: datetime | None = None) -> bool:
    """Queued for STALE_AFTER with no worker taking it, or being written for that long (from
    when a worker took it: a long queue does not make a running export look lost)."""
    since = export.started_at if export.status == ExportFile.Status.RUNNING else None
    return export.is_open and (since or export.created_at) < (now or timezone.now()) - STALE_AFTER


def export_file_request(
    *, user: User, what: str, filename: str, query: QueryDict, export_format: str = "xlsx"
) -> ExportFile:
    """Record an export for `user` of the list `what` with `query`'s filters and sort, and hand
    it to the task. The same export still being prepared is returned instead of a second one;
    more than MAX_OPEN waiting at once is refused (ValidationError)."""
    params = export_params(query)
    with transaction.atomic():
        # One request at a time per person: a double click makes one export, and parallel
        # requests cannot pass MAX_OPEN.
        User.objects.select_for_update().filter(pk=user.pk).first()
        now = timezone.now()
        waiting = [
            export
            for export in export_files_of(user, now=now).filter(
                status__in=[ExportFile.Status.QUEUED, ExportFile.Status.RUNNING]
            )
            if not export_file_is_stale(export, now=now)
        ]
        for export in waiting:
            if (export.what, export.format, export.params) == (what, export_format, params):
                return export
        if len(waiting) >= MAX_OPEN:
            raise ValidationError(
                _("You have %(n)s exports being prepared: please wait for one to finish.")
                % {"n": len(waiting)}
            )
        export = ExportFile.objects.create(
            user=user,
            what=what,
            format=export_format,
            params=params,
            filename=filename,
            created_at=now,
            expires_at=now + export_file_lifetime(),
        )
    _enqueue(export.pk)
    return export


def _enqueue(export_id: int) -> None:
    from training.tasks import build_export_file  # training.tasks imports this module

    task_enqueue(build_export_file, export_id)


def export_file_build(
    export_id: int, *, write: Callable[[ExportFile, IO[bytes]], int]
) -> ExportFile | None:
    """The task's work: claim the export (queued to running, once, however often the task
    runs), have `write` fill a temporary file and return the rows it wrote, store the file
    under a random name, and mark it ready. A failure marks it failed with a message for the
    person who asked (the details go to the log), never anything half-written."""
    export_files_purge()
    now = timezone.now()
    claimed = ExportFile.objects.filter(pk=export_id, status=ExportFile.Status.QUEUED).update(
        status=ExportFile.Status.RUNNING, started_at=now
    )
    export = ExportFile.objects.select_related("user").filter(pk=export_id).first()
    if not claimed or export is None:
        return export
    try:
        with tempfile.TemporaryFile() as output:
            rows = write(export, output)
            output.seek(0)
            name = f"{secrets.token_urlsafe(24)}.{export.format}"
            export.file.save(name, File(output, name=name), save=False)
    except (PermissionDenied, Http404):
        return _failed(export, NO_ACCESS)
    except Exception:  # anything at all: the person is told, the worker goes on
        logger.exception("Export file %s (%s) could not be written", export.pk, export.what)
        return _failed(export, FAILED)
    finished = timezone.now()
    updated = ExportFile.objects.filter(pk=export.pk).update(
        status=ExportFile.Status.READY,
        rows=rows,
        file=export.file.name,
        finished_at=finished,
        expires_at=finished + export_file_lifetime(),
    )
    if not updated:  # deleted while it was written (its owner's account, say): no orphan
        export.file.delete(save=False)
        return None
    export.refresh_from_db()
    return export


def _failed(export: ExportFile, message: object) -> ExportFile:
    export.status = ExportFile.Status.FAILED
    export.error = str(message)
    export.finished_at = timezone.now()
    ExportFile.objects.filter(pk=export.pk).update(
        status=export.status, error=export.error, finished_at=export.finished_at
    )
    return export


def export_files_purge(*, now: datetime | None = None) -> int:
    """Delete the export files past their time, rows and stored files (the post_delete
    receiver removes each file): run before every build and by `manage.py purge_exports`."""
    expired = ExportFile.objects.filter(expires_at__lte=now or timezone.now())
    count = 0
    for export in expired.iterator(chunk_size=500):
        export.delete()
        count += 1
    return count
