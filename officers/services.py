"""Writes for accounts and organisation: units, officers, the CSV import, invitations."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from officers.links import absolute_url
from officers.models import Invitation, OfficerProfile, Role, Unit, User
from officers.outbox import email_queue
from officers.roles import GROUP_NAMES, STAFF_ROLES, parse_role, primary_role, user_set_role
from officers.selectors import user_can_manage_unit

CSV_COLUMNS = (
    "email",
    "given_name",
    "family_name",
    "service_number",
    "force",
    "unit",
    "rank",
    "role",
)
# The import's own limits: each the column it is written to, so a row that passes fits.
MAX_EMAIL = User._meta.get_field("email").max_length
MAX_NAME = min(
    User._meta.get_field("first_name").max_length, User._meta.get_field("last_name").max_length
)
MAX_SERVICE_NUMBER = OfficerProfile._meta.get_field("service_number").max_length
MAX_UNIT_NAME = Unit._meta.get_field("name").max_length
MAX_RANK = OfficerProfile._meta.get_field("rank").max_length
MAX_UNIT_DEPTH = 10  # levels below the force: far more than any real organisation has
SERVICE_NUMBER_RE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9/-]{{0,{MAX_SERVICE_NUMBER - 1}}}$")


# --------------------------------------------------------------------------- units


def unit_get_or_create_path(*, force: Unit, names: Iterable[str]) -> tuple[Unit, list[Unit]]:
    """The unit at `force / names...`, creating missing levels (divisions, then a team)."""
    node = force
    created: list[Unit] = []
    names = list(names)
    for depth, name in enumerate(names, start=1):
        child = node.get_children().filter(name__iexact=name).first()
        if child is None:
            kind = Unit.Kind.TEAM if depth == len(names) else Unit.Kind.DIVISION
            child = node.add_child(name=name, kind=kind)
            created.append(child)
        node = child
    return node, created


def deepest_existing_unit(*, force: Unit, names: Iterable[str]) -> Unit:
    """The deepest unit that already exists along `force / names...` (at least the force)."""
    node = force
    for name in names:
        child = node.get_children().filter(name__iexact=name).first()
        if child is None:
            break
        node = child
    return node


# ------------------------------------------------------------------- CSV: parsing


@dataclass(frozen=True)
class OfficerRow:
    line: int
    email: str
    given_name: str
    family_name: str
    service_number: str
    force: str
    unit: tuple[str, ...]
    rank: str
    role: Role


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


class ImportRejected(Exception):
    """The file was refused whole; nothing was changed."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    units_created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{len(self.created)} officer(s) created",
            f"{len(self.updated)} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.units_created:
            parts.append(f"{len(self.units_created)} unit(s) created")
        return ", ".join(parts) + "."


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            [RowError(line, "the file is not UTF-8 text; save it as 'CSV UTF-8' and try again")]
        ) from exc
    if "\x00" in text:
        # A text column cannot hold NUL (PostgreSQL refuses it): binary data, not a CSV.
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRejected(
            [RowError(line, "the file contains a NUL byte; it is not a text CSV file")]
        )
    return text


