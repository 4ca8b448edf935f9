"""Every lead list and a team's matrix are sortable: by the columns shown, the order kept across
pages and into exports, and any unknown `?ordering=` is the default order, never an error."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from certificates.models import Certificate
from courses.models import Enrolment
from officers.models import User
from tests.factories import make_course, make_officer
from training.assignments import assignment_rule_create
from training.matrix import OFFICER_ORDERINGS, completion_matrix, matrix_export_rows
from training.models import Assignment

pytestmark = pytest.mark.usefixtures("no_staff_mfa")

# (given, family, service number): the order by name is not the order by service number.
OFFICERS = [
    ("Ann", "Young", "SN300"),
    ("Bob", "Adams", "SN200"),
    ("Cat", "Moss", "SN100"),
    ("Dan", "Moss", "SN400"),
    ("Eve", "Short", ""),
]


@pytest.fixture
def team(org, north_lead, home) -> list[User]:  # noqa: ANN001
    """Five officers in Dundee with two courses: Young and Adams have both overdue, Moss (Cat)
    one, and Short has completed both."""
    courses = [make_course(home, title=t, modules=1, lessons=1) for t in ("Alpha", "Beta")]
    officers = [
        make_officer(
            unit=org.dundee,
            first_name=given,
            last_name=family,
            service_number=number or None,
            email=f"{given}.{family}@police.scot".lower(),
        )
        for given, family, number in OFFICERS
    ]
    officers[4].officer.service_number = ""
    officers[4].officer.save()
    today = timezone.localdate()
    for course in courses:
        assignment_rule_create(
            by=north_lead, course=course, unit=org.dundee, due_date=today + timedelta(days=9)
        )
    mine = Assignment.objects.filter(user__in=officers)
    for days, user in enumerate(officers[:2], start=1):
        mine.filter(user=user).update(due_on=today - timedelta(days=days))
    mine.filter(user=officers[2], course=courses[0]).update(due_on=today - timedelta(days=5))
    mine.filter(user=officers[4]).update(completed_at=timezone.now())
    return officers


@pytest.fixture
def north_lead(north_lead: User) -> User:
    """A name no officer of the team shares (the factory's are random)."""
    north_lead.first_name, north_lead.last_name = "Lee", "Lead"
    north_lead.save(update_fields=["first_name", "last_name"])
    return north_lead


def lead_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def names(matrix) -> list[str]:  # noqa: ANN001
    return [row.officer.user.last_name + " " + row.officer.user.first_name for row in matrix.rows]


# ---------------------------------------------------------------------- a team's matrix


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["Adams Bob", "Moss Cat", "Moss Dan", "Short Eve", "Young Ann"]),
        ("name", ["Adams Bob", "Moss Cat", "Moss Dan", "Short Eve", "Young Ann"]),
        ("-name", ["Young Ann", "Short Eve", "Moss Dan", "Moss Cat", "Adams Bob"]),
        # An empty service number sorts before any other.
        ("service_number", ["Short Eve", "Moss Cat", "Adams Bob", "Young Ann", "Moss Dan"]),
        ("-service_number", ["Moss Dan", "Young Ann", "Adams Bob", "Moss Cat", "Short Eve"]),
        # Ties by name, whichever way the count goes.
        ("-overdue", ["Adams Bob", "Young Ann", "Moss Cat", "Moss Dan", "Short Eve"]),
        ("overdue", ["Moss Dan", "Short Eve", "Moss Cat", "Adams Bob", "Young Ann"]),
        ("-complete", ["Short Eve", "Adams Bob", "Moss Cat", "Moss Dan", "Young Ann"]),
        ("complete", ["Adams Bob", "Moss Cat", "Moss Dan", "Young Ann", "Short Eve"]),
        # Anything else: by name.
        ("bogus", ["Adams Bob", "Moss Cat", "Moss Dan", "Short Eve", "Young Ann"]),
        ("--name", ["Adams Bob", "Moss Cat", "Moss Dan", "Short Eve", "Young Ann"]),
        ("user__password", ["Adams Bob", "Moss Cat", "Moss Dan", "Short Eve", "Young Ann"]),
    ],
)
def test_a_teams_officers_sort(org, north_lead, team, ordering, expected) -> None:  # noqa: ANN001
    matrix = completion_matrix(north_lead, unit=org.dundee, ordering=ordering)
    assert names(matrix) == expected
    assert matrix.ordering == (ordering if ordering in _orderings() else "name")


