"""Onboarding: a learner without a force, unit or service number (a self sign-up) is sent to
/account/profile/ until they give them; bad input changes nothing; then their lead sees them."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from courses.models import Enrolment, LessonCompletion, LessonPage
from officers.imports import SERVICE_NUMBER_RE
from officers.models import OfficerProfile, Role, Unit, User
from officers.selectors import officers_visible_to
from tests.factories import UserFactory, make_course, make_officer

PROFILE = "/account/profile/"


@pytest.fixture
def newcomer(db) -> User:  # noqa: ANN001
    """A self sign-up: a verified address and a password, no officer profile."""
    return UserFactory(email="new.officer@police.scot")


@pytest.fixture
def newcomer_client(newcomer: User, home) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(newcomer)
    return client


def form_data(force: Unit, unit: Unit, number: str = "N1234", next_url: str = "") -> dict:
    data = {"force": str(force.pk), "unit": str(unit.pk), "service_number": number}
    if next_url:
        data["next"] = next_url
    return data


def snapshot() -> list[tuple]:
    return sorted(
        OfficerProfile.objects.values_list("user_id", "force_id", "unit_id", "service_number")
    )


# --- Sent to the profile page until it is complete


@pytest.mark.parametrize("path", ["/", "/learning/", "/learning/search/?q=naloxone", "/admin/"])
def test_a_self_sign_up_is_sent_to_the_profile_page_with_where_they_were_going(
    newcomer_client: Client, path: str
) -> None:
    response = newcomer_client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{PROFILE}?next={quote(path, safe='')}"


def test_signing_in_for_the_first_time_leads_to_the_profile_page(newcomer, home) -> None:  # noqa: ANN001
    from tests.factories import PASSWORD

    client = Client()
    response = client.post(
        "/accounts/login/", {"login": newcomer.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith(PROFILE)
    assert "Your force and unit" in response.content.decode()


@pytest.mark.parametrize(
    "blank", [{"force": None}, {"unit": None}, {"service_number": ""}], ids=str
)
def test_an_incomplete_profile_is_sent_too(org, home, blank: dict) -> None:  # noqa: ANN001
    officer = make_officer(unit=org.dundee)
    OfficerProfile.objects.filter(user=officer).update(**blank)
    client = Client()
    client.force_login(officer)
    assert client.get("/learning/")["Location"].startswith(PROFILE)


def test_the_exempt_pages_stay_open(newcomer_client: Client) -> None:
    assert newcomer_client.get(PROFILE).status_code == 200
    assert newcomer_client.get("/accounts/password/change/").status_code == 200
    assert newcomer_client.get("/accounts/email/").status_code == 200
    assert newcomer_client.get("/accounts/2fa/").status_code == 200
    assert newcomer_client.get("/static/css/pathways.css").status_code == 200
    assert newcomer_client.get("/health/").status_code == 200
    assert newcomer_client.post("/accounts/logout/").status_code == 302
    assert not newcomer_client.get(PROFILE).wsgi_request.user.is_authenticated


def test_a_posted_form_elsewhere_is_refused_and_records_nothing(org, home) -> None:  # noqa: ANN001
    """Course pages and their forms are out of reach until the service number is given: no
    enrolment, no completion, so no certificate through the learner's pages."""
    course = make_course(home, title="Naloxone refresher", modules=1, lessons=1)
    lesson = LessonPage.objects.live().descendant_of(course).get()
    officer = make_officer(unit=org.dundee)
    OfficerProfile.objects.filter(user=officer).update(service_number="")
    client = Client()
    client.force_login(officer)

    assert client.get(course.url)["Location"].startswith(PROFILE)
    assert client.get(lesson.url)["Location"].startswith(PROFILE)
    for url in (
        f"/learning/courses/{course.pk}/start/",
        f"/learning/lessons/{lesson.pk}/complete/",
    ):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"] == PROFILE
    assert not Enrolment.objects.filter(user=officer).exists()
    assert not LessonCompletion.objects.exists()

    response = client.post(PROFILE, form_data(org.force, org.dundee, "PS4321", lesson.url))
    assert response["Location"] == lesson.url
    assert client.get(lesson.url).status_code == 200
    assert client.post(f"/learning/lessons/{lesson.pk}/complete/").status_code == 302
    assert LessonCompletion.objects.filter(enrolment__user=officer).count() == 1


# --- Who is not sent


