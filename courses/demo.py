"""Load courses from the folders in courses/demo_content/ (used by seed_demo), and the
demo forces' local information.

A course folder holds `course.json` (the course's settings, its final assessment's settings and
its modules in order) and `modules/<slug>.json` (a module, its lessons and its part of the
final-assessment bank). docs/content-style.md describes the files; `manage.py check_content`
checks them.

Loading is get-or-create by slug at every level, so running it twice changes nothing and
never overwrites what an author has since edited. A lesson, module or bank question that
applies in one jurisdiction only says so in its JSON ("audience": a list of jurisdictions;
"jurisdiction" on a bank question). A lesson places a demo scenario by file name
(`{"type": "scenario", "value": {"file": "x.json"}}`); the scenario gets the lesson's audience.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import GroupPagePermission, Page

from courses.models import (
    BankQuestion,
    CourseIndexPage,
    CoursePage,
    LessonPage,
    LocalInformation,
    ModulePage,
)
from officers.jurisdictions import Jurisdiction
from officers.models import Role, Unit
from officers.roles import GROUP_NAMES
from scenarios.demo import demo_scenario

CONTENT_DIR = Path(__file__).resolve().parent / "demo_content"
DEMO_COURSES = ("public_health_approach", "naloxone_refresher")
AUTHOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
# Authors write the final-assessment question bank (a snippet); leads and learners may not.
AUTHOR_BANK_PERMISSIONS = (
    "add_bankquestion",
    "change_bankquestion",
    "delete_bankquestion",
    "publish_bankquestion",
    "view_bankquestion",
)


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
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="courses", codename__in=AUTHOR_BANK_PERMISSIONS
        )
    )


def _publish_child(parent: Page, page: Page) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def read_course(folder: Path) -> dict[str, Any]:
    """A course folder as one document: course.json with its modules' data in "modules"."""
    data = json.loads((folder / "course.json").read_text(encoding="utf-8"))
    data["modules"] = [
        json.loads((folder / "modules" / f"{slug}.json").read_text(encoding="utf-8"))
        for slug in data["modules"]
    ]
    return data


def lesson_body(blocks: list[dict[str, Any]], audience: list[str]) -> list[dict[str, Any]]:
    """JSON blocks as StreamField raw data ({"type", "value"} items). A scenario named by file
    is imported and published (once) for the lesson's audience, and placed by id."""
    body = []
    for block in blocks:
        value = block["value"]
        if block["type"] == "scenario" and "file" in value:
            value = {"scenario": demo_scenario(value["file"], audience=audience).pk}
        body.append({"type": block["type"], "value": value})
    return body


def _outcomes(texts: list[str]) -> list[dict[str, str]]:
    return [{"type": "outcome", "value": text} for text in texts]


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
                    outcomes=_outcomes(module_data["outcomes"]),
                    audience=module_data.get("audience", []),
                ),
            )
        for lesson_data in module_data["lessons"]:
            if LessonPage.objects.child_of(module).filter(slug=lesson_data["slug"]).exists():
                continue
            audience = lesson_data.get("audience", [])
            _publish_child(
                module,
                LessonPage(
                    title=lesson_data["title"],
                    slug=lesson_data["slug"],
                    summary=lesson_data.get("summary", ""),
                    outcomes=_outcomes(lesson_data.get("outcomes", [])),
                    audience=audience,
                    body=lesson_body(lesson_data["body"], audience),
                ),
            )
    return course


def load_demo_courses(home: Page) -> list[CoursePage]:
    index = course_index(home)
    grant_author_permissions(index)
    courses = []
    for name in DEMO_COURSES:
        data = read_course(CONTENT_DIR / name)
        course = load_course(data, index)
        if data.get("assessment"):
            load_bank(data, course)
        courses.append(course)
    return courses


@transaction.atomic
def load_bank(data: dict[str, Any], course: CoursePage) -> list[BankQuestion]:
    """Give the course its demo final assessment: the settings (`data["assessment"]`) and a
    published bank (each module's "bank"), once.

    A course whose bank already has questions is left alone (an author may have edited it)."""
    if BankQuestion.objects.filter(course=course).exists():
        return []
    course.assessment_question_count = data["assessment"]["question_count"]
    course.assessment_pass_mark = data["assessment"]["pass_mark"]
    course.save_revision().publish()
    modules = {m.slug: m for m in ModulePage.objects.child_of(course)}
    items = [
        (module["slug"], item) for module in data["modules"] for item in module.get("bank", [])
    ]
    questions = []
    for module_slug, item in items:
        question = BankQuestion(
            course=course,
            module=modules.get(module_slug),
            # A question that states one jurisdiction's law is asked only there.
            jurisdiction=item.get("jurisdiction", course.jurisdiction),
            prompt=item["prompt"],
            multiple=item["multiple"],
            options=[
                {
                    "type": "option",
                    "id": str(uuid.uuid4()),
                    "value": {
                        "text": option["text"],
                        "correct": option["correct"],
                        "feedback": option["feedback"],
                        "pinned": option.get("pinned", False),
                    },
                }
                for option in item["options"]
            ],
        )
        question.save()
        question.save_revision().publish()
        questions.append(question)
    return questions


