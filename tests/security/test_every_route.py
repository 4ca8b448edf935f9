"""Every route the resolver exposes, requested by every intruder: refused, or allowed by name.

The walk fills each URL pattern (ours, allauth's, the Wagtail admin with every viewset,
snippet, report, chooser and bulk action, documents, images, Wagtail's front end) with real
objects chosen by parameter name and route (PARAMS: the victim's certificate, attempt,
officer profile, user and unit; a page, image, document, scenario...), then requests it with
GET and, where the view takes POST, with a POST carrying a valid CSRF token and an otherwise
empty form. Four intruders: an anonymous visitor, another learner of the victim's unit, an
author, and the training lead of East (the victim is in North / Tayside / Dundee Response).

Each response must refuse (a redirect to sign-in or to the admin's refusal page, Wagtail's
"no permission" redirect to the dashboard, 403, 404 or 405) unless ALLOWED names the route
for that intruder, with a reason. Whatever the status: never a 500, never the victim's name,
email, service number, certificate number or verification code in the body (unless ALLOWED
says the page exists to show it), and never a change to the victim's records. Each request
runs in a savepoint that is rolled back, and the client's cookies are put back after it, so
no request (a sign-out, a delete) can spoil the next.

The walk stays complete by failing on anything unclassified: a route outside every AREA, a
parameter PARAMS has no object for, an ALLOWED or KNOWN_BUGS entry naming no route, or an
ALLOWED entry none of whose routes that intruder can open any more. A real bug found by the
walk is listed in KNOWN_BUGS, checked on its own as a strict xfail, until it is fixed.
"""

from __future__ import annotations

import copy
import re
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.signals import got_request_exception
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import resolve
from django.utils import timezone
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.log_actions import log
from wagtail.models import Collection, Site, Task, Workflow

from courses.demo import course_index, grant_author_permissions
from courses.models import CoursePage, LessonPage
from officers.models import Invitation, Unit, User
from tests.security.conftest import Secrets
from tests.security.test_access import body_of, victim_state
from tests.security.test_csrf import Route, accepts_post, routes
from tests.security.test_uploads import png

pytestmark = pytest.mark.usefixtures("no_staff_mfa")  # staff who have set up MFA

ANONYMOUS, LEARNER, AUTHOR, LEAD = "anonymous", "other_learner", "author", "east_lead"
ROLES = (ANONYMOUS, LEARNER, AUTHOR, LEAD)
SIGNED_IN = (LEARNER, AUTHOR, LEAD)
STAFF = (AUTHOR, LEAD)

FRONT_END = r"^((?:[\w\-]+/)*)$"  # wagtail_serve: every page of the site
DOCUMENTS = r"documents/^(\d+)/(.*)$"  # wagtaildocs_serve

# ------------------------------------------------------------------ the classification

# Every route lies in one area. A route in none (a new app, a new top-level path) fails the
# walk until it is placed here and its expectations thought about.
AREAS = {
    "admin/": "the Wagtail admin, ours and Wagtail's: staff only, each view scoped",
    "accounts/": "allauth: signing in and up; the signed-in officer's own account",
    "account/": "the signed-in officer's own force, unit and service number (first sign-in)",
    "learning/": "the learner's own courses",
    "scenarios/": "the learner's own scenario attempts",
    "certificates/": "the learner's own certificates; the public check of one",
    "documents/": "Wagtail's document downloads",
    "health/": "health checks for the load balancer and monitoring",
    "_util/": "Wagtail's front-end sign-in (sent to allauth's) and page passwords",
    FRONT_END: "Wagtail's front end: the home page and the course pages",
}


@dataclass(frozen=True)
class Allowed:
    routes: tuple[str, ...]  # route patterns; `*` matches any run of characters
    roles: tuple[str, ...]
    reason: str
    shows: tuple[str, ...] = ()  # the victim's details this page exists to show