def _orderings() -> list[str]:
    return [prefix + key for key in OFFICER_ORDERINGS for prefix in ("", "-")]


@pytest.mark.parametrize("ordering", _orderings())
def test_every_sort_pages_through_everyone_once_with_exact_totals(
    org, north_lead, team, ordering
) -> None:  # noqa: ANN001
    whole = completion_matrix(north_lead, unit=org.dundee, ordering=ordering, per_page=None)
    seen = []
    for number in (1, 2, 3):
        page = completion_matrix(
            north_lead, unit=org.dundee, ordering=ordering, per_page=2, page=number
        )
        assert page.officer_page.paginator.count == len(OFFICERS)
        assert page.totals.cells == whole.totals.cells
        seen += names(page)
    assert seen == names(whole)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 500])
@pytest.mark.parametrize("ordering", ["name", "-overdue", "service_number"])
def test_the_streamed_team_export_is_the_matrix_of_everyone(
    org, north_lead, team, ordering, chunk_size
) -> None:  # noqa: ANN001
    """Read from a cursor a chunk of officers at a time, the export has the lines the whole
    team's matrix has, in the same order, whatever the chunk."""
    from training.matrix import matrix_csv_rows

    whole = completion_matrix(north_lead, unit=org.dundee, ordering=ordering, per_page=None)
    streamed = matrix_export_rows(
        north_lead, unit=org.dundee, ordering=ordering, chunk_size=chunk_size
    )
    assert list(streamed) == matrix_csv_rows(whole)


def test_the_drill_down_offers_the_sorts_and_keeps_them(org, north_lead, team) -> None:  # noqa: ANN001
    client = lead_client(north_lead)
    url = f"/admin/training/matrix/?unit={org.dundee.pk}"
    body = client.get(url).content.decode()
    assert "Sort officers by:" in body
    assert f"?unit={org.dundee.pk}&amp;ordering=-name" in body  # the current sort reverses
    assert f"?unit={org.dundee.pk}&amp;ordering=-overdue" in body  # most overdue first
    assert "SN400" in body  # the service number is shown beside the name
    body = client.get(url + "&ordering=-overdue").content.decode()
    order = ["Bob Adams", "Ann Young", "Cat Moss", "Dan Moss", "Eve Short"]
    assert [body.index(name) for name in order] == sorted(body.index(name) for name in order)
    # The exports are of the same order.
    assert "ordering=-overdue&amp;export=csv" in body
    response = client.get(url + "&ordering=-overdue&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    labels = [row[0] for row in rows[1::2]]  # one line per course: every other is the next
    assert labels == ["Bob Adams", "Ann Young", "Cat Moss", "Dan Moss", "Eve Short", "All"]
    assert client.get(url + "&ordering=%00").status_code == 200


def test_page_links_keep_the_sort(org, north_lead, team, monkeypatch) -> None:  # noqa: ANN001
    from training.admin_views import MatrixView

    monkeypatch.setattr(MatrixView, "per_page", 2)
    client = lead_client(north_lead)
    body = client.get(f"/admin/training/matrix/?unit={org.dundee.pk}&ordering=-name").content
    body = body.decode()
    assert f"?unit={org.dundee.pk}&amp;ordering=-name&amp;page=2" in body
    page2 = client.get(f"/admin/training/matrix/?unit={org.dundee.pk}&ordering=-name&page=2")
    text = page2.content.decode()
    assert "Dan Moss" in text and "Cat Moss" in text and "Ann Young" not in text


# ------------------------------------------------------------------------- the lists


def column(response, index: int) -> list[str]:  # noqa: ANN001
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return [row[index] for row in rows[1:]]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["Moss", "Adams", "Young"]),  # due on, earliest first: Moss 5 days ago
        ("due_on", ["Moss", "Adams", "Young"]),
        ("-due_on", ["Young", "Adams", "Moss"]),
        ("officer", ["Adams", "Moss", "Young"]),
        ("-officer", ["Young", "Moss", "Adams"]),
        ("user__email", ["Young", "Adams", "Moss"]),  # ann.young@, bob.adams@, cat.moss@
        ("bogus", ["Moss", "Adams", "Young"]),
        ("user__password", ["Moss", "Adams", "Young"]),
    ],
)
def test_the_overdue_list_sorts(north_lead, team, ordering, expected) -> None:  # noqa: ANN001
    client = lead_client(north_lead)
    query = {"export": "csv"} | ({"ordering": ordering} if ordering else {})
    response = client.get("/admin/training/overdue/", query)
    families = [name.split()[-1] for name in column(response, 1)]
    # Young and Adams have two overdue courses each: each officer's rows come together.
    assert list(dict.fromkeys(families)) == expected
    assert len(families) == 5
    page = client.get("/admin/training/overdue/", {"ordering": ordering or ""})
    assert page.status_code == 200


