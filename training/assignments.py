"""Assignments: training leads ask officers to do courses by a date.

Rules (`AssignmentRule`) become one `Assignment` per officer; officers who join a unit later
are assigned by the rules that cover it; a certificate entering its refresher window assigns
the course again, due on the expiry date. Each assignment keeps the officer's unit path,
start and completion in step, so the completion matrix is one grouped query.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.models import Certificate
from courses.models import CoursePage, Enrolment
from officers.models import OfficerProfile, Unit, User
from officers.selectors import officers_visible_to, user_can_manage_unit
from training.models import Assignment, AssignmentRule
from training.rules import assignment_due_on, assignment_merged_due_on, refresher_due_on


def due_on_for(rule: AssignmentRule, assigned_on: date) -> date:
    return assignment_due_on(
        due_date=rule.due_date, due_days=rule.due_days, assigned_on=assigned_on
    )


def _current_certificates(
    course_id: int, user_ids: Iterable[int], today: date
) -> dict[int, object]:
    rows = Certificate.objects.in_force(on=today).filter(
        course_id=course_id, user_id__in=list(user_ids)
    )
    return {c.user_id: c.issued_at for c in rows}


@transaction.atomic
def _assign(
    *,
    course: CoursePage,
    profiles: list[OfficerProfile],
    due_on: date | None = None,
    rule: AssignmentRule | None = None,
    now=None,  # noqa: ANN001
) -> int:
    """Assign the course to these officers; returns how many were newly assigned.

    An officer whose current assignment for the course is still open keeps it (no second row,
    no second "course assigned" email), due on the earlier of its date and this one. Officers
    the rule already assigned are skipped.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = [p.user_id for p in profiles]
    if rule is not None:
        done = set(
            Assignment.objects.filter(rule=rule, user_id__in=ids).values_list("user_id", flat=True)
        )
        profiles = [p for p in profiles if p.user_id not in done]
        ids = [p.user_id for p in profiles]
    offered = due_on or (due_on_for(rule, today) if rule is not None else today)
    open_now = list(
        Assignment.objects.select_for_update().filter(
            course=course, user_id__in=ids, current=True, completed_at__isnull=True
        )
    )
    for assignment in open_now:
        merged = assignment_merged_due_on(assignment.due_on, offered)
        if merged != assignment.due_on:
            assignment.due_on, assignment.rule = merged, rule
            assignment.save(update_fields=["due_on", "rule"])
    kept = {a.user_id for a in open_now}
    profiles = [p for p in profiles if p.user_id not in kept]
    ids = [p.user_id for p in profiles]
    if not profiles:
        return 0
    certified = _current_certificates(course.pk, ids, today)
    started = dict(
        Enrolment.objects.filter(
            course=course, user_id__in=ids, completed_at__isnull=True
        ).values_list("user_id", "started_at")
    )
    Assignment.objects.filter(course=course, user_id__in=ids, current=True).update(current=False)
    Assignment.objects.bulk_create(
        [
            Assignment(
                user_id=p.user_id,
                course=course,
                rule=rule,
                kind=Assignment.Kind.ASSIGNED,
                assigned_at=now,
                due_on=offered,
                unit_path=p.unit.path if p.unit_id else "",
                started_at=started.get(p.user_id),
                completed_at=certified.get(p.user_id),
                current=True,
            )
            for p in profiles
        ],
        batch_size=2000,
    )
    return len(profiles)


def _profiles(
    users: Iterable[User] | None = None, unit: Unit | None = None
) -> list[OfficerProfile]:
    profiles = OfficerProfile.objects.select_related("unit").filter(user__is_active=True)
    if unit is not None:
        profiles = profiles.filter(unit__path__startswith=unit.path)
    if users is not None:
        profiles = profiles.filter(user__in=list(users))
    return list(profiles)


@transaction.atomic
def assignment_rule_create(
    *,
    by: User,
    course: CoursePage,
    unit: Unit | None = None,
    officers: Iterable[User] = (),
    due_date: date | None = None,
    due_days: int | None = None,
) -> tuple[AssignmentRule, int]:
    """Assign a course to a unit (and everything under it) or to named officers."""
    officers = list(officers)
    if (unit is None) == (not officers):
        raise ValidationError(_("Choose either a unit or intake, or named officers."))
    if (due_date is None) == (due_days is None):
        raise ValidationError(_("Give either a due date or a number of days."))
    if due_date is not None and due_date < timezone.localdate():
        raise ValidationError(_("The due date is in the past."))
    if unit is not None and not user_can_manage_unit(by, unit):
        raise ValidationError(_("You can only assign courses to the units you lead."))
    if officers:
        visible = set(
            officers_visible_to(by).filter(user__in=officers).values_list("user_id", flat=True)
        )
        outside = [o for o in officers if o.pk not in visible]
        if outside:
            raise ValidationError(
                _("These officers are not in the units you lead: %(who)s")
                % {"who": ", ".join(o.email for o in outside)}
            )
    rule = AssignmentRule.objects.create(
        course=course, unit=unit, due_date=due_date, due_days=due_days, created_by=by
    )
    if officers:
        rule.officers.set(officers)
    count = _assign(course=course, profiles=_profiles(officers or None, unit), rule=rule)
    return rule, count