def parse_officer_csv(data: bytes) -> tuple[list[OfficerRow], list[RowError]]:
    """Check a CSV file's header and every row on its own (no database).

    Returns the good rows and every problem found, each with its line number.
    """
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[RowError] = []
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], [RowError(1, "the file is empty; the first line must be the header")]
    names = [h.strip().lower() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in names]
    unexpected = [h for h in names if h not in CSV_COLUMNS]
    duplicated = sorted({h for h in names if names.count(h) > 1})
    if missing or unexpected or duplicated:
        problems = []
        if missing:
            problems.append("missing column(s): " + ", ".join(missing))
        if unexpected:
            problems.append("unexpected column(s): " + ", ".join(repr(h) for h in unexpected))
        if duplicated:
            problems.append("repeated column(s): " + ", ".join(duplicated))
        expected = ",".join(CSV_COLUMNS)
        return [], [RowError(1, f"wrong header ({'; '.join(problems)}); expected: {expected}")]

    rows: list[OfficerRow] = []
    seen_emails: dict[str, int] = {}
    seen_numbers: dict[tuple[str, str], int] = {}
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(reader.line_num, f"the row cannot be read as CSV ({exc})"))
            break
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            errors.append(RowError(line, f"expected {len(names)} values, found {len(values)}"))
            continue
        cell = {name: value.strip() for name, value in zip(names, values, strict=True)}
        row_errors: list[str] = []

        email = cell["email"].lower()
        if not email:
            row_errors.append("email is missing")
        elif len(email) > MAX_EMAIL:
            row_errors.append(f"email is longer than {MAX_EMAIL} characters")
        else:
            try:
                validate_email(email)
            except ValidationError:
                row_errors.append(f"email {cell['email']!r} is not a valid address")
        for key, label in (("given_name", "given name"), ("family_name", "family name")):
            if not cell[key]:
                row_errors.append(f"{label} is missing")
            elif len(cell[key]) > MAX_NAME:
                row_errors.append(f"{label} is longer than {MAX_NAME} characters")
        number = cell["service_number"]
        if not number:
            row_errors.append("service number is missing")
        elif not SERVICE_NUMBER_RE.match(number):
            row_errors.append(
                f"service number {number!r} may only contain letters, digits, '-' and '/'"
                f" (at most {MAX_SERVICE_NUMBER})"
            )
        if not cell["force"]:
            row_errors.append("force is missing")
        unit_parts = tuple(p.strip() for p in cell["unit"].split("/")) if cell["unit"] else ()
        if any(not p for p in unit_parts):
            row_errors.append(f"unit {cell['unit']!r} has an empty part between '/'")
        elif len(unit_parts) > MAX_UNIT_DEPTH:
            row_errors.append(
                f"the unit path has {len(unit_parts)} levels"
                f" (at most {MAX_UNIT_DEPTH} below the force)"
            )
        elif any(len(p) > MAX_UNIT_NAME for p in unit_parts):
            row_errors.append(f"a unit name is longer than {MAX_UNIT_NAME} characters")
        if len(cell["force"]) > MAX_UNIT_NAME:
            row_errors.append(f"force is longer than {MAX_UNIT_NAME} characters")
        if len(cell["rank"]) > MAX_RANK:
            row_errors.append(f"rank is longer than {MAX_RANK} characters")
        role = parse_role(cell["role"]) if cell["role"] else Role.LEARNER
        if role is None:
            allowed = ", ".join(r.value for r in Role)
            row_errors.append(f"unknown role {cell['role']!r} (use one of: {allowed})")

        if email and email in seen_emails:
            row_errors.append(f"email {email} is also on line {seen_emails[email]}")
        number_key = (cell["force"].lower(), number.lower())
        if number and number_key in seen_numbers:
            row_errors.append(
                f"duplicate service number {number} in {cell['force']}"
                f" (also on line {seen_numbers[number_key]})"
            )
        seen_emails.setdefault(email, line)
        seen_numbers.setdefault(number_key, line)

        if row_errors:
            errors.extend(RowError(line, message) for message in row_errors)
            continue
        assert role is not None
        rows.append(
            OfficerRow(
                line=line,
                email=email,
                given_name=cell["given_name"],
                family_name=cell["family_name"],
                service_number=number,
                force=cell["force"],
                unit=unit_parts,
                rank=cell["rank"],
                role=role,
            )
        )
    if not rows and not errors:
        errors.append(RowError(line + 1, "the file has a header but no officers"))
    return rows, errors


# ------------------------------------------------------------------- CSV: applying


def _check_against_database(
    rows: list[OfficerRow], *, forces: dict[str, Unit], actor: User | None
) -> list[RowError]:
    errors: list[RowError] = []
    emails = [r.email for r in rows]
    profiles = {
        p.user.email: p
        for p in OfficerProfile.objects.filter(user__email__in=emails).select_related(
            "user", "unit"
        )
    }
    accounts = {
        u.email: u for u in User.objects.filter(email__in=emails).prefetch_related("groups")
    }
    staff_groups = {GROUP_NAMES[r] for r in STAFF_ROLES}
    staff = {
        email
        for email, u in accounts.items()
        if u.is_staff or u.is_superuser or any(g.name in staff_groups for g in u.groups.all())
    }
    number_owner = {
        (p.force_id, p.service_number.lower()): p.user.email
        for p in OfficerProfile.objects.filter(
            service_number__in=[r.service_number for r in rows]
        ).select_related("user")
    }
    restricted = actor is not None and not actor.is_superuser
    for row in rows:
        force = forces.get(row.force.lower())
        if force is None:
            known = ", ".join(sorted(f.name for f in forces.values())) or "none yet"
            errors.append(RowError(row.line, f"unknown force {row.force!r} (known: {known})"))
            continue
        owner = number_owner.get((force.pk, row.service_number.lower()))
        if owner is not None and owner != row.email:
            errors.append(
                RowError(
                    row.line,
                    f"duplicate service number {row.service_number} in {force.name}:"
                    f" it already belongs to another officer",
                )
            )
        if not restricted:
            continue
        assert actor is not None
        if row.role != Role.LEARNER:
            errors.append(
                RowError(
                    row.line,
                    "training leads can import learners only;"
                    " ask an administrator to give other roles",
                )
            )
        # New units are created under the deepest existing one: the actor must lead it.
        anchor = deepest_existing_unit(force=force, names=row.unit)
        if not user_can_manage_unit(actor, anchor):
            errors.append(RowError(row.line, "the unit is not one of the units you lead"))
        if row.email in staff:
            errors.append(
                RowError(
                    row.line,
                    f"{row.email} has a staff role; only an administrator can change their record",
                )
            )
        elif row.email in accounts:
            # An existing account is the lead's to update only if it is already an officer in
            # one of their units: not a self sign-up with no unit yet, not staff made in the
            # Users admin with no officer profile, not an officer elsewhere.
            profile = profiles.get(row.email)
            if profile is None or profile.unit is None:
                errors.append(
                    RowError(
                        row.line,
                        f"{row.email} already has an account that is not in any unit; "
                        "ask an administrator to place it",
                    )
                )
            elif not user_can_manage_unit(actor, profile.unit):
                errors.append(RowError(row.line, f"{row.email} belongs to a unit you do not lead"))
    return errors


