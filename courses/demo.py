"""Load courses from the JSON files in courses/demo_content/ (used by seed_demo), and the
demo forces' local information.

Loading is get-or-create by slug at every level, so running it twice changes nothing and
never overwrites what an author has since edited. A lesson, module or bank question that
applies in one jurisdiction only says so in its JSON ("audience": a list of jurisdictions;
"jurisdiction" on a bank question); a scenario's audience is in SCENARIO_AUDIENCE.
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
from scenarios.models import Scenario

# module slug in the demo course -> scenario file
PLACEMENT = {
    "trauma-informed-practice": "person-in-distress.json",
    "stigma-and-language": "handover-language.json",
    "naloxone-and-overdose": "overdose-stairwell.json",
    "direct-measures-and-diversion": "possession-stop.json",
}
# scenario file -> the jurisdictions whose law it follows (absent: all). The possession stop
# is set in Glasgow and turns on Scotland's Recorded Police Warnings. The other scenarios cite
# Scottish sources but what they teach holds everywhere.
SCENARIO_AUDIENCE = {"possession-stop.json": [Jurisdiction.SCOTLAND.value]}
CONTENT_DIR = Path(__file__).resolve().parent / "demo_content"
DEMO_FILES = ("public_health_approach.json", "naloxone_refresher.json")
AUTHOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
# Authors write the final-assessment question bank (a snippet); leads and learners may not.
AUTHOR_BANK_PERMISSIONS = (
    "add_bankquestion",
    "change_bankquestion",
    "delete_bankquestion",
    "publish_bankquestion",
    "view_bankquestion",
)
# course data file -> its final-assessment bank
DEMO_BANKS = {"public_health_approach.json": "public_health_approach_assessment.json"}


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
                    audience=module_data.get("audience", []),
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
                    audience=lesson_data.get("audience", []),
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
        course = load_course(data, index)
        if name in DEMO_BANKS:
            bank = json.loads((CONTENT_DIR / DEMO_BANKS[name]).read_text(encoding="utf-8"))
            load_bank(bank, course)
        courses.append(course)
    return courses


@transaction.atomic
def load_bank(data: dict[str, Any], course: CoursePage) -> list[BankQuestion]:
    """Give the course its demo final assessment: the settings and a published bank, once.

    A course whose bank already has questions is left alone (an author may have edited it)."""
    if BankQuestion.objects.filter(course=course).exists():
        return []
    course.assessment_question_count = data["question_count"]
    course.assessment_pass_mark = data["pass_mark"]
    course.save_revision().publish()
    modules = {m.slug: m for m in ModulePage.objects.child_of(course)}
    questions = []
    for item in data["questions"]:
        question = BankQuestion(
            course=course,
            module=modules.get(item["module"]),
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


@transaction.atomic
def place_demo_scenarios(course: CoursePage) -> list[Scenario]:
    placed = []
    for module_slug, filename in PLACEMENT.items():
        module = ModulePage.objects.child_of(course).filter(slug=module_slug).first()
        if module is None:
            continue
        audience = SCENARIO_AUDIENCE.get(filename, [])
        scenario = demo_scenario(filename, audience=audience)
        placed.append(scenario)
        slug = f"practise-{Path(filename).stem}"
        if LessonPage.objects.child_of(module).filter(slug=slug).exists():
            continue
        lesson = LessonPage(
            title=f"Practise: {scenario.title}",
            slug=slug,
            summary="Put the module into practice in a branching scenario.",
            # The practice lesson is for the officers whose law its scenario follows.
            audience=audience,
            body=[
                {
                    "type": "text",
                    "value": (
                        "<p>Work through the scenario below. Each choice has consequences and "
                        "feedback; at the end you see your score, whether you passed, and a "
                        "debrief. You must pass it to complete this module, and you can try "
                        "as often as you like. Unsafe choices are marked as critical: taking "
                        "one means the attempt cannot pass.</p>"
                    ),
                },
                {"type": "scenario", "value": {"scenario": scenario.pk}},
            ],
        )
        module.add_child(instance=lesson)
        lesson.save_revision().publish()
    return placed


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
