"""CSRF on every state-changing endpoint, and no state change on GET.

Each endpoint in CASES is posted to twice from a fresh database: once by a client that
enforces CSRF checks and sends no token (403, nothing changes), and once by an ordinary test
client (the control: the same request does change something, so "nothing changed" above
means something). The resolver walks make sure a new POST view cannot slip by untested.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from wagtail.images.models import Image

from certificates.models import Certificate
from courses.models import (
    AssessmentAnswer,
    AssessmentAttempt,
    CheckAnswer,
    Enrolment,
    LessonCompletion,
    LessonPage,
)
from officers.models import Invitation, OfficerProfile, Unit, User
from scenarios.models import Attempt, AttemptChoice, Scenario
from tests.scenarios.conftest import DOC

pytestmark = pytest.mark.usefixtures("no_staff_mfa")

OUR_APPS = ("courses", "scenarios", "certificates", "officers", "pathways")


def state() -> dict[str, Any]:
    """The rows any of the endpoints below could change."""
    return {
        "users": list(
            User.objects.order_by("pk").values_list(
                "pk", "email", "first_name", "last_name", "is_active"
            )
        ),
        "profiles": list(
            OfficerProfile.objects.order_by("pk").values_list(
                "pk", "service_number", "unit_id", "rank"
            )
        ),
        "units": list(Unit.objects.order_by("pk").values_list("pk", "name", "path", "kind")),
        "invitations": list(Invitation.objects.order_by("pk").values_list("pk", "email")),
        "enrolments": list(
            Enrolment.objects.order_by("pk").values_list("pk", "user_id", "completed_at")
        ),
        "completions": LessonCompletion.objects.count(),
        "check_answers": CheckAnswer.objects.count(),
        "assessment_attempts": list(
            AssessmentAttempt.objects.order_by("pk").values_list("pk", "submitted_at", "passed")
        ),
        "assessment_answers": list(
            AssessmentAnswer.objects.order_by("pk").values_list("pk", "chosen")
        ),
        "attempts": list(
            Attempt.objects.order_by("pk").values_list("pk", "current_step", "score", "finished_at")
        ),
        "choices": AttemptChoice.objects.count(),
        "scenarios": list(Scenario.objects.order_by("pk").values_list("pk", "title", "live")),
        "certificates": list(Certificate.objects.order_by("pk").values_list("pk", "revoked_at")),
        "sessions": Session.objects.count(),
        "images": Image.objects.count(),
    }


def first_lesson(course) -> LessonPage:  # noqa: ANN001
    return LessonPage.objects.live().descendant_of(course).order_by("path").first()


def checked_lesson(course) -> LessonPage:  # noqa: ANN001
    """A lesson of the course with a check question (made once)."""
    from tests.factories import add_lesson

    found = LessonPage.objects.descendant_of(course).filter(slug="checked").first()
    if found is None:
        question = {
            "prompt": "Who leads?",
            "multiple": False,
            "options": [
                {"text": "Partners", "correct": True, "feedback": "Yes.", "pinned": False},
                {"text": "Police", "correct": False, "feedback": "No.", "pinned": False},
            ],
        }
        module = first_lesson(course).get_parent()
        body = [{"type": "question", "value": question}]
        found = add_lesson(module, "Checked", slug="checked", body=body)
    return LessonPage.objects.get(pk=found.pk)


def check_data(course) -> dict[str, Any]:  # noqa: ANN001
    block = checked_lesson(course).body[0]
    return {"question": block.id, "chosen": [block.value["options"].bound_blocks[0].id]}


def invitation() -> Invitation:
    return Invitation.objects.get_or_create(email="guest@university.example")[0]


CSV = (
    b"email,given_name,family_name,service_number,force,unit,rank,role\n"
    b"new.officer@police.scot,New,Officer,N1,Police Scotland,East,Constable,learner\n"
)


@dataclass
class Case:
    """One state-changing endpoint: who may use it, where, with what."""

    name: str  # the URL name, as the resolver knows it
    who: str  # the fixture of the user who posts
    url: Callable[[Any], str]
    data: Callable[[Any], dict[str, Any]] = lambda f: {}
    needs: tuple[str, ...] = ()


CASES = [
    Case(
        "courses:lesson_complete",
        "learner",
        lambda f: f"/learning/lessons/{first_lesson(f('course')).pk}/complete/",
        needs=("course",),
    ),
    Case(
        "courses:lesson_check",
        "learner",
        lambda f: f"/learning/lessons/{checked_lesson(f('course')).pk}/check/",
        lambda f: check_data(f("course")),
        needs=("course",),
    ),
    Case(
        "courses:start",
        "learner",
        lambda f: f"/learning/courses/{f('course').pk}/start/",
        needs=("course",),
    ),
    Case(
        "scenarios:start",
        "learner",
        lambda f: f"/scenarios/{f('scenario').pk}/start/",
        needs=("scenario",),
    ),
    Case(
        "scenarios:choose",
        "learner",
        lambda f: f"/scenarios/attempts/{f('attempt').pk}/choose/",
        lambda f: {"step": "call", "choice": "c1"},
        needs=("attempt",),
    ),
    Case("account_logout", "learner", lambda f: "/accounts/logout/"),
    Case(
        "officers_import",
        "administrator",
        lambda f: "/admin/officers/import/",
        lambda f: {"file": SimpleUploadedFile("officers.csv", CSV, "text/csv")},
    ),
    Case(
        "certificates_revoke",
        "administrator",
        lambda f: f"/admin/certificates/revoke/{f('certified').pk}/",
        lambda f: {"reason": "Issued in error."},
        needs=("certified",),
    ),
    Case(
        "wagtailsnippets_scenarios_scenario:import",
        "author",
        lambda f: "/admin/snippets/scenarios/scenario/import/",
        lambda f: {
            "file": SimpleUploadedFile(
                "scenario.json", json.dumps(DOC).encode(), "application/json"
            )
        },
    ),
    Case(
        "wagtailsnippets_scenarios_scenario:delete",
        "administrator",
        lambda f: f"/admin/snippets/scenarios/scenario/delete/{f('scenario').pk}/",
        needs=("scenario",),
    ),
    Case(
        "officers:edit",
        "administrator",
        lambda f: f"/admin/officers/edit/{f('learner').officer.pk}/",
        lambda f: {
            "user": f("learner").pk,
            "service_number": "CHANGED1",
            "force": f("org").force.pk,
            "unit": f("org").leith.pk,
            "rank": "Sergeant",
        },
    ),
    Case(
        "officers:delete",
        "administrator",
        lambda f: f"/admin/officers/delete/{f('learner').officer.pk}/",
    ),
    Case(
        "units:add",
        "administrator",
        lambda f: "/admin/units/new/",
        lambda f: {"name": "Fife Response", "kind": "team", "parent": f("org").east.pk},
    ),
    Case(
        "units:edit",
        "administrator",
        lambda f: f"/admin/units/edit/{f('org').leith.pk}/",
        lambda f: {"name": "Leith Renamed", "kind": "team", "parent": f("org").east.pk},
    ),
    Case(
        "units:delete",
        "administrator",
        lambda f: f"/admin/units/delete/{f('org').leith.pk}/",
    ),
    Case(
        "invitations:add",
        "administrator",
        lambda f: "/admin/invitations/new/",
        lambda f: {"email": "new.guest@university.example"},
    ),
    Case(
        "invitations:edit",
        "administrator",
        lambda f: f"/admin/invitations/edit/{invitation().pk}/",
        lambda f: {"email": "changed.guest@university.example"},
    ),
    Case(
        "invitations:delete",
        "administrator",
        lambda f: f"/admin/invitations/delete/{invitation().pk}/",
    ),
    Case("wagtailadmin_logout", "administrator", lambda f: "/admin/logout/"),
    Case(
        "officer_profile",
        "newcomer",
        lambda f: "/account/profile/",
        lambda f: {
            "force": f("org").force.pk,
            "unit": f("org").dundee.pk,
            "service_number": "NEW001",
        },
        needs=("org",),
    ),
    Case(
        "courses:assessment_start",
        "learner",
        lambda f: f"/learning/courses/{f('exam').course_id}/assessment/start/",
        needs=("exam",),
    ),
    Case(
        "courses:assessment_question",
        "learner",
        lambda f: f"/learning/assessments/{f('exam').pk}/questions/1/",
        lambda f: {"answer": exam_right_ids(f("exam"))},
        needs=("exam",),
    ),
    Case(
        "courses:assessment_submit",
        "learner",
        lambda f: f"/learning/assessments/{f('exam').pk}/submit/",
        needs=("answered_exam",),
    ),
]


@pytest.fixture
def newcomer(db):  # noqa: ANN001, ANN201
    """A learner who signed up and has not yet said which force and unit they serve in."""
    from officers.models import OfficerProfile, Role
    from officers.roles import user_set_role
    from tests.factories import UserFactory

    user = UserFactory(email="newcomer@police.scot")
    OfficerProfile.objects.create(user=user)
    user_set_role(user=user, role=Role.LEARNER)
    return user


@pytest.fixture
def exam(home, learner):  # noqa: ANN001, ANN201
    """The learner's attempt under way at a one-question final assessment, lessons done."""
    from courses.assessment import assessment_start
    from courses.models import BankQuestion
    from courses.services import lesson_mark_complete
    from tests.factories import make_course

    course = make_course(home, title="Assessed", modules=1, lessons=1, assessment_question_count=1)
    question = BankQuestion(
        course=course,
        prompt="Who may give naloxone?",
        options=[
            {"type": "option", "value": {"text": "Anyone", "correct": True, "feedback": "Yes."}},
            {"type": "option", "value": {"text": "Doctors only", "feedback": "No."}},
        ],
    )
    question.save()
    question.save_revision().publish()
    lesson_mark_complete(user=learner, lesson_id=first_lesson(course).pk)
    return assessment_start(user=learner, course_id=course.pk)


