"""Officer imports as background jobs: upload, preview, confirm, apply (officers.imports).

A request never reads more than the upload: the preview and the apply run in the task worker
(officers.tasks), and the person follows them on a page that refreshes itself. Each step moves
the job from one status to the next with a conditional update, so a second click, a second tab
or a second worker cannot run a step twice.

Progress is written to the shared cache, not to the job's row: the apply runs in one
transaction (all rows or none), whose writes no one else sees until it ends.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from officers.imports import (
    Change,
    ImportPlan,
    ImportRejected,
    PlanChanged,
    RowError,
    officer_file_read,
    officer_import_apply,
    officer_import_plan,
)
from officers.models import OfficerImport, User
from officers.outbox import task_enqueue

logger = logging.getLogger(__name__)

Status = OfficerImport.Status
RUNNING = (Status.PREVIEWING, Status.APPLYING)
SHOWN = 200  # changes of each kind kept for the preview page; the counts are whole
MAX_ERRORS = 1000  # problems kept (and counted in full)
KEEP_DAYS = 30  # a job's row (no file) is kept this long for its result page


def import_job_create(*, user: User, filename: str, data: bytes) -> OfficerImport:
    """Record an upload and start its preview."""
    from officers.tasks import preview_officer_import  # officers.tasks imports this module

    _forget_old()
    job = OfficerImport.objects.create(created_by=user, filename=filename[:255], data=data)
    _start(preview_officer_import, job)
    return job


def _start(task: Any, job: OfficerImport) -> None:
    """Hand the step to the worker, committed with the job's new status (officers.outbox)."""
    task_enqueue(task, job.pk)


def _forget_old() -> None:
    """What an import holds of officers (the file, the preview's names, the problems, which
    quote the file) is kept only while it is needed: a day after it ended, or after it was
    left unconfirmed, only the counts are left; after KEEP_DAYS, nothing. Runs whenever an
    import is uploaded, previewed or applied."""
    now = timezone.now()
    OfficerImport.objects.filter(updated_at__lt=now - timedelta(days=KEEP_DAYS)).delete()
    stale = OfficerImport.objects.filter(updated_at__lt=now - timedelta(days=1))
    stale.filter(status__in=[Status.READY, Status.REJECTED, Status.FAILED]).update(
        status=Status.CANCELLED, data=b"", preview={}, errors=[], updated_at=now
    )
    stale.filter(status__in=[Status.DONE, Status.CANCELLED]).update(errors=[])


def _move(job_id: int, frm: tuple[str, ...], to: str, **fields: Any) -> bool:
    """Move the job from one of `frm` to `to`, only if it is still there."""
    return bool(
        OfficerImport.objects.filter(pk=job_id, status__in=frm).update(
            status=to, updated_at=timezone.now(), **fields
        )
    )


def import_job_confirm(job: OfficerImport, *, deactivate_leavers: bool) -> bool:
    """The person confirmed the preview: apply it in the background. False if the job had
    already moved on (a second click)."""
    from officers.tasks import apply_officer_import

    if not _move(job.pk, (Status.READY,), Status.APPLYING, deactivate_leavers=deactivate_leavers):
        return False
    progress_set(job.pk, "queued", 0, job.rows)
    _start(apply_officer_import, job)
    return True


def import_job_retry(job: OfficerImport) -> bool:
    """Preview the same file again (after a change since the preview, or a stopped worker)."""
    from officers.tasks import preview_officer_import

    frm: tuple[str, ...] = (Status.FAILED, Status.READY)
    if import_job_stalled(job):
        frm = (*frm, *RUNNING)
    if not job.data or not _move(job.pk, frm, Status.PREVIEWING, message=""):
        return False
    _start(preview_officer_import, job)
    return True


def import_job_cancel(job: OfficerImport) -> bool:
    """Nothing is imported; the file is deleted."""
    return _move(job.pk, (Status.READY, Status.REJECTED, Status.FAILED), Status.CANCELLED, data=b"")


def import_job_stalled(job: OfficerImport) -> bool:
    """Running for far longer than any import takes: the worker stopped (the apply's
    transaction was rolled back with it)."""
    limit = timedelta(seconds=settings.PATHWAYS_IMPORT_STALL_SECONDS)
    return job.status in RUNNING and timezone.now() - job.updated_at > limit


def import_jobs_of(user: User) -> QuerySet[OfficerImport]:
    """The imports a person may see: their own (the files hold other officers' details)."""
    return OfficerImport.objects.filter(created_by_id=user.pk).defer("data")


SECTIONS = (
    ("created", _("New officers"), _("Accounts created; each is emailed an invitation.")),
    ("updated", _("Updated"), _("Names, service numbers or ranks that change.")),
    ("moved", _("Moved to another unit"), _("Their assignments follow the new unit's rules.")),
    ("role_changed", _("Role changes"), ""),
    ("leavers", _("Leavers"), _("Active officers of the file's force who are not in it.")),
)


