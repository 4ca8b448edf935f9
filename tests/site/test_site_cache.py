"""The Wagtail site of a request comes from the shared cache (pathways.middleware): chosen as
Wagtail chooses it, read from the database only when no sites are kept, and changed at once
when a site changes. The officer's profile and staff role are read in one query."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, Site
from wagtail.models.sites import get_site_for_hostname

from officers.roles import has_staff_role
from pathways.middleware import all_sites, site_for
from tests.factories import make_course, make_officer

# (hostname, port, default) of the sites of each arrangement.
ARRANGEMENTS = [
    [("localhost", 80, True)],
    [("pathways.example", 443, True), ("other.example", 443, False)],
    [("pathways.example", 443, False), ("other.example", 80, True)],
    [("a.example", 80, True), ("b.example", 80, False), ("b.example", 8080, False)],
    [("a.example", 80, False), ("b.example", 80, False)],
    [("a.example", 80, False), ("a.example", 8000, True)],
]
HOSTS = ["localhost", "pathways.example", "a.example", "b.example", "x"]
REQUESTS = list(itertools.product(HOSTS, [80, 443, 8000, 8080]))


@pytest.mark.parametrize("arrangement", ARRANGEMENTS)
def test_the_site_is_chosen_as_wagtail_chooses_it(home, arrangement) -> None:  # noqa: ANN001
    Site.objects.all().delete()
    for hostname, port, default in arrangement:
        Site.objects.create(hostname=hostname, port=port, is_default_site=default, root_page=home)
    sites = all_sites()
    for hostname, port in REQUESTS:
        try:
            wagtails = get_site_for_hostname(hostname, port).pk
        except Site.DoesNotExist:
            wagtails = None
        ours = site_for(sites, hostname, port)
        assert (ours.pk if ours else None) == wagtails, (hostname, port)


def site_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum('FROM "wagtailcore_site"' in q["sql"] for q in queries)


def test_the_site_is_read_once(home, learner) -> None:  # noqa: ANN001
    course = make_course(home, title="Sited", modules=1, lessons=1)
    client = Client()
    client.force_login(learner)
    assert site_queries(client, course.url) >= 1  # Wagtail looks; then every site is kept
    assert site_queries(client, course.url) == 0
    assert site_queries(client, "/learning/") == 0  # page links need the site too


def test_a_site_change_is_used_on_the_next_request(home, learner) -> None:  # noqa: ANN001
    course = make_course(home, title="Sited", modules=1, lessons=1)
    client = Client()
    client.force_login(learner)
    assert client.get(course.url).status_code == 200
    assert client.get(course.url).status_code == 200  # from the kept sites
    site = Site.objects.get()
    site.root_page = Page.objects.get(depth=1).add_child(instance=Page(title="Bare", slug="bare"))
    site.save()
    assert client.get(course.url).status_code == 404  # the course is not under the new root


def test_profile_and_staff_role_in_one_query(home, org) -> None:  # noqa: ANN001
    from officers.models import Role

    learner = make_officer(unit=org.dundee)
    lead = make_officer(unit=org.north, role=Role.TRAINING_LEAD, leads=[org.north])
    for user, staff in ((learner, False), (lead, True)):
        client = Client()
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/learning/").status_code in (200, 302)
        # The reads officers.middleware would make (profile_of, has_staff_role) are one.
        sql = [q["sql"] for q in queries]
        profiles = [q for q in sql if q.startswith('SELECT "officers_officerprofile".')]
        assert len(profiles) == 1 and 'EXISTS(SELECT 1 AS "a" FROM "auth_group"' in profiles[0]
        assert not [q for q in sql if q.startswith('SELECT 1 AS "a" FROM "auth_group"')]
        user.refresh_from_db()
        assert has_staff_role(user) is staff