# The only routes an intruder may open (2xx, or a redirect other than a refusal). Every
# other route must refuse all four. No entry takes an officer's record in its address: the
# routes that do (officers, units, users, certificates, attempts, transcripts) refuse all.
ALLOWED = [
    Allowed((f"{FRONT_END} home",), ROLES, "the home page is public"),
    Allowed(("health/", "health/worker/"), ROLES, "health checks: ok or failing, and counts"),
    Allowed(("certificates/verify/",), ROLES, "the public form to check a certificate"),
    Allowed(
        ("certificates/verify/<str:code>/",),
        ROLES,
        "the code printed on a certificate (and in its QR code) is the holder's proof: whoever "
        "has it sees the name, course and dates it was issued for, and nothing more",
        shows=("full name", "family name"),
    ),
    Allowed(
        ("accounts/*", "^admin/password_reset/", "admin/password_reset/*"),
        ROLES,
        "allauth's pages (Wagtail's password reset leads there): signing in, up and resetting "
        "a password; for a signed-in officer, their own email, password, MFA and sessions (no "
        "route takes another officer)",
    ),
    Allowed(
        (DOCUMENTS,),
        ROLES,
        "lesson documents are served to whoever has the address, as Wagtail does (a private "
        "collection would restrict them): course material, never officer data",
    ),
    Allowed(("admin/sprite/", "admin/jsi18n/"), ROLES, "the admin's icons and translations"),
    Allowed(
        ("account/profile/",),
        SIGNED_IN,
        "the requester's own profile (force, unit, service number): no route takes another officer",
    ),
    Allowed(
        (f"{FRONT_END} course", "learning/", "learning/search/"),
        SIGNED_IN,
        "course pages, and my learning: for every signed-in officer, showing their own progress",
    ),
    Allowed(
        (
            "learning/courses/<int:course_id>/continue/",
            "learning/courses/<int:course_id>/start/",
            "learning/lessons/<int:lesson_id>/complete/",
            "learning/lessons/<int:lesson_id>/check/",
            "learning/courses/<int:course_id>/assessment/start/",
            "scenarios/<int:scenario_id>/start/",
        ),
        SIGNED_IN,
        "start or continue a course or scenario, complete a lesson: the address names content, "
        "and the view acts on the requester's own progress",
    ),
    Allowed(
        ("learning/lessons/<int:lesson_id>/as/<slug:mode>/",),
        STAFF,
        "a lesson as an officer of a jurisdiction sees it, read-only, for authors and leads: "
        "course content, no officer data",
    ),
    Allowed(
        ("admin/", "admin/account/", "admin/dismissibles/", "admin/editing-sessions/release/*"),
        STAFF,
        "the dashboard (each panel scoped to the viewer), and the viewer's own account, "
        "dismissed tips and editing sessions",
    ),
    Allowed(
        (
            "admin/choose-*",
            "admin/tag-autocomplete/*",
            "admin/embeds/chooser/*",
            "admin/workflows/task_chooser/*",
            "admin/images/chooser/*",
            "admin/documents/chooser/*",
            "admin/snippets/choose/*",
            "admin/api/main/*",
        ),
        STAFF,
        "Wagtail's choosers and admin API for content (pages, links, embeds, images, documents, "
        "scenarios, workflow tasks), filtered by Wagtail's permissions: no officer data",
    ),
    Allowed(
        (
            "admin/pages/create/*",
            "admin/pages/<int:page_to_move_id>/move/<int:destination_id>/confirm/",
            "admin/pages/workflow/confirm_cancellation/<int:page_id>/",
            "admin/pages/workflow/preview/<int:page_id>/<int:task_id>/",
            "admin/pages/<int:page_id>/revisions/",
        ),
        STAFF,
        "Wagtail page views that answer any admin user: no parent to choose, a move or "
        "cancellation to confirm (page titles; acting on it checks permission), a redirect to "
        "the page's history (which refuses)",
    ),
    Allowed(
        ("admin/reports/site-history/*",),
        STAFF,
        "Site history, scoped to the viewer's units (training.history)",
    ),
    Allowed(
        (
            "admin/snippets/scenarios/scenario/",
            "admin/snippets/scenarios/scenario/results/",
            "admin/snippets/scenarios/scenario/analytics/<int:pk>/",
        ),
        STAFF,
        "scenarios (content) and their analytics, counted over the viewer's units only",
    ),
    Allowed(
        (
            "admin/pages/*",
            "admin/reports/locked/*",
            "admin/reports/aging-pages/*",
            "admin/reports/page-types-usage/*",
            "admin/reports/workflow/*",
            "admin/reports/workflow_tasks/*",
            "admin/forms/*",
            "admin/snippets/scenarios/*",
            "admin/snippets/courses/bankquestion/*",
            "admin/images/*",
            "admin/documents/*",
        ),
        (AUTHOR,),
        "authors edit the course tree (courses.demo.grant_author_permissions), with Wagtail's "
        "page reports and form listings, write scenarios, and manage images and documents",
    ),
    Allowed(
        (
            "admin/officers/",
            "admin/officers/results/",
            "admin/officers/import/",
            "admin/certificates/",
            "admin/certificates/results/",
            "admin/training/matrix/",
            "admin/training/time/",
            "admin/training/assign/",
            "admin/training/overdue/*",
            "admin/training/expiring/*",
            "admin/training/expired/*",
            "admin/training/revoked/*",
            "admin/training/reminders/*",
            "admin/training/my-exports/",
            "admin/training/my-exports/results/",
        ),
        (LEAD,),
        "a lead's listings, reports and import, scoped to the units they lead (officers."
        "selectors): the victim is not in East, so none of this shows them",
    ),
    Allowed(
        (
            "admin/snippets/courses/localinformation/",
            "admin/snippets/courses/localinformation/results/",
            "admin/snippets/courses/localinformation/add/",
        ),
        (LEAD,),
        "force-local information: a lead lists and adds it for the units they lead only "
        "(courses.wagtail_hooks); North's, the victim's division's, is a 404 to East's lead",
    ),
]


