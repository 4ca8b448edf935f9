"""The completion matrix's counts kept ready (`training.models.AssignmentTally`): reading them
for any day, and moving their date forward.

Database triggers (migration 0006) keep the tally exact "as of" its date D: an open assignment
due before D counts as overdue; a certificate counts as expiring if D is in its refresher
window. A read for day T adds what changes between D and T, which is only:

- open current assignments due in [D, T): overdue on T, not on D (or the reverse, T before D);
- current certificates whose refresher window starts in (D, T] or that expire in [D, T).

Both are range reads by index, few rows while D is recent. `tally_roll` (daily, from cron:
`manage.py tally_roll`) folds them into the tally and moves D to today, holding the date row
FOR UPDATE; every trigger reads D FOR SHARE, so no write is counted against a date that is
moving, and the roll sees every write committed before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import OperationalError, connection, transaction
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Substr
from django.utils import timezone

from certificates.models import Certificate
from courses.models import CoursePage
from officers.selectors import subtree_q
from training.models import (
    OFFICER_UNIT_PATH,
    Assignment,
    AssignmentTally,
    AssignmentTallyDate,
    applying_q,
)

# The counts a tally row holds; the first four are the states of an assignment.
ASSIGNMENT_STATES = ("complete", "overdue", "in_progress", "not_started")
TALLIED = (*ASSIGNMENT_STATES, "expiring")

# A read rolls the date forward itself (if no writer holds it) when cron has not for longer than
# this: at 150,000 officers a day behind made the national matrix about 100 ms slower, a week
# 300 ms (docs/performance.md).
ROLL_AFTER_DAYS = 1

Counts = dict[str, int]


def _expiring_on(day: date) -> Case:
    """1 for a certificate in its refresher window on `day`, else 0."""
    return Case(
        When(refresher_from__lte=day, expires_on__gte=day, then=1),
        default=0,
        output_field=IntegerField(),
    )


def assignments_shifting(*, since: date, until: date) -> QuerySet[Assignment]:
    """The current assignments of officers with a unit whose state on `until` differs from
    their state on `since`: open, and due in [earlier, later): overdue on the later day only."""
    earlier, later = sorted((since, until))
    return Assignment.objects.filter(
        current=True,
        completed_at__isnull=True,
        due_on__gte=earlier,
        due_on__lt=later,
        user__officer__unit__isnull=False,
    )


def certificates_shifting(*, since: date, until: date) -> QuerySet[Certificate]:
    """The current certificates of officers with a unit that may be expiring on one of the two
    days and not on the other: their refresher window starts in (earlier, later], or they
    expire in [earlier, later). Annotated with `shift`, expiring on `until` less on `since`."""
    earlier, later = sorted((since, until))
    window = Q(refresher_from__gt=earlier, refresher_from__lte=later) | Q(
        expires_on__gte=earlier, expires_on__lt=later
    )
    return (
        Certificate.objects.current()
        .filter(window, user__officer__unit__isnull=False)
        .annotate(shift=_expiring_on(until) - _expiring_on(since))
    )


def _shift_counts(started: int, fresh: int, sign: int) -> Counts:
    """Open assignments (`started` of them started) becoming overdue (sign 1) or no longer
    overdue (sign -1)."""
    return {
        "overdue": sign * (started + fresh),
        "in_progress": -sign * started,
        "not_started": -sign * fresh,
    }


def _add(counts: dict, key: object, values: Counts) -> None:
    found = counts.setdefault(key, dict.fromkeys(TALLIED, 0))
    for name, value in values.items():
        found[name] += value or 0


def tally_counts(
    *, roots: list[str], length: int, courses: Iterable[CoursePage | int], today: date
) -> tuple[dict[tuple[str, int], Counts], date]:
    """The matrix's counts on `today` for the officers in the units under `roots`, per (the
    first `length` characters of their unit's path, course), as `completion_matrix` counted
    them from the assignments: current assignments of courses that apply to the officer
    (`applying_q`) by state, and current expiring certificates. Groups that count nothing are
    left out. Also the tally's date. One query, three when the tally's date is not `today`."""
    counts: dict[tuple[str, int], Counts] = {}
    course_ids = [c if isinstance(c, int) else c.pk for c in courses]
    applies = applying_q(course="course", force="force")
    tally_date = AssignmentTallyDate.objects.filter(pk=1).values("as_of")[:1]
    rows = (
        AssignmentTally.objects.filter(subtree_q(roots, "unit__path"), course_id__in=course_ids)
        .annotate(key=Substr("unit__path", 1, length))
        .values("key", "course_id")
        .annotate(
            **{name: Sum(name, filter=applies) for name in ASSIGNMENT_STATES},
            expiring=Sum("expiring"),
            # Read in the same statement as the counts: one snapshot, whatever a roll does.
            as_of=Max(Subquery(tally_date)),
        )
        .order_by()
    )
    as_of: date | None = None
    for row in rows:
        as_of = row["as_of"]
        _add(counts, (row["key"], row["course_id"]), {n: row[n] for n in TALLIED})
    if as_of is None:  # nothing counted under `roots`: the date matters only for corrections
        as_of = AssignmentTallyDate.objects.values_list("as_of", flat=True).first() or today
    if as_of != today:
        sign = 1 if today > as_of else -1
        scope = subtree_q(roots, OFFICER_UNIT_PATH)
        moved = (
            assignments_shifting(since=as_of, until=today)
            .applying()
            .filter(scope, course_id__in=course_ids)
            .annotate(key=Substr(OFFICER_UNIT_PATH, 1, length))
            .values("key", "course_id")
            .annotate(
                started=Count("pk", filter=Q(started_at__isnull=False)),
                fresh=Count("pk", filter=Q(started_at__isnull=True)),
            )
            .order_by()
        )
        for row in moved:
            values = _shift_counts(row["started"], row["fresh"], sign)
            _add(counts, (row["key"], row["course_id"]), values)
        certificates = (
            certificates_shifting(since=as_of, until=today)
            .filter(scope, course_id__in=course_ids)
            .annotate(key=Substr(OFFICER_UNIT_PATH, 1, length))
            .values("key", "course_id")
            .annotate(n=Sum("shift"))
            .order_by()
        )
        for row in certificates:
            _add(counts, (row["key"], row["course_id"]), {"expiring": row["n"]})
    return {key: c for key, c in counts.items() if any(c.values())}, as_of


_UPSERT = (
    "INSERT INTO training_assignmenttally "
    "(unit_id, force_id, course_id, complete, overdue, in_progress, not_started, expiring) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (unit_id, course_id, (COALESCE(force_id, 0))) DO UPDATE SET "
    + ", ".join(f"{n} = training_assignmenttally.{n} + excluded.{n}" for n in TALLIED)
)


def _tally_add(deltas: dict[tuple[int, int | None, int], Counts]) -> None:
    """Add `deltas` per (unit, force, course) to the tally, in key order (as the triggers)."""
    ordered = sorted(deltas.items(), key=lambda item: (item[0][0], item[0][2], item[0][1] or 0))
    params = [
        (*key, *(values[n] for n in TALLIED)) for key, values in ordered if any(values.values())
    ]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(_UPSERT, params)


def tally_roll(*, to: date | None = None, nowait: bool = False) -> date | None:
    """Move the tally's date to `to` (today), counting what changed in between: the daily job.
    Waits for writers to commit (they hold the date FOR SHARE) and holds them for the few
    statements it takes; `nowait`: gives up (None) instead of waiting. Returns the new date."""
    to = to or timezone.localdate()
    with transaction.atomic():
        try:
            with transaction.atomic():
                state = (
                    AssignmentTallyDate.objects.select_for_update(nowait=nowait)
                    .filter(pk=1)
                    .first()
                )
        except OperationalError:
            if nowait:
                return None
            raise
        if state is None:  # only in an emptied database: the triggers make it on first write
            AssignmentTallyDate.objects.create(pk=1, as_of=to)
            return to
        since = state.as_of
        if since == to:
            return to
        sign = 1 if to > since else -1
        deltas: dict[tuple[int, int | None, int], Counts] = {}
        key = ("user__officer__unit_id", "user__officer__force_id", "course_id")
        moved = (
            assignments_shifting(since=since, until=to)
            .values(*key)
            .annotate(
                started=Count("pk", filter=Q(started_at__isnull=False)),
                fresh=Count("pk", filter=Q(started_at__isnull=True)),
            )
            .order_by()
        )
        for row in moved:
            values = _shift_counts(row["started"], row["fresh"], sign)
            _add(deltas, tuple(row[k] for k in key), values)
        certificates = (
            certificates_shifting(since=since, until=to)
            .values(*key)
            .annotate(n=Sum("shift"))
            .order_by()
        )
        for row in certificates:
            _add(deltas, tuple(row[k] for k in key), {"expiring": row["n"]})
        _tally_add(deltas)
        AssignmentTallyDate.objects.filter(pk=1).update(as_of=to)
        # Rows that count nothing any more (officers moved on, courses deleted).
        AssignmentTally.objects.filter(**dict.fromkeys(TALLIED, 0)).delete()
    return to


def tally_roll_if_behind(*, as_of: date, today: date) -> None:
    """Roll the tally to today if cron has not for `ROLL_AFTER_DAYS` (so that reads stay
    quick), unless a writer holds the date: then the next read tries again. For reads of
    the real today only (a read for another day corrects for the gap, never rolls)."""
    if today == timezone.localdate() and (today - as_of).days > ROLL_AFTER_DAYS:
        tally_roll(to=today, nowait=True)


def tally_rebuild(*, as_of: date | None = None) -> None:
    """Count the tally again from the assignments and certificates, as of `as_of` (today),
    under the date's lock: for a database whose tally was emptied or changed by hand."""
    as_of = as_of or timezone.localdate()
    with transaction.atomic():
        AssignmentTallyDate.objects.select_for_update().filter(pk=1).first()
        AssignmentTallyDate.objects.update_or_create(pk=1, defaults={"as_of": as_of})
        AssignmentTally.objects.all().delete()
        key = ("user__officer__unit_id", "user__officer__force_id", "course_id")
        open_ = Q(completed_at__isnull=True)
        counts: dict[tuple[int, int | None, int], Counts] = {}
        assignments = (
            Assignment.objects.filter(current=True, user__officer__unit__isnull=False)
            .values(*key)
            .annotate(
                complete=Count("pk", filter=Q(completed_at__isnull=False)),
                overdue=Count("pk", filter=open_ & Q(due_on__lt=as_of)),
                in_progress=Count(
                    "pk", filter=open_ & Q(due_on__gte=as_of, started_at__isnull=False)
                ),
                not_started=Count(
                    "pk", filter=open_ & Q(due_on__gte=as_of, started_at__isnull=True)
                ),
            )
            .order_by()
        )
        for row in assignments:
            _add(counts, tuple(row[k] for k in key), {n: row[n] for n in ASSIGNMENT_STATES})
        certificates = (
            Certificate.objects.expiring(on=as_of)
            .filter(user__officer__unit__isnull=False)
            .values(*key)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in certificates:
            _add(counts, tuple(row[k] for k in key), {"expiring": row["n"]})
        _tally_add(counts)
