"""A team's matrix comes a page of officers at a time; its "All" row counts the whole team; an
export has every officer. (Force scale: a team of thousands is never one page.)"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from courses.models import CoursePage
from tests.factories import make_course, make_officer
from training.assignments import assignment_rule_create
from training.matrix import OFFICERS_PER_PAGE, Cell, completion_matrix
from training.models import Assignment

TEAM = OFFICERS_PER_PAGE * 2 + 30


@pytest.fixture
def team(org, north_lead, home):  # noqa: ANN001, ANN201
    course = make_course(home, title="Paging", modules=1, lessons=1)
    officers = [
        make_officer(unit=org.dundee, last_name=f"Officer{i:03d}", first_name="Pat")
        for i in range(TEAM)
    ]
    today = timezone.localdate()
    rule, _count = assignment_rule_create(
        by=north_lead, course=course, unit=org.dundee, due_date=today + timedelta(days=30)
    )
    mine = Assignment.objects.filter(rule=rule)
    ids = [o.pk for o in officers]
    mine.filter(user_id__in=ids[:50]).update(completed_at=timezone.now())
    mine.filter(user_id__in=ids[50:80]).update(due_on=today - timedelta(days=1))
    mine.filter(user_id__in=ids[80:120]).update(started_at=timezone.now())
    return course, officers


def _counts(cell: Cell) -> tuple[int, ...]:
    return (cell.total, cell.complete, cell.in_progress, cell.not_started, cell.overdue)


def test_a_team_is_paged_and_its_totals_count_everyone(org, north_lead, team) -> None:  # noqa: ANN001
    course, officers = team
    everyone = completion_matrix(north_lead, unit=org.dundee, per_page=None)
    assert len(everyone.rows) == TEAM and everyone.officer_page is None
    summed = Cell()
    for row in everyone.rows:
        summed.add(row.cell(course.pk))
    assert _counts(summed) == (TEAM, 50, 40, TEAM - 120, 30)

    seen = []
    for number, size in ((1, OFFICERS_PER_PAGE), (2, OFFICERS_PER_PAGE), (3, 30)):
        page = completion_matrix(north_lead, unit=org.dundee, page=number)
        assert len(page.rows) == size and page.officer_page.number == number
        # The "All" row is the whole team's, on every page.
        assert _counts(page.totals.cell(course.pk)) == _counts(summed)
        seen += [row.officer.user_id for row in page.rows]
    assert sorted(seen) == sorted(o.pk for o in officers)  # every officer once


@pytest.mark.parametrize(
    ("asked", "shown"), [("x", 1), ("-4", 3), ("", 1), ("999", 3), ("2", 2), (None, 1)]
)
def test_any_page_value_shows_a_page(org, north_lead, team, asked, shown) -> None:  # noqa: ANN001
    assert completion_matrix(north_lead, unit=org.dundee, page=asked).officer_page.number == shown


def lead_client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def test_the_page_links_and_the_export_of_the_whole_team(
    org, north_lead, team, no_staff_mfa, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    course, officers = team
    client = lead_client(north_lead)
    url = f"/admin/training/matrix/?unit={org.dundee.pk}"
    with django_assert_max_num_queries(60):
        body = client.get(url).content.decode()
    assert f"Officers 1 to {OFFICERS_PER_PAGE} of {TEAM}" in body
    assert "page=2" in body and "Previous page" not in body
    last = client.get(url + "&page=3").content.decode()
    assert f"Officers {2 * OFFICERS_PER_PAGE + 1} to {TEAM} of {TEAM}" in last
    assert "Next page" not in last and "Previous page" in last
    # The export links are of the whole team, whatever page is shown.
    assert "page=3&amp;export=csv" not in last
    exported = client.get(url + "&page=3&export=csv")
    content = b"".join(exported.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))[1:]
    assert len({row[0] for row in rows if row[0] != "All"}) == TEAM
    assert CoursePage.objects.filter(pk=course.pk).exists()


@pytest.mark.parametrize("name", ["overdue", "reminders"])
def test_a_list_export_reads_no_rows_before_the_first_byte(
    org, north_lead, team, no_staff_mfa, name
) -> None:  # noqa: ANN001
    """The export streams: answering the request reads none of the list's rows (Wagtail's
    listing would first load them all to count them); they are read as the file is sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _course, officers = team
    Assignment.objects.filter(user__in=officers).update(
        due_on=timezone.localdate() - timedelta(days=3), completed_at=None
    )
    client = lead_client(north_lead)
    table = {"overdue": '"training_assignment"', "reminders": '"training_reminder"'}[name]
    with CaptureQueriesContext(connection) as before:
        response = client.get(f"/admin/training/{name}/?export=csv")
    assert response.status_code == 200 and response.streaming
    reads = [
        q["sql"]
        for q in before.captured_queries
        if f"FROM {table}" in q["sql"] and "COUNT(" not in q["sql"] and "LIMIT" not in q["sql"]
    ]
    assert reads == []
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    if name == "overdue":
        assert len(list(csv.reader(io.StringIO(content)))) == TEAM + 1


def test_a_team_matrix_export_reads_no_rows_before_the_first_byte(
    org, north_lead, team, no_staff_mfa
) -> None:  # noqa: ANN001
    """The team's CSV streams: its officers are read from a cursor and counted a chunk at a
    time as the file is sent (training.matrix.matrix_export_rows), none before the answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = lead_client(north_lead)
    with CaptureQueriesContext(connection) as before:
        response = client.get(f"/admin/training/matrix/?unit={org.dundee.pk}&export=csv")
    assert response.status_code == 200 and response.streaming
    reads = [q["sql"] for q in before.captured_queries if 'FROM "training_assignment"' in q["sql"]]
    assert reads == []
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))[1:]
    assert len({row[0] for row in rows if row[0] != "All"}) == TEAM