def allowed_for(key: str, who: str) -> Allowed | None:
    for entry in ALLOWED:
        if who in entry.roles and any(matches(key, pattern) for pattern in entry.routes):
            return entry
    return None


def matches(key: str, pattern: str) -> bool:
    return key == pattern or ("*" in pattern and fnmatchcase(key, pattern))


# Real bugs the walk found, each checked on its own as a strict xfail (an XPASS once fixed:
# then delete the entry). (route key, intruder, method): what goes wrong.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {
    **{
        ("admin/choose-external-link/", who, "POST"): (
            "BUG (Wagtail): a POST without a `url` field raises AttributeError ('NoneType' has "
            "no attribute 'startswith') in wagtail.admin.forms.choosers.URLOrAbsolutePathField"
            ".to_python: 500 for any admin user"
        )
        for who in STAFF
    },
    ("admin/pages/<int:page_id>/copy/", AUTHOR, "POST"): (
        "BUG (Wagtail): a POST without `new_parent_page` raises KeyError in "
        "wagtail.admin.views.pages.copy.CopyView.post (it reads request.POST[...] before the "
        "form is checked): 500 for anyone who may copy the page"
    ),
}

# --------------------------------------------------------------------------- the objects


@dataclass
class World:
    """The victim's records and one of every other kind of object a route can name."""

    victim: User
    unit: Unit
    certificate: Any
    attempt: Any
    scenario: Any
    course: CoursePage
    lesson: LessonPage
    image: Image
    document: Document
    redirect: Redirect
    invitation: Invitation
    workflow: Workflow
    task: Task
    site: Site
    group: Group
    collection: Collection
    assessment: Any = None
    bank_question: Any = None
    local_information: Any = None
    officer_import: Any = None
    export_file: Any = None


@pytest.fixture
def world(learner, org, certified, attempt, scenario, course, north_lead) -> World:  # noqa: ANN001
    # The fixture's address, learner@police.scot, is part of other.learner@police.scot: the
    # other learner's own pages would seem to show it.
    learner.email = "zephyrine.quillfeather@police.scot"
    learner.save(update_fields=["email"])
    EmailAddress.objects.filter(user=learner).update(email=learner.email)
    # Authors edit the course tree, as the site's set-up lets them (courses.demo).
    grant_author_permissions(course_index(course.get_parent().get_parent()))
    # History that names the victim: their lead edited their profile and their unit.
    log(instance=learner.officer, action="wagtail.edit", user=north_lead)
    log(instance=org.dundee, action="wagtail.edit", user=north_lead)
    return World(
        victim=learner,
        unit=org.dundee,
        certificate=certified,
        attempt=attempt,
        scenario=scenario,
        course=course,
        lesson=LessonPage.objects.live().descendant_of(course).order_by("path").first(),
        image=Image.objects.create(title="Stairwell", file=ContentFile(png(), "stairwell.png")),
        document=Document.objects.create(
            title="Naloxone leaflet", file=ContentFile(b"Plain notes.", "leaflet.txt")
        ),
        redirect=Redirect.objects.create(old_path="/old-course", redirect_link="/"),
        invitation=Invitation.objects.create(email="guest@university.example"),
        workflow=Workflow.objects.order_by("pk").first(),  # Wagtail's default (its migrations)
        task=Task.objects.order_by("pk").first(),
        site=Site.objects.get(is_default_site=True),
        group=Group.objects.get(name="Learners"),
        collection=Collection.get_first_root_node().add_child(name="Lesson images"),
        assessment=victim_assessment(learner, certified),
        bank_question=bank_question_on(course),
        local_information=local_information_for(org.north),
        officer_import=officer_import_by(north_lead, learner),
        export_file=export_file_by(north_lead),
    )