def test_staff_leads_and_authors_are_not_sent(org, home, settings) -> None:  # noqa: ANN001
    settings.PATHWAYS_REQUIRE_STAFF_MFA = False
    superuser = User.objects.create_superuser(email="root@police.scot", password="x" * 16)
    staff = UserFactory(email="staff@police.scot", is_staff=True)
    author = UserFactory(email="author@police.scot")
    from officers.roles import user_set_role

    user_set_role(user=author, role=Role.AUTHOR)
    lead = make_officer(unit=org.north, role=Role.TRAINING_LEAD, leads=[org.north])
    OfficerProfile.objects.filter(user=lead).update(service_number="", unit=None)
    for user in (superuser, staff, author, lead):
        client = Client()
        client.force_login(user)
        assert client.get("/").status_code == 200, user
        admin = client.get("/admin/")  # (a bare is_staff user has no admin access)
        assert not admin.get("Location", "").startswith(PROFILE), user


def test_a_complete_learner_is_not_sent_and_cannot_rewrite_their_profile(
    org, home, learner
) -> None:  # noqa: ANN001
    client = Client()
    client.force_login(learner)
    before = snapshot()
    assert client.get("/").status_code == 200
    page = client.get(PROFILE).content.decode()
    assert learner.officer.service_number in page and "ask your training lead" in page
    response = client.post(PROFILE, form_data(org.other_force, org.leith, "X1"))
    assert response.status_code == 302
    assert snapshot() == before


def test_anonymous_visitors_are_not_sent(client, home) -> None:  # noqa: ANN001
    assert client.get("/").status_code == 200
    assert client.get(PROFILE)["Location"].startswith("/accounts/login/")


# --- Saving


def test_saving_places_the_officer_and_their_lead_sees_them(
    newcomer: User, newcomer_client: Client, org, north_lead, east_lead, settings
) -> None:  # noqa: ANN001
    page = newcomer_client.get(f"{PROFILE}?next=/learning/").content.decode()
    # One grouped select: each force's units under its name (no JavaScript needed).
    assert '<optgroup label="Police Scotland">' in page
    assert "North / Tayside / Dundee Response" in page
    assert 'name="next" value="/learning/"' in page

    response = newcomer_client.post(
        PROFILE, form_data(org.force, org.dundee, "PS0999", "/learning/")
    )
    assert response.status_code == 302 and response["Location"] == "/learning/"
    profile = OfficerProfile.objects.get(user=newcomer)
    assert (profile.force, profile.unit, profile.service_number) == (
        org.force,
        org.dundee,
        "PS0999",
    )
    assert newcomer_client.get("/learning/").status_code == 200

    assert profile in officers_visible_to(north_lead)
    assert profile not in officers_visible_to(east_lead)
    settings.PATHWAYS_REQUIRE_STAFF_MFA = False
    lead = Client()
    lead.force_login(north_lead)
    assert newcomer.email in lead.get("/admin/officers/").content.decode()
    lead.force_login(east_lead)
    assert newcomer.email not in lead.get("/admin/officers/").content.decode()


def test_an_officer_with_a_partial_profile_completes_it(org, home) -> None:  # noqa: ANN001
    officer = make_officer(unit=org.dundee, service_number="A77")
    OfficerProfile.objects.filter(user=officer).update(unit=None)
    client = Client()
    client.force_login(officer)
    page = client.get(PROFILE).content.decode()
    assert 'value="A77"' in page  # what they already have is filled in
    assert client.post(PROFILE, form_data(org.force, org.leith, "A77"))["Location"] == "/learning/"
    assert OfficerProfile.objects.get(user=officer).unit == org.leith


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/learning/",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "\\\\evil.example",
    ],
)
def test_an_unsafe_next_goes_to_my_learning(newcomer_client: Client, org, next_url: str) -> None:  # noqa: ANN001
    response = newcomer_client.post(PROFILE, form_data(org.force, org.dundee, "S1", next_url))
    assert response["Location"] == "/learning/"


def test_the_same_number_in_another_force_is_allowed(
    newcomer: User, newcomer_client: Client, org, learner
) -> None:  # noqa: ANN001
    metro_team = org.other_force.add_child(name="Camden Response", kind=Unit.Kind.TEAM)
    number = learner.officer.service_number
    response = newcomer_client.post(PROFILE, form_data(org.other_force, metro_team, number))
    assert response.status_code == 302
    assert OfficerProfile.objects.get(user=newcomer).service_number == number


# --- Bad input: the form again, with clear messages, and nothing changed


def bad_post(client: Client, data: dict) -> str:
    before = snapshot()
    response = client.post(PROFILE, data)
    assert response.status_code == 200
    assert snapshot() == before
    page = response.content.decode()
    assert "There is a problem" in page and "<title>Error:" in page
    assert 'aria-invalid="true"' in page
    return page


def test_a_unit_in_another_force_is_refused(newcomer_client: Client, org) -> None:  # noqa: ANN001
    page = bad_post(newcomer_client, form_data(org.other_force, org.dundee))
    assert "Dundee Response is not in Metropolitan Police" in page
    assert 'href="#id_unit"' in page