@pytest.fixture
def answered_exam(exam, learner):  # noqa: ANN001, ANN201
    from courses.assessment import assessment_answer

    assessment_answer(user=learner, attempt_id=exam.pk, position=1, values=exam_right_ids(exam))
    return exam


def exam_right_ids(exam) -> list[str]:  # noqa: ANN001
    from courses.models import BankQuestion

    answer = exam.answers.get(position=1)
    question = BankQuestion.objects.get(pk=answer.question_id)
    return [child.id for child in question.options if child.value["correct"]]


CASE_NAMES = {case.name for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_post_without_a_csrf_token_is_refused_and_changes_nothing(
    case: Case, request: pytest.FixtureRequest, org
) -> None:  # noqa: ANN001
    fixture = request.getfixturevalue
    for name in case.needs:
        fixture(name)
    user = fixture(case.who)
    url = case.url(fixture)

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    before = state()
    response = strict.post(url, case.data(fixture))
    assert response.status_code == 403, (url, response.status_code)
    assert "CSRF" in response.content.decode()
    assert state() == before

    # The control: the same request with CSRF satisfied does change something.
    ordinary = Client()
    ordinary.force_login(user)
    response = ordinary.post(url, case.data(fixture))
    assert response.status_code in (200, 302), (url, response.status_code)
    assert state() != before, f"{url}: the control request changed nothing"


STATE_CHANGING_GETS = [
    (
        "courses:lesson_complete",
        lambda f: f"/learning/lessons/{first_lesson(f('course')).pk}/complete/",
    ),
    (
        "courses:lesson_check",
        lambda f: f"/learning/lessons/{checked_lesson(f('course')).pk}/check/",
    ),
    ("courses:start", lambda f: f"/learning/courses/{f('course').pk}/start/"),
    ("scenarios:start", lambda f: f"/scenarios/{f('scenario').pk}/start/"),
    ("scenarios:choose", lambda f: f"/scenarios/attempts/{f('attempt').pk}/choose/"),
]


@pytest.mark.parametrize(
    ("name", "url"), STATE_CHANGING_GETS, ids=[n for n, _ in STATE_CHANGING_GETS]
)
def test_get_to_a_state_changing_endpoint_is_405_and_changes_nothing(
    name: str, url: Callable[[Any], str], learner, course, scenario, attempt
) -> None:  # noqa: ANN001
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    target = url(lambda n: {"course": course, "scenario": scenario, "attempt": attempt}[n])
    before = state()
    for query in ({}, {"step": "call", "choice": "c1"}):  # a GET with the form's fields too
        response = client.get(target, query)
        assert response.status_code == 405, (target, response.status_code)
        assert response["Allow"] == "POST"
    assert state() == before


# ------------------------------------------------------------------ resolver walks


@dataclass
class Route:
    route: str
    name: str
    view: Callable[..., Any]

    @property
    def module(self) -> str:
        view_class = getattr(self.view, "view_class", None)
        return (view_class or self.view).__module__ or ""

    @property
    def ours(self) -> bool:
        return self.module.split(".")[0] in OUR_APPS


def routes(patterns: list[Any] | None = None, prefix: str = "", ns: tuple = ()) -> Iterator[Route]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ns + ((pattern.namespace,) if pattern.namespace else ())
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield Route(
                prefix + str(pattern.pattern), ":".join((*ns, pattern.name or "")), pattern.callback
            )


def allowed_methods(view: Callable[..., Any]) -> set[str] | None:
    """The methods a view says it accepts; None when it does not say (so: anything)."""
    func: Any = view
    while func is not None:  # require_GET / require_POST / require_http_methods
        code = getattr(func, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = func.__closure__[code.co_freevars.index("request_method_list")]
            return {method.upper() for method in cell.cell_contents}
        func = getattr(func, "__wrapped__", None)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:  # a class-based view accepts what it has handlers for
        return {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    return None


def accepts_post(view: Callable[..., Any]) -> bool:
    methods = allowed_methods(view)
    return methods is None or "POST" in methods or "PUT" in methods or "DELETE" in methods


def test_walk_finds_our_views() -> None:
    """The walk itself works: it sees the views we know, with the methods we know."""
    found = {r.name: r for r in routes() if r.ours}
    assert allowed_methods(found["scenarios:choose"].view) == {"POST"}
    assert allowed_methods(found["certificates:verify"].view) == {"GET"}
    assert accepts_post(found["officers_import"].view)
    assert not accepts_post(found["certificate_admin:inspect"].view)


def test_every_learner_facing_post_view_is_in_the_csrf_list() -> None:
    """A new non-admin POST view of ours without a CSRF case here makes this fail."""
    uncovered = [
        f"{r.route} ({r.name})"
        for r in routes()
        if r.ours
        and not r.route.startswith(("admin/", "accounts/"))
        and accepts_post(r.view)
        and r.name not in CASE_NAMES
    ]
    assert not uncovered, "POST views with no CSRF test in CASES: " + ", ".join(uncovered)


def test_the_csrf_list_names_real_routes() -> None:
    known = {r.name for r in routes()}
    assert not CASE_NAMES - known, CASE_NAMES - known


def test_no_view_is_csrf_exempt() -> None:
    exempt = [
        f"{r.route} ({r.module})"
        for r in routes()
        if (r.ours or r.route.startswith("accounts/")) and getattr(r.view, "csrf_exempt", False)
    ]
    assert not exempt, exempt


def _dummy_kwargs(route: str) -> dict[str, Any]:
    import re

    return {
        name: 1 if converter == "int" else "x"
        for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", route)
    }


def test_every_post_view_of_ours_checks_csrf(administrator) -> None:  # noqa: ANN001
    """Walks every view of ours that takes POST, admin ones included (new ones too).

    CSRF is checked before the view runs, so any object id and no form data will do: the
    administrator (who may use every one of them) is still refused without a token.
    """
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(administrator)
    before = state()
    checked, accepted = [], []
    for route in routes():
        if not (route.ours and accepts_post(route.view)):
            continue
        url = reverse(route.name, kwargs=_dummy_kwargs(route.route))
        checked.append(url)
        if strict.post(url, {}).status_code != 403:
            accepted.append(url)
    assert "/admin/officers/import/" in checked and "/learning/courses/1/start/" in checked
    assert not accepted, f"POST without a CSRF token was not refused: {accepted}"
    assert state() == before


def test_get_only_views_really_refuse_post(learner) -> None:  # noqa: ANN001
    """What the walk reads from the decorators is what the views do."""
    client = Client()
    client.force_login(learner)
    checked, wrong = [], []
    for route in routes():
        if not route.ours or route.route.startswith("admin/") or accepts_post(route.view):
            continue
        url = reverse(route.name, kwargs=_dummy_kwargs(route.route))
        checked.append(url)
        if client.post(url).status_code != 405:
            wrong.append(url)
    assert "/certificates/verify/" in checked
    assert not wrong, f"said to be GET-only but took a POST: {wrong}"