def export_file_by(lead: User) -> Any:
    """The victim's lead's export of their overdue list, queued (its rows are the lead's
    units', the victim's among them): only that lead may open or download it."""
    from training.models import ExportFile

    return ExportFile.objects.create(
        user=lead,
        what="overdue",
        format="xlsx",
        params={},
        filename="overdue.xlsx",
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=24),
    )


def officer_import_by(lead: User, victim: User) -> Any:
    """The victim's lead's import of an HR file naming the victim, previewed (the file and the
    preview hold their name and service number): only that lead may open it."""
    from officers.import_jobs import import_job_create

    row = (
        f"{victim.email},{victim.first_name},{victim.last_name},"
        f"{victim.officer.service_number},Police Scotland,North/Tayside/Dundee Response,"
        "Sergeant,learner"
    )
    header = "email,given_name,family_name,service_number,force,unit,rank,role"
    return import_job_create(user=lead, filename="north-hr.csv", data=f"{header}\n{row}\n".encode())


def bank_question_on(course: CoursePage) -> Any:
    """A published question in the course's final-assessment bank (with two revisions)."""
    from courses.models import BankQuestion

    question = BankQuestion(
        course=course,
        prompt="Who may give naloxone?",
        options=[
            {"type": "option", "value": {"text": "Anyone", "correct": True, "feedback": "Yes."}},
            {"type": "option", "value": {"text": "Doctors only", "feedback": "No."}},
        ],
        live=False,
    )
    question.save()
    question.save_revision().publish()
    question.save_revision()
    return question


def local_information_for(unit: Unit) -> Any:
    """The victim's division's published local information (with two revisions): East's lead
    must not reach it."""
    from courses.models import LocalInformation

    item = LocalInformation(unit=unit, kind="arrest_referral", body="North: call the DIP team.")
    item.save()
    item.save_revision().publish()
    item.save_revision()
    return item


def victim_assessment(learner: User, certified: Any) -> Any:
    """The victim's final-assessment attempt (one question, answered), on their course."""
    from courses.models import AssessmentAnswer, AssessmentAttempt

    attempt = AssessmentAttempt.objects.create(
        user=learner, enrolment=certified.enrolment, course=certified.course, pass_mark=80, total=1
    )
    AssessmentAnswer.objects.create(attempt=attempt, position=1, option_order=["a"], chosen=["a"])
    return attempt


class Fake(str):
    """A value that names nothing real: the walk does not make the object, or cannot."""


MISSING = Fake("999999")
TOKEN = Fake("x1y2z3")
Value = Callable[[World], Any]