def test_a_force_is_not_a_unit(newcomer_client: Client, org) -> None:  # noqa: ANN001
    assert "Choose your unit from the list" in bad_post(
        newcomer_client, form_data(org.force, org.force)
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"force": "999999", "unit": "1", "service_number": "A1"}, "Choose your force from"),
        ({"force": "abc", "unit": "1", "service_number": "A1"}, "Choose your force from"),
        ({"unit": "1", "service_number": "A1"}, "Choose your force."),
        ({"force": "1", "unit": "999999", "service_number": "A1"}, "Choose your unit from"),
        ({"force": "1", "unit": "", "service_number": "A1"}, "Choose your unit."),
    ],
)
def test_unknown_or_missing_choices_are_refused(
    newcomer_client: Client, org, data: dict, message: str
) -> None:  # noqa: ANN001
    assert message in bad_post(newcomer_client, data)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "Enter your service number."),
        ("   ", "Enter your service number."),
        ("AB\x0012", "only letters, digits"),
        ("AB\x0712", "only letters, digits"),
        ("AB 12", "only letters, digits"),
        ("AB12\n34", "only letters, digits"),
        ("-AB12", "only letters, digits"),
        ("٣٤٥", "only letters, digits"),
        ("A" * 33, "at most 32 characters"),
        ("A" * 5000, "at most 32 characters"),
    ],
)
def test_bad_service_numbers_are_refused(
    newcomer_client: Client, org, number: str, message: str
) -> None:  # noqa: ANN001
    page = bad_post(newcomer_client, form_data(org.force, org.dundee, number))
    assert message in page and 'href="#id_service_number"' in page


@pytest.mark.parametrize("variant", [str, str.lower])
def test_a_number_taken_in_the_force_is_refused_clearly(
    newcomer_client: Client, org, learner, variant
) -> None:  # noqa: ANN001
    OfficerProfile.objects.filter(user=learner).update(service_number="PS0412")
    page = bad_post(newcomer_client, form_data(org.force, org.leith, variant("PS0412")))
    assert "already registered to another officer in Police Scotland" in page


def test_a_number_taken_between_check_and_save_is_reported_not_raised(
    newcomer: User, org, learner, monkeypatch
) -> None:  # noqa: ANN001
    """Two officers registering one number at once: the database constraint decides."""
    from officers.forms import OfficerProfileForm

    OfficerProfile.objects.filter(user=learner).update(service_number="PS0412")
    form = OfficerProfileForm(form_data(org.force, org.dundee, "PS0412"), user=newcomer)
    monkeypatch.setattr(OfficerProfileForm, "_number_taken", lambda *a: False)
    assert form.is_valid()
    assert form.save() is None
    assert "already registered" in str(form.errors["service_number"])
    assert not OfficerProfile.objects.filter(user=newcomer).exists()


# --- Any input: never a 500; saved only when every field is right


FORM_TEXT = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Nd", "Zs"]), max_size=40),
    st.text(min_size=100, max_size=3000),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/-]{0,40}", fullmatch=True),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    force=st.one_of(st.sampled_from(["force", "other_force"]), FORM_TEXT),
    unit=st.one_of(st.sampled_from(["dundee", "leith", "force", "north"]), FORM_TEXT),
    number=st.one_of(st.just("PS0412"), FORM_TEXT),
)
@example(force="force", unit="dundee", number="N-1/2")
@example(force="force", unit="dundee", number="\x00")
def test_any_input_is_answered_and_saved_only_when_valid(
    newcomer: User, org, learner, force: str, unit: str, number: str
) -> None:  # noqa: ANN001
    OfficerProfile.objects.filter(user=learner).update(service_number="PS0412")
    OfficerProfile.objects.filter(user=newcomer).delete()
    pk = {name: str(getattr(org, name).pk) for name in ("force", "other_force", "dundee", "leith")}
    pk["north"] = str(org.north.pk)
    data = {
        "force": pk.get(force, force),
        "unit": pk.get(unit, unit),
        "service_number": number,
    }
    client = Client()
    client.force_login(newcomer)
    before = snapshot()
    response = client.post(PROFILE, data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert snapshot() == before and "There is a problem" in response.content.decode()
        return
    profile = OfficerProfile.objects.select_related("force", "unit").get(user=newcomer)
    assert profile.unit.path.startswith(profile.force.path) and profile.unit.depth > 1
    assert SERVICE_NUMBER_RE.fullmatch(profile.service_number)
    assert profile.service_number == number.strip()
    assert (
        not OfficerProfile.objects.filter(
            force=profile.force, service_number__iexact=profile.service_number
        )
        .exclude(user=newcomer)
        .exists()
    )
