"""The completion matrix's counts computed directly from the assignments and certificates, as
`training.matrix` did before the tally: the oracle the tally's tests compare it with."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import Substr

from certificates.models import Certificate
from officers.selectors import subtree_q
from training.models import OFFICER_UNIT_PATH, Assignment
from training.tally import TALLIED


def direct_counts(
    *, roots: list[str], length: int, course_ids: list[int], today: date
) -> dict[tuple[str, int], dict[str, int]]:
    """What `training.tally.tally_counts` must return, counted from the rows themselves."""
    open_ = Q(completed_at__isnull=True)
    counts: dict[tuple[str, int], dict[str, int]] = {}
    grouped = (
        Assignment.objects.applying()
        .filter(subtree_q(roots, OFFICER_UNIT_PATH), current=True, course_id__in=course_ids)
        .annotate(key=Substr(OFFICER_UNIT_PATH, 1, length))
        .values("key", "course_id")
        .annotate(
            complete=Count("id", filter=Q(completed_at__isnull=False)),
            overdue=Count("id", filter=open_ & Q(due_on__lt=today)),
            in_progress=Count("id", filter=open_ & Q(due_on__gte=today, started_at__isnull=False)),
            not_started=Count("id", filter=open_ & Q(due_on__gte=today, started_at__isnull=True)),
        )
        .order_by()
    )
    for item in grouped:
        found = counts.setdefault((item["key"], item["course_id"]), dict.fromkeys(TALLIED, 0))
        for name in ("complete", "overdue", "in_progress", "not_started"):
            found[name] += item[name]
    expiring = (
        Certificate.objects.expiring(on=today)
        .filter(subtree_q(roots, OFFICER_UNIT_PATH), course_id__in=course_ids)
        .annotate(key=Substr(OFFICER_UNIT_PATH, 1, length))
        .values("key", "course_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for item in expiring:
        found = counts.setdefault((item["key"], item["course_id"]), dict.fromkeys(TALLIED, 0))
        found["expiring"] += item["n"]
    return counts