def import_preview_sections(job: OfficerImport) -> list[dict[str, Any]]:
    """The preview's kinds of change, each with its count and its first rows."""
    counts = job.preview.get("counts", {})
    return [
        {
            "key": key,
            "title": title,
            "help": help_text,
            "count": counts.get(key, 0),
            "rows": job.preview.get(key, []),
        }
        for key, title, help_text in SECTIONS
    ]


# ------------------------------------------------------------------------ the worker's side


def import_job_preview(job_id: int) -> None:
    _forget_old()
    job = OfficerImport.objects.filter(pk=job_id, status=Status.PREVIEWING).first()
    if job is None:
        return
    actor = _actor(job)
    try:
        try:
            if actor is None:
                raise ImportRejected([RowError(1, "you may no longer import officers")])
            rows, errors = officer_file_read(bytes(job.data), job.filename)
            plan = officer_import_plan(rows, actor=actor)
            errors = sorted(errors + plan.errors)
        except ImportRejected as exc:
            rows, plan, errors = [], None, exc.errors
        if errors or plan is None:
            _reject(job_id, Status.PREVIEWING, errors, rows=len(rows))
        else:
            _move(job_id, (Status.PREVIEWING,), Status.READY, rows=len(rows), preview=_shown(plan))
    except Exception:  # reading, planning or saving the preview
        logger.exception("officer import %s: the preview failed", job_id)
        _move(
            job_id,
            (Status.PREVIEWING,),
            Status.FAILED,
            message="The preview could not be prepared. Try again, or ask for help.",
        )


def _reject(job_id: int, frm: str, errors: list[RowError], **fields: Any) -> None:
    """The file has problems: keep the first MAX_ERRORS of them (and their count), not the
    file."""
    _move(
        job_id,
        (frm,),
        Status.REJECTED,
        errors=[[e.line, e.message] for e in errors[:MAX_ERRORS]],
        error_count=len(errors),
        data=b"",
        **fields,
    )


def _shown(plan: ImportPlan) -> dict[str, Any]:
    def first(changes: list[Change]) -> list[list[Any]]:
        return [[c.line, c.email, c.name, c.detail] for c in changes[:SHOWN]]

    return {
        "counts": plan.summary(),
        "fingerprint": plan.fingerprint(),
        "fingerprint_with_leavers": plan.fingerprint(with_leavers=True),
        "created": first(plan.created),
        "updated": first(plan.updated),
        "moved": first(plan.moved),
        "role_changed": first(plan.role_changed),
        "leavers": first(plan.leavers),
        "units_created": plan.units_created[:SHOWN],
    }


def import_job_apply(job_id: int) -> None:
    _forget_old()
    job = OfficerImport.objects.filter(pk=job_id, status=Status.APPLYING).first()
    if job is None:
        return
    actor = _actor(job)

    def progress(stage: str, done: int, total: int) -> None:
        progress_set(job_id, stage, done, total)

    try:
        if actor is None:
            raise ImportRejected([RowError(1, "you may no longer import officers")])
        rows, errors = officer_file_read(bytes(job.data), job.filename)
        if errors:
            raise ImportRejected(errors)
        report = officer_import_apply(
            rows,
            actor=actor,
            expected=job.preview.get(
                "fingerprint_with_leavers" if job.deactivate_leavers else "fingerprint", ""
            ),
            deactivate_leavers=job.deactivate_leavers,
            progress=progress,
        )
    except PlanChanged:
        _move(
            job_id,
            (Status.APPLYING,),
            Status.FAILED,
            message=(
                "Nothing was imported: the officers changed after the preview was prepared"
                " (another import or an edit). Preview the file again to see what it would"
                " do now."
            ),
        )
    except ImportRejected as exc:
        _reject(job_id, Status.APPLYING, exc.errors)
    except Exception:
        logger.exception("officer import %s: the apply failed", job_id)
        _move(
            job_id,
            (Status.APPLYING,),
            Status.FAILED,
            message="Nothing was imported: something went wrong. Try again, or ask for help.",
        )
    else:
        _move(
            job_id,
            (Status.APPLYING,),
            Status.DONE,
            result={**report.counts, "deactivated": report.deactivated},
            preview={"counts": job.preview.get("counts", {})},  # no names once it is done
            data=b"",
        )
    finally:
        cache.delete(_progress_key(job_id))


def _actor(job: OfficerImport) -> User | None:
    """The uploader, if they still may import (rights are checked when each step runs)."""
    user = User.objects.filter(pk=job.created_by_id, is_active=True).first()
    if user is None or not user.has_perm("officers.import_officers"):
        return None
    return user


# ------------------------------------------------------------------------------ progress


def _progress_key(job_id: int) -> str:
    return f"officer-import-progress:{job_id}"


def progress_set(job_id: int, stage: str, done: int, total: int) -> None:
    cache.set(_progress_key(job_id), (stage, done, total), timeout=3600)


def progress_get(job_id: int) -> tuple[str, int, int] | None:
    value = cache.get(_progress_key(job_id))
    return tuple(value) if isinstance(value, tuple | list) and len(value) == 3 else None  # type: ignore[return-value]
