"""Demo content for `make run`: two forces (a Scottish one and one in England and Wales), their
units, officers and one account per role, and each force's local information.

Everything here is get-or-create, so loading it twice changes nothing.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from certificates.demo import seed_demo_certificates
from courses.demo import load_demo_courses, seed_demo_local_information
from officers.jurisdictions import Jurisdiction
from officers.models import OfficerProfile, Role, Unit, User
from officers.roles import ensure_role_groups, user_set_role
from officers.services import unit_get_or_create_path
from pathways.models import HomePage
from training.demo import seed_demo_training

DEMO_PASSWORD = "pathways-demo-2026"  # noqa: S105  (written in the README; demo only)
DEMO_FORCE = "Demo Police Service"  # in Scotland: its units are Scottish places
EW_FORCE = "Demo Constabulary"  # in England and Wales
DEMO_DOMAIN = "demo.police.uk"

UNIT_PATHS = [
    ("North", "Tayside", "Dundee Response"),
    ("North", "Highland", "Inverness Community"),
    ("East", "Edinburgh", "Leith Response"),
    ("West", "Greater Glasgow", "Govan Response"),
]
INTAKE = "Recruit intake 2026-3"

# email local part, given, family, service number, unit path, rank, role
ACCOUNTS = [
    ("recruit", "Aisha", "Rahman", "DPS1001", (INTAKE,), "Probationary Constable", Role.LEARNER),
    ("officer", "Callum", "Fraser", "DPS0412", UNIT_PATHS[0], "Constable", Role.LEARNER),
    ("lead", "Morag", "Sinclair", "DPS0107", ("North",), "Sergeant", Role.TRAINING_LEAD),
    ("author", "Daniel", "Okafor", "DPS0230", ("East",), "Inspector", Role.AUTHOR),
    ("admin", "Fiona", "MacLeod", "DPS0001", (), "Chief Inspector", Role.ADMINISTRATOR),
]
# The England and Wales force: a division of teams, and another division.
EW_UNIT_PATHS = [
    ("Central", "Central Response"),
    ("Central", "Central Neighbourhood"),
    ("Eastern", "Eastern Response"),
]
EW_ACCOUNTS = [
    ("ew.officer", "Owen", "Pritchard", "DC0412", EW_UNIT_PATHS[0], "Constable", Role.LEARNER),
    ("ew.lead", "Bethan", "Hughes", "DC0107", ("Central",), "Sergeant", Role.TRAINING_LEAD),
]
EW_NAMES = [
    ("Gareth", "Jones"),
    ("Samira", "Begum"),
    ("Tom", "Whitfield"),
    ("Rhian", "Evans"),
    ("Daniel", "Osei"),
    ("Lucy", "Hartley"),
    ("Imran", "Qureshi"),
    ("Sophie", "Turner"),
]
GIVEN = [
    "Ewan",
    "Kirsty",
    "Jamie",
    "Priya",
    "Liam",
    "Eilidh",
    "Tomasz",
    "Hannah",
    "Ross",
    "Niamh",
    "Graeme",
    "Sana",
    "Craig",
    "Rachel",
    "Euan",
    "Chloe",
    "Arjun",
    "Lorna",
    "Stuart",
    "Megan",
    "Kyle",
    "Zofia",
    "Andrew",
    "Iona",
    "Malik",
    "Catriona",
    "Scott",
    "Leah",
    "Neil",
    "Amira",
]
FAMILY = [
    "Campbell",
    "Stewart",
    "Robertson",
    "Thomson",
    "Anderson",
    "Murray",
    "Kowalski",
    "Reid",
    "Ross",
    "Paterson",
    "Gray",
    "Hussain",
    "Kerr",
    "Duncan",
    "Hamilton",
    "Wallace",
    "Patel",
    "Ferguson",
    "Black",
    "Docherty",
    "Grant",
    "Nowak",
    "Mackay",
    "Burns",
    "Ahmed",
    "Bell",
    "Scott",
    "Walker",
    "Watson",
    "Cameron",
]


def _account(
    email: str,
    given: str,
    family: str,
    number: str,
    unit: Unit,
    force: Unit,
    rank: str,
    role: Role,
) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": given, "last_name": family}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    OfficerProfile.objects.update_or_create(
        user=user,
        defaults={"service_number": number, "force": force, "unit": unit, "rank": rank},
    )
    user_set_role(user=user, role=role)
    return user


def _page_tree_root() -> Page:
    """Wagtail's migrations create the default locale and the tree root; a flushed database
    (a live-server test, say) has neither, so make them again."""
    code = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    locale, _ = Locale.objects.get_or_create(language_code=code)
    return Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root", locale=locale)
    )


def _home_page() -> HomePage:
    home = HomePage.objects.first()
    if home is None:
        root = _page_tree_root()
        home = root.add_child(
            instance=HomePage(
                title="Pathways",
                slug="pathways",
                intro=(
                    "Training for the public-health approach to policing: trauma-informed "
                    "practice, reducing stigma, naloxone for opioid overdose, and direct "
                    "measures that divert people into education or treatment."
                ),
                body=(
                    "<p>Work through your assigned courses on a phone or a desktop, in short "
                    "sittings, and pick up where you stopped. Practise decisions in branching "
                    "scenarios, then earn a certificate that anyone can verify.</p>"
                ),
            )
        )
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    elif site.root_page_id != home.pk:
        old = site.root_page
        site.root_page = home
        site.site_name = "Pathways"
        site.save()
        # Wagtail's "Welcome" page from its initial migration is not part of Pathways.
        if old.specific_class is Page and old.depth == 2 and not old.get_children().exists():
            old.delete()
    return home


def _force(name: str, jurisdiction: str) -> Unit:
    """The demo force of this name, created once; its jurisdiction is set only if it has
    none (an administrator's choice is kept)."""
    force = Unit.get_root_nodes().filter(name=name).first() or Unit.add_root(
        name=name, kind=Unit.Kind.FORCE, jurisdiction=jurisdiction
    )
    if not force.jurisdiction:
        force.jurisdiction = jurisdiction
        force.save(update_fields=["jurisdiction"])
    return force


def _england_and_wales_force() -> Unit:
    """The England and Wales demo force: its divisions and teams, a learner and a lead (who
    leads the Central division) and a few more officers."""
    force = _force(EW_FORCE, Jurisdiction.ENGLAND_WALES)
    teams = [unit_get_or_create_path(force=force, names=p)[0] for p in EW_UNIT_PATHS]
    for local, given, family, number, path, rank, role in EW_ACCOUNTS:
        unit = unit_get_or_create_path(force=force, names=path)[0]
        user = _account(f"{local}@{DEMO_DOMAIN}", given, family, number, unit, force, rank, role)
        if role == Role.TRAINING_LEAD:
            user.officer.led_units.add(unit)
    for i, (given, family) in enumerate(EW_NAMES):
        _account(
            f"{given.lower()}.{family.lower()}@{DEMO_DOMAIN}",
            given,
            family,
            f"DC{3000 + i}",
            teams[i % len(teams)],
            force,
            "Sergeant" if i % 7 == 0 else "Constable",
            Role.LEARNER,
        )
    return force


@transaction.atomic
def load_demo() -> dict[str, int]:
    ensure_role_groups()
    home = _home_page()
    courses = load_demo_courses(home)
    force = _force(DEMO_FORCE, Jurisdiction.SCOTLAND)
    teams = [unit_get_or_create_path(force=force, names=p)[0] for p in UNIT_PATHS]
    intake = force.get_children().filter(name=INTAKE).first() or force.add_child(
        name=INTAKE, kind=Unit.Kind.INTAKE
    )
    for local, given, family, number, path, rank, role in ACCOUNTS:
        if path == (INTAKE,):
            unit = intake
        elif path:
            unit = unit_get_or_create_path(force=force, names=path)[0]
        else:
            unit = force
        user = _account(f"{local}@{DEMO_DOMAIN}", given, family, number, unit, force, rank, role)
        if role == Role.TRAINING_LEAD:
            user.officer.led_units.add(unit, intake)
    # A few dozen officers across the teams and the intake.
    for i, (given, family) in enumerate(zip(GIVEN, FAMILY, strict=True)):
        unit = intake if i % 5 == 0 else teams[i % len(teams)]
        rank = (
            "Probationary Constable"
            if unit == intake
            else ("Sergeant" if i % 7 == 0 else "Constable")
        )
        _account(
            f"{given.lower()}.{family.lower()}@{DEMO_DOMAIN}",
            given,
            family,
            f"DPS{2000 + i}",
            unit,
            force,
            rank,
            Role.LEARNER,
        )
    ew_force = _england_and_wales_force()
    local = seed_demo_local_information(
        force=force, division=force.get_children().get(name=UNIT_PATHS[0][0])
    )
    local += seed_demo_local_information(
        force=ew_force, division=ew_force.get_children().get(name=EW_UNIT_PATHS[0][0])
    )
    certificates = seed_demo_certificates(main=courses[0], refresher=courses[1])
    seed_demo_training(main=courses[0], refresher=courses[1], lead_email=f"lead@{DEMO_DOMAIN}")
    return {
        "courses": len(courses),
        "new certificates": certificates,
        "units": Unit.objects.count(),
        "officers": OfficerProfile.objects.filter(force=force).count(),
        "officers in England and Wales": OfficerProfile.objects.filter(force=ew_force).count(),
        "new local information": local,
    }