# What each URL parameter is filled with: (parameter, route prefix, value). The longest
# matching prefix wins: `pk` is the victim's profile under admin/officers/ and the scenario
# under admin/snippets/. A parameter with no rule fails the walk by name.
PARAMS: list[tuple[str, str, Value]] = [
    # The victim's records.
    ("attempt_id", "", lambda w: w.attempt.pk),
    ("assessment_id", "", lambda w: w.assessment.pk),
    ("position", "", lambda w: 1),
    ("user_id", "", lambda w: w.victim.pk),
    ("code", "", lambda w: w.certificate.code),
    ("pk", "certificates/", lambda w: w.certificate.pk),
    ("pk", "admin/certificates/", lambda w: w.certificate.pk),
    ("pk", "admin/officers/", lambda w: w.victim.officer.pk),
    ("pk", "admin/users/", lambda w: w.victim.pk),
    ("pk", "admin/units/", lambda w: w.unit.pk),
    ("pk", "admin/officers/import/", lambda w: w.officer_import.pk),
    ("token", "admin/training/my-exports/", lambda w: w.export_file.token),
    # A bulk action on the victim's account (its ids go in the query: QUERIES).
    ("app_label", "admin/bulk/", lambda w: "officers"),
    ("model_name", "admin/bulk/", lambda w: "user"),
    ("action", "admin/bulk/", lambda w: "delete"),
    # An editing session on the victim's profile.
    ("app_label", "admin/editing-sessions/", lambda w: "officers"),
    ("model_name", "admin/editing-sessions/", lambda w: "officerprofile"),
    ("object_id", "admin/editing-sessions/", lambda w: w.victim.officer.pk),
    ("session_id", "admin/editing-sessions/", lambda w: MISSING),
    # Content: the victim's course, lesson and scenario; an image and a document.
    ("course_id", "", lambda w: w.course.pk),
    ("lesson_id", "", lambda w: w.lesson.pk),
    ("mode", "learning/", lambda w: "england_wales"),
    ("scenario_id", "", lambda w: w.scenario.pk),
    ("pk", "admin/snippets/", lambda w: w.scenario.pk),
    ("revision_id", "admin/snippets/", lambda w: w.scenario.latest_revision_id),
    ("pk", "admin/snippets/courses/bankquestion/", lambda w: w.bank_question.pk),
    ("pk", "admin/snippets/choose/courses/bankquestion/", lambda w: w.bank_question.pk),
    (
        "revision_id",
        "admin/snippets/courses/bankquestion/",
        lambda w: w.bank_question.latest_revision_id,
    ),
    ("pk", "admin/snippets/courses/localinformation/", lambda w: w.local_information.pk),
    ("pk", "admin/snippets/choose/courses/localinformation/", lambda w: w.local_information.pk),
    (
        "revision_id",
        "admin/snippets/courses/localinformation/",
        lambda w: w.local_information.latest_revision_id,
    ),
    ("pk", "admin/pages/", lambda w: w.course.pk),
    ("pk", "admin/api/main/^pages/", lambda w: w.course.pk),
    ("page_id", "", lambda w: w.course.pk),
    ("page_pk", "", lambda w: w.course.pk),
    ("parent_page_id", "", lambda w: w.course.pk),
    ("page_to_move_id", "", lambda w: w.lesson.pk),
    ("destination_id", "", lambda w: w.course.get_parent().pk),
    ("revision_id", "admin/pages/", lambda w: w.course.latest_revision_id),
    ("revision_id_a", "", lambda w: "earliest"),
    ("revision_id_b", "", lambda w: "latest"),
    ("content_type_app_name", "", lambda w: "courses"),
    ("content_type_model_name", "", lambda w: "lessonpage"),
    ("app_label", "admin/pages/", lambda w: "courses"),
    ("model_name", "admin/pages/", lambda w: "lessonpage"),
    ("action_name", "admin/api/", lambda w: "copy"),
    ("action_name", "admin/pages/workflow/", lambda w: "approve"),
    ("pk", "admin/api/main/^images/", lambda w: w.image.pk),
    ("pk", "admin/images/", lambda w: w.image.pk),
    ("image_id", "", lambda w: w.image.pk),
    ("filter_spec", "", lambda w: "original"),
    ("pk", "admin/api/main/^documents/", lambda w: w.document.pk),
    ("pk", "admin/documents/", lambda w: w.document.pk),
    ("document_id", "", lambda w: w.document.pk),
    ("doc_id", "", lambda w: w.document.pk),
    ("app_name", "admin/tag-autocomplete/", lambda w: "taggit"),
    ("model_name", "admin/tag-autocomplete/", lambda w: "tag"),
    # The site's set-up.
    ("pk", "admin/invitations/", lambda w: w.invitation.pk),
    ("pk", "admin/groups/", lambda w: w.group.pk),
    ("pk", "admin/sites/", lambda w: w.site.pk),
    ("pk", "admin/collections/", lambda w: w.collection.pk),
    ("page_id", "admin/forms/", lambda w: Fake(w.course.pk)),  # Pathways has no form pages
    ("collection_id", "", lambda w: w.collection.pk),
    ("redirect_id", "", lambda w: w.redirect.pk),
    ("pk", "admin/workflows/", lambda w: w.workflow.pk),
    ("workflow_pk", "", lambda w: w.workflow.pk),
    ("pk", "admin/workflows/tasks/", lambda w: w.task.pk),
    ("task_id", "", lambda w: w.task.pk),
    ("app_label", "admin/workflows/", lambda w: "wagtailcore"),
    ("model_name", "admin/workflows/", lambda w: "groupapprovaltask"),
    # Pathways registers no settings models: any name is a missing one.
    ("app_name", "admin/settings/", lambda w: Fake("pathways")),
    ("model_name", "admin/settings/", lambda w: Fake("nosuchsetting")),
    ("pk", "admin/settings/", lambda w: w.site.pk),
    # Objects the walk does not make, and tokens only an email would carry.
    ("task_state_id", "", lambda w: MISSING),
    ("workflow_state_id", "", lambda w: MISSING),
    ("uploaded_file_id", "", lambda w: MISSING),
    ("restriction_id", "", lambda w: MISSING),
    ("page_view_restriction_id", "", lambda w: MISSING),
    ("key", "accounts/", lambda w: TOKEN),
    ("uidb36", "accounts/", lambda w: TOKEN),
    ("uidb64", "admin/password_reset/", lambda w: TOKEN),
    ("token", "admin/password_reset/", lambda w: TOKEN),
]