def officer_placed(profile: OfficerProfile) -> int:
    """An officer joined or moved unit: keep their assignments' unit path in step and apply
    every rule that covers their new unit."""
    if profile.unit_id is None:
        return 0
    unit = profile.unit
    Assignment.objects.filter(user_id=profile.user_id).exclude(unit_path=unit.path).update(
        unit_path=unit.path
    )
    ancestors = [unit.path[:i] for i in range(Unit.steplen, len(unit.path) + 1, Unit.steplen)]
    count = 0
    for rule in AssignmentRule.objects.filter(unit__path__in=ancestors).select_related("course"):
        if rule.course.live:
            count += _assign(course=rule.course, profiles=[profile], rule=rule)
    return count


def officer_placed_many(profile_ids: Iterable[int]) -> int:
    """Many officers joined or moved unit at once (an import): `officer_placed` for each, in
    bulk: one update of assignment unit paths per unit, each rule applied to its officers
    together. Returns how many were newly assigned."""
    ids = sorted(set(profile_ids))
    profiles: list[OfficerProfile] = []
    for start in range(0, len(ids), 2000):
        profiles += OfficerProfile.objects.select_related("unit").filter(
            pk__in=ids[start : start + 2000], unit__isnull=False, user__is_active=True
        )
    # Only officers with assignments whose unit path is not their unit's: one update per unit.
    path_of = {p.user_id: p.unit.path for p in profiles}
    stale: dict[str, set[int]] = {}
    users = sorted(path_of)
    for start in range(0, len(users), 2000):
        rows = Assignment.objects.filter(user_id__in=users[start : start + 2000]).values_list(
            "user_id", "unit_path"
        )
        for user_id, unit_path in rows:
            if unit_path != path_of[user_id]:
                stale.setdefault(path_of[user_id], set()).add(user_id)
    for path, stale_users in stale.items():
        Assignment.objects.filter(user_id__in=sorted(stale_users)).update(unit_path=path)
    count = 0
    rules = AssignmentRule.objects.filter(unit__isnull=False, course__live=True)
    for rule in rules.select_related("course", "unit").order_by("pk"):
        covered = [p for p in profiles if p.unit.path.startswith(rule.unit.path)]
        for start in range(0, len(covered), 2000):
            count += _assign(course=rule.course, profiles=covered[start : start + 2000], rule=rule)
    return count


def progress_changed(*, user_id: int, course_id: int) -> None:
    """Copy the officer's latest start and completion onto their current assignment."""
    assignment = (
        Assignment.objects.filter(user_id=user_id, course_id=course_id, current=True)
        .select_related("source_certificate")
        .first()
    )
    latest = (
        Enrolment.objects.filter(user_id=user_id, course_id=course_id)
        .order_by("-started_at")
        .first()
    )
    if assignment is None or latest is None:
        return
    if (
        assignment.source_certificate
        and latest.started_at <= assignment.source_certificate.issued_at
    ):
        return  # a refresher counts only a run started after the certificate it renews
    changed = []
    if assignment.started_at is None:
        assignment.started_at = latest.started_at
        changed.append("started_at")
    if latest.completed_at and assignment.completed_at is None:
        assignment.completed_at = latest.completed_at
        changed.append("completed_at")
    if changed:
        assignment.save(update_fields=changed)


def refresher_assignments_sync(today: date | None = None) -> int:
    """Assign the course again to officers whose certificate has entered its refresher
    window, due on the expiry date. Safe to run any number of times."""
    today = today or timezone.localdate()
    due = (
        Certificate.objects.refresher_due(on=today)
        .filter(user__is_active=True)
        .exclude(refresher_assignments__isnull=False)
        .select_related("user__officer__unit", "course")
    )
    created = 0
    for certificate in due.iterator(chunk_size=500):
        profile = getattr(certificate.user, "officer", None)
        with transaction.atomic():
            Assignment.objects.filter(
                user_id=certificate.user_id, course_id=certificate.course_id, current=True
            ).update(current=False)
            Assignment.objects.create(
                user_id=certificate.user_id,
                course_id=certificate.course_id,
                source_certificate=certificate,
                kind=Assignment.Kind.REFRESHER,
                due_on=refresher_due_on(certificate.expires_on),
                unit_path=profile.unit.path if profile and profile.unit_id else "",
                started_at=Enrolment.objects.filter(
                    user_id=certificate.user_id,
                    course_id=certificate.course_id,
                    completed_at__isnull=True,
                    started_at__gt=certificate.issued_at,
                )
                .values_list("started_at", flat=True)
                .first(),
            )
        created += 1
    return created


def assignment_reopen(*, user_id: int, course_id: int) -> None:
    """A certificate was revoked: the officer's current assignment for the course is open
    again unless another current certificate still covers it."""
    if Certificate.objects.current().filter(user_id=user_id, course_id=course_id).exists():
        return
    Assignment.objects.filter(user_id=user_id, course_id=course_id, current=True).update(
        completed_at=None
    )