def test_list_pages_and_exports_keep_the_sort(north_lead, team, monkeypatch) -> None:  # noqa: ANN001
    from training.admin_views import OverdueView

    monkeypatch.setattr(OverdueView, "paginate_by", 2)
    client = lead_client(north_lead)
    body = client.get("/admin/training/overdue/?ordering=-officer").content.decode()
    assert "ordering=-officer&amp;p=2" in body or "p=2&amp;ordering=-officer" in body
    assert "ordering=-officer&amp;export=csv" in body  # the Download CSV button
    assert "Ann Young" in body and "Cat Moss" not in body and "Bob Adams" not in body
    second = client.get("/admin/training/overdue/?ordering=-officer&p=2").content.decode()
    third = client.get("/admin/training/overdue/?ordering=-officer&p=3").content.decode()
    assert "Moss" in second and "Adams" in third


def test_the_certificate_lists_sort(north_lead, team) -> None:  # noqa: ANN001
    from certificates.services import certificate_issue

    for user in team[:3]:
        enrolment = Enrolment.objects.create(
            user=user,
            course=Assignment.objects.filter(user=user).first().course,
            completed_at=timezone.now(),
        )
        certificate_issue(enrolment=enrolment)
    Certificate.objects.update(revoked_at=timezone.now())
    client = lead_client(north_lead)
    for ordering, expected in (
        ("officer_name", ["Ann Young", "Bob Adams", "Cat Moss"]),
        ("-officer_name", ["Cat Moss", "Bob Adams", "Ann Young"]),
        ("service_number", ["Cat Moss", "Bob Adams", "Ann Young"]),
        ("state_label", None),  # not a sort: the default order
    ):
        response = client.get("/admin/training/revoked/", {"ordering": ordering, "export": "csv"})
        if expected is not None:
            assert column(response, 1) == expected
        else:
            assert response.status_code == 200
    assert client.get("/admin/training/revoked/?ordering=-service_number").status_code == 200


def test_the_reminders_and_export_logs_sort(north_lead, administrator, team) -> None:  # noqa: ANN001
    from training.reminders import send_reminders

    send_reminders()
    client = lead_client(north_lead)
    for ordering in ("officer", "-sent_at", "status", "-kind", "subject", "nonsense"):
        response = client.get("/admin/training/reminders/", {"ordering": ordering})
        assert response.status_code == 200, ordering
    emails = column(client.get("/admin/training/reminders/?ordering=user__email&export=csv"), 0)
    assert emails == sorted(emails) and emails
    admin = lead_client(administrator)
    for ordering in ("user", "-what", "format", "-created_at", "nonsense"):
        assert admin.get("/admin/training/exports/", {"ordering": ordering}).status_code == 200