# Patterns with unnamed groups: the whole address, made by hand, one target per variant.
WHOLE_PATHS: dict[str, dict[str, Value]] = {
    FRONT_END: {"home": lambda w: "/", "course": lambda w: w.course.url},
    DOCUMENTS: {"": lambda w: f"/documents/{w.document.pk}/{w.document.filename}"},
    "admin/^.*/$": {"": lambda w: "/admin/no-such-admin-page/"},
}
# Query strings a view needs before it acts at all.
QUERIES: dict[str, Value] = {
    "admin/bulk/<str:app_label>/<str:model_name>/<str:action>/": lambda w: f"?id={w.victim.pk}",
}

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")
UNNAMED_GROUP = re.compile(r"\((?!\?P<)")


def rule_for(name: str, route: str) -> Value | None:
    matching = [(p, v) for param, p, v in PARAMS if param == name and route.startswith(p)]
    return max(matching, key=lambda rule: len(rule[0]))[1] if matching else None


@dataclass(frozen=True)
class Target:
    key: str  # the route pattern, and the variant for patterns with more than one
    url: str
    post: bool  # the view takes POST
    real: bool  # every parameter names a real object

    @property
    def methods(self) -> tuple[str, ...]:
        return ("GET", "POST") if self.post else ("GET",)


def keys_of(route: Route) -> list[str]:
    variants = WHOLE_PATHS.get(route.route, {"": None})
    return [f"{route.route} {v}" if v else route.route for v in variants]


def fill(route: Route, world: World) -> Iterator[Target]:
    post = accepts_post(route.view)
    if route.route in WHOLE_PATHS:
        for key, make in zip(keys_of(route), WHOLE_PATHS[route.route].values(), strict=True):
            yield Target(key, make(world), post, real=True)
        return
    values: list[Any] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        value = rule_for(name, route.route)
        if value is None:
            raise LookupError(f"no object for <{name}> in {route.route}: add one to PARAMS")
        values.append(value(world))
        return str(values[-1])

    path = PARAMETER.sub(substitute, route.route).replace("^", "").replace("$", "")
    query = QUERIES.get(route.route, lambda w: "")(world)
    url = "/" + path.replace("\\.", ".") + query
    yield Target(route.route, url, post, real=not any(isinstance(v, Fake) for v in values))


def all_targets(world: World) -> list[Target]:
    """One target per address. A pattern shadowed by an earlier one (our sign-in redirects
    in front of Wagtail's sign-in views) is requested once, at the address both share."""
    seen: dict[str, Target] = {}
    for route in routes():
        for target in fill(route, world):
            seen.setdefault(target.url, target)
    return list(seen.values())


# ------------------------------------------------------------------------------ the walk

SIGN_IN = ("/accounts/login/", "/admin/login/")
NO_PERMISSION = "Sorry, you do not have permission to access this area."
CSRF_SECRET = "RouteWalkCsrfSecret0123456789abc"  # 32 letters and digits: a valid secret


def refusal(who: str, response: HttpResponse) -> str | None:
    """How the response refuses, or None when it does not."""
    status = response.status_code
    if status in (403, 404, 405):
        return str(status)
    if status == 302:
        location = response["Location"]
        if location.startswith(SIGN_IN):
            return "sign-in"
        # Wagtail refuses staff without the permission: back to the dashboard, told why.
        told = [str(message) for message in get_messages(response.wsgi_request)]
        if who in STAFF and location == "/admin/" and any(NO_PERMISSION in m for m in told):
            return "no permission"
    return None