# --- Force-local information -------------------------------------------------------------------
# Generic, clearly demo text: where to look, never a real service's name or phone number.

LOCAL_INFORMATION: dict[str, dict[str, str]] = {
    Jurisdiction.SCOTLAND: {
        LocalInformation.Kind.ARREST_REFERRAL: (
            "Demo text. Your force's arrest referral and drug services: see the force "
            "intranet page 'Arrest referral' or ask custody staff, who keep the current list "
            "for each custody centre.\n\nOffer a referral to anyone you arrest who may use "
            "drugs or alcohol, whatever the outcome of the case."
        ),
        LocalInformation.Kind.PARTNERSHIP: (
            "Demo text. Your local Alcohol and Drug Partnership (ADP) plans treatment and "
            "recovery services with the NHS board, the council and the third sector. Your "
            "division's partnership lead is named on the force intranet page 'Partnerships'."
        ),
        LocalInformation.Kind.OUT_OF_COURT: (
            "Demo text. Recorded Police Warnings and other direct measures are used under the "
            "Lord Advocate's guidelines and the force's own procedure. Read the procedure on "
            "the force intranet ('Direct measures') before you offer one, and ask your "
            "sergeant if unsure."
        ),
        LocalInformation.Kind.WELFARE: (
            "Demo text. After a difficult incident, talk to your sergeant. Occupational "
            "health and the employee assistance programme are on the force intranet page "
            "'Wellbeing'; you can refer yourself."
        ),
    },
    Jurisdiction.ENGLAND_WALES: {
        LocalInformation.Kind.ARREST_REFERRAL: (
            "Demo text. Your force's arrest referral service: see the force intranet page "
            "'Arrest referral' or ask custody staff, who can tell you who works in each "
            "custody suite and when.\n\nOffer a referral to anyone you arrest who may use "
            "drugs or alcohol."
        ),
        LocalInformation.Kind.PARTNERSHIP: (
            "Demo text. Your area's combating drugs partnership brings together the council, "
            "health services, probation and the police. Its police contact is listed on the "
            "force intranet page 'Partnerships'."
        ),
        LocalInformation.Kind.OUT_OF_COURT: (
            "Demo text. Which out-of-court resolutions and drug diversion options you may "
            "use depends on your force's policy: read 'Out-of-court resolutions' on the force "
            "intranet, and check with your sergeant or custody before you offer one."
        ),
        LocalInformation.Kind.WELFARE: (
            "Demo text. After a difficult incident, talk to your sergeant. Occupational "
            "health, the employee assistance programme and peer support are on the force "
            "intranet page 'Wellbeing'; you can refer yourself."
        ),
    },
}
# A division's own text, shown to its officers instead of the force's.
DIVISION_ARREST_REFERRAL = (
    "Demo text. In this division, the arrest referral workers are based in the main custody "
    "suite: custody staff have their hours. The force intranet page 'Arrest referral' has "
    "the details."
)


@transaction.atomic
def seed_demo_local_information(*, force: Unit, division: Unit | None = None) -> int:
    """Give a demo force its local information (published), and one division its own arrest
    referral text: once; an existing text for a unit and kind is never changed. Returns the
    number of texts created."""
    # (A force whose jurisdiction has no demo text, say one an administrator changed, gets none.)
    known = LOCAL_INFORMATION.get(force.jurisdiction, {})
    texts = [(force, kind, body) for kind, body in known.items()]
    if division is not None:
        texts.append((division, LocalInformation.Kind.ARREST_REFERRAL, DIVISION_ARREST_REFERRAL))
    created = 0
    for unit, kind, body in texts:
        if LocalInformation.objects.filter(unit=unit, kind=kind).exists():
            continue
        item = LocalInformation(unit=unit, kind=kind, body=body, live=False)
        item.save()
        item.save_revision().publish()
        created += 1
    return created