def import_officers(
    data: bytes, *, actor: User | None = None, send_invitations: bool = True
) -> ImportReport:
    """Import officers from an HR CSV export: all rows or none.

    Raises ImportRejected listing every bad row (with its line number) and changes nothing.
    `actor` is the person importing (None for the management command, which has full rights);
    a training lead may only import learners into the units they lead.
    """
    if len(data) > settings.PATHWAYS_MAX_CSV_BYTES:
        limit_kb = settings.PATHWAYS_MAX_CSV_BYTES // 1024
        raise ImportRejected([RowError(1, f"the file is larger than {limit_kb} KB")])
    rows, errors = parse_officer_csv(data)
    if errors:
        forces = {u.name.lower(): u for u in Unit.get_root_nodes()}
        raise ImportRejected(errors + _check_against_database(rows, forces=forces, actor=actor))

    report = ImportReport()
    new_users: list[User] = []
    units: dict[tuple[int, tuple[str, ...]], Unit] = {}
    with transaction.atomic():
        forces = _lock_forces({row.force.lower() for row in rows})
        # Checked under the lock: a concurrent import of the same forces has finished, and
        # what it wrote is seen here (the same file again finds nothing left to do).
        errors = _check_against_database(rows, forces=forces, actor=actor)
        if errors:
            raise ImportRejected(errors)
        for row in rows:
            force = forces[row.force.lower()]
            key = (force.pk, tuple(n.lower() for n in row.unit))
            if key not in units:
                units[key], created_units = unit_get_or_create_path(force=force, names=row.unit)
                report.units_created += [u.full_name for u in created_units]
            unit = units[key]
            user, created, changed = _apply_row(row, force=force, unit=unit)
            if created:
                report.created.append(user.email)
                new_users.append(user)
            elif changed:
                report.updated.append(user.email)
            else:
                report.unchanged += 1
        if send_invitations and new_users:
            transaction.on_commit(lambda: invite_users(new_users))
    return report


def _lock_forces(names: set[str]) -> dict[str, Unit]:
    """Every force, by lower-case name, read afresh; those named are locked (FOR UPDATE, in
    path order so two imports cannot deadlock) until the transaction ends: imports into the
    same force run one after the other, never interleaving their units and accounts."""
    roots = list(Unit.get_root_nodes())
    wanted = [u.pk for u in roots if u.name.lower() in names]
    if wanted:
        list(Unit.objects.filter(pk__in=wanted).order_by("path").select_for_update())
        roots = list(Unit.get_root_nodes())  # numchild may have changed while we waited
    return {u.name.lower(): u for u in roots}


def _apply_row(row: OfficerRow, *, force: Unit, unit: Unit) -> tuple[User, bool, bool]:
    user = User.objects.filter(email__iexact=row.email).first()
    created = user is None
    changed = False
    if user is None:
        user = User(email=row.email)
        user.set_unusable_password()
    for attr, value in (("first_name", row.given_name), ("last_name", row.family_name)):
        if getattr(user, attr) != value:
            setattr(user, attr, value)
            changed = True
    if created or changed:
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": False}
    )
    profile, profile_created = OfficerProfile.objects.get_or_create(
        user=user, defaults={"force": force, "unit": unit}
    )
    wanted = {
        "service_number": row.service_number,
        "force_id": force.pk,
        "unit_id": unit.pk,
        "rank": row.rank,
    }
    dirty = [k for k, v in wanted.items() if getattr(profile, k) != v]
    if dirty:
        for key in dirty:
            setattr(profile, key, wanted[key])
        profile.save()
        changed = changed or not profile_created
    if primary_role(user) != row.role or not user.groups.exists():
        user_set_role(user=user, role=row.role)
        changed = changed or not created
    return user, created, changed and not created


def invitation_url(user: User) -> str:
    """A link to allauth's set-password page, valid until the user sets a password."""
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    return absolute_url(path)


def invite_users(users: Iterable[User]) -> int:
    """Queue for each user an email with a link to set their password (once per user: the
    outbox key). Returns the number of emails queued."""
    queued = 0
    for user in users:
        context = {"user": user, "url": invitation_url(user)}
        email_queue(
            to=user.email,
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You have been invited to Pathways",
            body=render_to_string("officers/email/invitation.txt", context),
            key=f"account-invitation:{user.pk}",
            sensitive=True,  # the link sets the password
        )
        queued += 1
    return queued


def invitation_send(invitation: Invitation) -> None:
    """Queue the email that gives an invited address the link to sign up (once per
    invitation)."""
    context = {
        "invitation": invitation,
        "url": absolute_url(reverse("account_signup")),
    }
    email_queue(
        to=invitation.email,
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You are invited to Pathways",
        body=render_to_string("officers/email/signup_invitation.txt", context),
        key=f"signup-invitation:{invitation.pk}",
    )