@dataclass
class Outcome:
    target: Target
    method: str
    status: int
    refused: str | None
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = f"{self.method} {self.target.url} ({self.target.key})"
        return f"{where} -> {self.status}: " + "; ".join(self.problems)


class Walker:
    """One intruder's client, and what each of its requests did."""

    def __init__(self, who: str, user: User | None, world: World, secrets: Secrets) -> None:
        self.who, self.world, self.secrets = who, world, secrets
        self.client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        if user is not None:
            self.client.force_login(user)
        self.client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
        self.cookies = copy.deepcopy(self.client.cookies)
        self.before = victim_state(world.victim)
        self.errors: list[str] = []

    def _record(self, **kwargs: Any) -> None:
        self.errors.append(traceback.format_exc(limit=-4))

    def request(self, target: Target, method: str) -> Outcome:
        self.errors = []
        got_request_exception.connect(self._record, weak=False)
        try:
            with transaction.atomic():
                if method == "GET":
                    response = self.client.get(target.url)
                else:
                    response = self.client.post(target.url, {"csrfmiddlewaretoken": CSRF_SECRET})
                body = body_of(response)
                refused = refusal(self.who, response)
                # A refused GET never reached the view's work; anything else might have.
                changed = (
                    response.status_code < 500
                    and (method == "POST" or refused is None)
                    and victim_state(self.world.victim) != self.before
                )
                transaction.set_rollback(True)
        finally:
            got_request_exception.disconnect(self._record)
            # Back to the cookies the walk began with: still signed in, the same CSRF secret,
            # no messages carried over to the next request.
            self.client.cookies = copy.deepcopy(self.cookies)
        return self.judge(Outcome(target, method, response.status_code, refused), body, changed)

    def judge(self, outcome: Outcome, body: str, changed: bool) -> Outcome:
        url = outcome.target.url
        if outcome.status >= 500:
            outcome.problems.append("server error:\n" + "".join(self.errors)[-2000:])
        if outcome.status == 403 and "CSRF verification failed" in body:
            outcome.problems.append("the walk's CSRF token was refused, so nothing was tested")
        allowed = allowed_for(outcome.target.key, self.who)
        if outcome.refused is None and allowed is None:
            outcome.problems.append("not refused, and not in ALLOWED for " + self.who)
        typed = {k for k, v in self.secrets.values.items() if v.lower() in url.lower()}
        shown = set(allowed.shows) if allowed else set()
        leaked = [k for k in self.secrets.leaked_in(body) if k not in typed | shown]
        if leaked:
            outcome.problems.append("shows the victim's " + ", ".join(leaked))
        if changed:
            outcome.problems.append("changed the victim's records")
        return outcome


def walker_for(who: str, request: pytest.FixtureRequest, world: World, secrets_of) -> Walker:  # noqa: ANN001
    user = None if who == ANONYMOUS else request.getfixturevalue(who)
    return Walker(who, user, world, secrets_of(world.certificate))


@pytest.mark.parametrize("who", ROLES)
def test_every_route_refuses_the_intruder_or_is_allowed(
    who: str, world: World, request: pytest.FixtureRequest, secrets_of
) -> None:  # noqa: ANN001
    walker = walker_for(who, request, world, secrets_of)
    outcomes = [
        walker.request(target, method)
        for target in all_targets(world)
        for method in target.methods
        if (target.key, who, method) not in KNOWN_BUGS
    ]
    problems = [str(o) for o in outcomes if o.problems]
    # An ALLOWED entry this intruder can no longer use is out of date: tighten the table.
    opened = {o.target.key for o in outcomes if o.refused is None}
    unused = [
        entry.routes
        for entry in ALLOWED
        if who in entry.roles and not any(matches(k, p) for k in opened for p in entry.routes)
    ]
    counts = Counter("refused" if o.refused else "allowed" for o in outcomes)
    print(f"\n{who}: {len(outcomes)} requests, {dict(counts)}")
    assert not problems, f"{len(problems)} problem(s) for {who}:\n" + "\n".join(problems)
    assert not unused, f"ALLOWED entries {who} can no longer open anything of: {unused}"
    assert counts["refused"] > counts["allowed"]


