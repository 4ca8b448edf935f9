"""Load courses from the JSON files in courses/demo_content/ (used by seed_demo).

Loading is get-or-create by slug at every level, so running it twice changes nothing and
never overwrites what an author has since edited.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import GroupPagePermission, Page

from courses.models import CourseIndexPage, CoursePage, LessonPage, ModulePage
from officers.models import Role
from officers.roles import GROUP_NAMES

CONTENT_DIR = Path(__file__).resolve().parent / "demo_content"
DEMO_FILES = ("public_health_approach.json", "naloxone_refresher.json")
AUTHOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")


def course_index(home: Page) -> CourseIndexPage:
    index = CourseIndexPage.objects.child_of(home).first()
    if index is None:
        index = home.add_child(
            instance=CourseIndexPage(
                title="Courses",
                slug="courses",
                intro="Every published Pathways course. Your assigned courses are on My learning.",
            )
        )
        index.save_revision().publish()
    return index


def grant_author_permissions(index: CourseIndexPage) -> None:
    """Authors may add, edit and publish pages anywhere under the course index."""
    group, _ = Group.objects.get_or_create(name=GROUP_NAMES[Role.AUTHOR])
    for codename in AUTHOR_PAGE_PERMISSIONS:
        permission = Permission.objects.get(
            content_type__app_label="wagtailcore", codename=codename
        )
        GroupPagePermission.objects.get_or_create(group=group, page=index, permission=permission)


def _publish_child(parent: Page, page: Page) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def lesson_body(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON blocks as StreamField raw data ({"type", "value"} items)."""
    return [{"type": block["type"], "value": block["value"]} for block in blocks]


@transaction.atomic
def load_course(data: dict[str, Any], index: CourseIndexPage) -> CoursePage:
    course = CoursePage.objects.child_of(index).filter(slug=data["slug"]).first()
    if course is None:
        course = _publish_child(
            index,
            CoursePage(
                title=data["title"],
                slug=data["slug"],
                summary=data["summary"],
                audience=data["audience"],
                duration_minutes=data["duration_minutes"],
                jurisdiction=data["jurisdiction"],
                validity_months=data.get("validity_months"),
                refresher_window_days=data.get("refresher_window_days", 60),
            ),
        )
    for module_data in data["modules"]:
        module = ModulePage.objects.child_of(course).filter(slug=module_data["slug"]).first()
        if module is None:
            module = _publish_child(
                course,
                ModulePage(
                    title=module_data["title"],
                    slug=module_data["slug"],
                    intro=module_data.get("intro", ""),
                    outcomes=[
                        {"type": "outcome", "value": text} for text in module_data["outcomes"]
                    ],
                ),
            )
        for lesson_data in module_data["lessons"]:
            if LessonPage.objects.child_of(module).filter(slug=lesson_data["slug"]).exists():
                continue
            _publish_child(
                module,
                LessonPage(
                    title=lesson_data["title"],
                    slug=lesson_data["slug"],
                    summary=lesson_data.get("summary", ""),
                    duration_minutes=lesson_data.get("duration_minutes", 10),
                    body=lesson_body(lesson_data["body"]),
                ),
            )
    return course


def load_demo_courses(home: Page) -> list[CoursePage]:
    index = course_index(home)
    grant_author_permissions(index)
    courses = []
    for name in DEMO_FILES:
        data = json.loads((CONTENT_DIR / name).read_text(encoding="utf-8"))
        courses.append(load_course(data, index))
    return courses


def seed_demo_training(*, main: CoursePage, refresher: CoursePage, lead_email: str) -> int:
    """The demo lead's units get history: assignments, progress (done, in progress, overdue,
    expiring), scenario attempts and sent reminders. Runs once; returns assignments made."""
    from datetime import timedelta

    from django.test.utils import override_settings
    from django.utils import timezone

    from courses.assignments import _assign, _profiles
    from courses.models import AssignmentRule, Enrolment, LessonCompletion
    from courses.reminders import send_reminders
    from officers.models import User
    from scenarios.services import attempt_choose, attempt_start

    lead = User.objects.get(email=lead_email)
    if AssignmentRule.objects.filter(created_by=lead).exists():
        return 0
    today = timezone.localdate()
    north, intake = list(lead.officer.led_units.order_by("path"))[:2]
    made = 0
    rules = [
        (main, north, today + timedelta(days=45), None),
        (refresher, north, today - timedelta(days=10), None),  # already overdue for some
        (main, intake, None, 28),
    ]
    for course, unit, due_date, due_days in rules:
        rule = AssignmentRule.objects.create(
            course=course, unit=unit, due_date=due_date, due_days=due_days, created_by=lead
        )
        made += _assign(course=course, profiles=_profiles(unit=unit), rule=rule)

    # Some officers in North part-way through the main course, one with scenario attempts.
    lessons = list(LessonPage.objects.live().descendant_of(main).order_by("path"))
    in_progress = User.objects.filter(
        officer__unit__path__startswith=north.path, enrolments__isnull=True
    ).order_by("email")[:4]
    for n, user in enumerate(in_progress):
        enrolment = Enrolment.objects.create(user=user, course=main)
        for lesson in lessons[: 2 + 2 * n]:
            if not lesson.scenario_ids:
                LessonCompletion.objects.create(enrolment=enrolment, lesson=lesson)
        for lesson in lessons[: 2 + 2 * n]:
            for scenario_id in lesson.scenario_ids:
                attempt = attempt_start(user=user, scenario_id=scenario_id, lesson_id=lesson.pk)
                attempt_choose(
                    user=user, attempt_id=attempt.pk, step=attempt.current_step, choice=0
                )
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        send_reminders()
    return made