@pytest.mark.parametrize(
    ("key", "who", "method"),
    [
        pytest.param(
            *case, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)
        )
        for case, reason in KNOWN_BUGS.items()
    ],
)
def test_known_bug(
    key: str, who: str, method: str, world: World, request: pytest.FixtureRequest, secrets_of
) -> None:  # noqa: ANN001
    """Each bug the walk found, alone: fails (xfail) while the bug lasts."""
    walker = walker_for(who, request, world, secrets_of)
    outcome = walker.request(next(t for t in all_targets(world) if t.key == key), method)
    assert not outcome.problems, str(outcome)


# ------------------------------------------------------------- the walk covers everything


def test_every_route_lies_in_an_area() -> None:
    outside = [f"{r.route} ({r.name or r.module})" for r in routes() if not area_of(r.route)]
    assert not outside, "routes in no AREA: classify them in test_every_route.py: " + (
        ", ".join(outside)
    )


def area_of(route: str) -> str | None:
    if route in AREAS:
        return route
    prefixes = [p for p in AREAS if p.endswith("/") and route.lstrip("^").startswith(p)]
    return max(prefixes, key=len) if prefixes else None


def test_every_parameter_has_an_object() -> None:
    unfilled = []
    for route in routes():
        if route.route in WHOLE_PATHS:
            continue
        if UNNAMED_GROUP.search(PARAMETER.sub("", route.route)):
            unfilled.append(f"{route.route}: unnamed groups (add it to WHOLE_PATHS)")
        for match in PARAMETER.finditer(route.route):
            name = match.group(1) or match.group(2)
            if rule_for(name, route.route) is None:
                unfilled.append(f"{route.route}: <{name}> (add it to PARAMS)")
    assert not unfilled, "the walk cannot fill: " + "; ".join(unfilled)


def test_the_tables_name_real_routes() -> None:
    keys = {key for route in routes() for key in keys_of(route)}
    stale = [p for entry in ALLOWED for p in entry.routes if not any(matches(k, p) for k in keys)]
    stale += [key for key, _, _ in KNOWN_BUGS if key not in keys]
    stale += [
        p for p in (*WHOLE_PATHS, *QUERIES, *UNREACHABLE) if p not in {r.route for r in routes()}
    ]
    assert not stale, f"entries that name no route: {stale}"
    assert all(who in ROLES and method in ("GET", "POST") for _, who, method in KNOWN_BUGS)


def test_the_walk_reaches_real_objects(world: World, administrator: User) -> None:
    """The control: every address filled with real objects reaches them, for the
    administrator (admin routes) or the victim (their own pages). So a refusal above comes
    from the view's rules, not from an id that names nothing."""
    admin, owner = Client(raise_request_exception=False), Client(raise_request_exception=False)
    admin.force_login(administrator)
    owner.force_login(world.victim)
    checked, wrong = 0, []
    for target in all_targets(world):
        resolve(target.url.split("?")[0])  # an address the site answers
        if not (target.real and PARAMETER.search(target.key)) or target.key in UNREACHABLE:
            continue
        staff_only = target.url.startswith("/admin/") or target.key in STAFF_FRONT_END
        client = admin if staff_only else owner
        with transaction.atomic():
            status = client.get(target.url).status_code
            transaction.set_rollback(True)
        checked += 1
        if status in (403, 404) or status >= 500:
            wrong.append(f"{target.url} ({target.key}): {status}")
    assert not wrong, "filled with real objects, yet not reached: " + ", ".join(wrong)
    assert checked > 100


# Front-end addresses for staff only (reached by the administrator in the control above).
STAFF_FRONT_END = {"learning/lessons/<int:lesson_id>/as/<slug:mode>/"}

# Addresses filled with real objects that nobody can open, and why.
UNREACHABLE = {
    "admin/pages/<int:page_id>/convert_alias/": "the course page is not an alias",
    "admin/images/<int:image_id>/generate_url/": "Wagtail's image serve view is not installed",
    "admin/images/<int:image_id>/generate_url/output/": "the same",
    "admin/officers/import/<int:pk>/": "only the person who uploaded an import opens it",
    "admin/training/my-exports/<uuid:token>/": "only the person who asked for an export opens it",
    "admin/training/my-exports/<uuid:token>/download/": "the same, once it is written",
}
