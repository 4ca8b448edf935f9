"""The officer import: an HR file (CSV or XLSX) read, planned against the database, and applied,
all rows or none.

Three steps, each usable on its own:

- `officer_file_read(data, filename)`: the rows of the file, and every problem found in them on
  their own (no database).
- `officer_import_plan(rows, actor=...)`: what applying the rows would do (officers created,
  updated, moved, given another role; units created; leavers, the active officers of the file's
  forces absent from it), and every row the database refuses. It reads in bulk (a handful of
  queries for any number of rows) and writes nothing, so a preview is this plan.
- `officer_import_apply(rows, actor=..., expected=..., deactivate_leavers=...)`: under a lock on
  the file's forces, plans again and applies that plan with bulk writes. With `expected` (the
  fingerprint of the plan someone previewed), a plan that has changed since, because another
  import or an edit came in between, is refused and nothing is written.

`import_officers(data)` does all three in one call, for the management command and the tests.
The admin runs them as background jobs (officers.import_jobs).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F

from officers.models import OfficerProfile, Role, Unit, User
from officers.roles import (
    GROUP_NAMES,
    STAFF_ROLES,
    ensure_role_groups,
    highest_role,
    parse_role,
)
from officers.selectors import led_unit_paths
from officers.services import invite_users
from officers.signals import officers_placed

COLUMNS = (
    "email",
    "given_name",
    "family_name",
    "service_number",
    "force",
    "unit",
    "rank",
    "role",
)
CSV_COLUMNS = COLUMNS  # the name the CSV documentation uses
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
# An XLSX file is a zip: what it may unpack to, so a small file cannot expand without end.
MAX_XLSX_EXPANSION = 20
MAX_ERRORS = 1000  # problems listed: reading stops there (each names its line)
MAX_XLSX_ROWS = 200_000  # rows a sheet may reach: far more than a 5 MB file of officers holds
CHUNK = 2000  # ids or emails per `IN (...)`: well inside every database's limit on parameters
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


class PlanChanged(Exception):
    """The officers changed between the preview and the apply: nothing was written."""


# ------------------------------------------------------------------------------ reading


def officer_file_read(data: bytes, filename: str = "") -> tuple[list[OfficerRow], list[RowError]]:
    """The rows of an HR file, CSV or XLSX (by its name, or its zip signature), and every
    problem found in them on their own. Raises ImportRejected for a file that cannot be read
    at all (too large, not text, not a workbook)."""
    if len(data) > settings.PATHWAYS_MAX_CSV_BYTES:
        limit_kb = settings.PATHWAYS_MAX_CSV_BYTES // 1024
        raise ImportRejected([RowError(1, f"the file is larger than {limit_kb} KB")])
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return parse_officer_records(_xlsx_records(data))
    return parse_officer_records(_csv_records(_decode(data)))


def parse_officer_csv(data: bytes) -> tuple[list[OfficerRow], list[RowError]]:
    """Check a CSV file's header and every row on its own (no database)."""
    return parse_officer_records(_csv_records(_decode(data)))


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


Record = tuple[int, list[str] | str]  # (line, the cells) or (line, why it cannot be read)


def _csv_records(text: str) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"the row cannot be read as CSV ({exc})"
            return
        yield reader.line_num, values


def _xlsx_records(data: bytes) -> Iterator[Record]:
    """The first sheet's rows as text, numbered as the spreadsheet numbers them."""
    unreadable = ImportRejected(
        [
            RowError(
                1,
                "the file cannot be read as an Excel workbook (.xlsx);"
                " save it again as .xlsx or as CSV UTF-8",
            )
        ]
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise unreadable from exc
    if unpacked > MAX_XLSX_EXPANSION * settings.PATHWAYS_MAX_CSV_BYTES:
        raise ImportRejected([RowError(1, "the workbook unpacks to more than it may hold")])
    from openpyxl import load_workbook  # openpyxl reads the XML with defusedxml

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
        sheet = (visible or workbook.worksheets)[0]
        # The size a sheet declares for itself may be wrong (some exporters write "A1"): read
        # the rows that are there, unpadded, and never more than MAX_XLSX_ROWS of them.
        sheet.reset_dimensions()
        width = 0
        number = 0
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_XLSX_ROWS:
                yield number, f"the sheet goes on beyond row {MAX_XLSX_ROWS:,}"
                break
            values = [_cell_text(value) for value in cells]
            if number == 1:
                while values and not values[-1].strip():
                    values.pop()  # a sheet's header may run on in empty cells
                width = len(values)
            elif len(values) > width and not any(v.strip() for v in values[width:]):
                values = values[:width]
            elif len(values) < width:
                values += [""] * (width - len(values))  # a row's empty cells at the end
            yield number, values
        workbook.close()
        if number == 0:
            raise ImportRejected(
                [
                    RowError(
                        1,
                        f"the sheet {_quoted(sheet.title)} is empty;"
                        " put the officers on the workbook's first sheet",
                    )
                ]
            )
    except ImportRejected:
        raise
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many kinds for a damaged file)
        raise unreadable from exc


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text an HR system meant: 1001.0 is "1001"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def parse_officer_records(records: Iterable[Record]) -> tuple[list[OfficerRow], list[RowError]]:
    """Check a table's header and every row on its own (no database).

    Returns the good rows and every problem found, each with its line number.
    """
    errors: list[RowError] = []
    records = iter(records)
    first = next(records, None)
    if first is None or isinstance(first[1], str):
        return [], [RowError(1, "the file is empty; the first line must be the header")]
    names = [h.strip().lower() for h in first[1]]
    missing = [c for c in COLUMNS if c not in names]
    unexpected = [h for h in names if h not in COLUMNS]
    duplicated = sorted({h for h in names if names.count(h) > 1})
    if missing or unexpected or duplicated:
        problems = []
        if missing:
            problems.append("missing column(s): " + ", ".join(missing))
        if unexpected:
            problems.append(
                "unexpected column(s): " + ", ".join(_quoted(h) for h in unexpected[:20])
            )
        if duplicated:
            problems.append("repeated column(s): " + ", ".join(duplicated))
        expected = ",".join(COLUMNS)
        return [], [RowError(1, f"wrong header ({'; '.join(problems)}); expected: {expected}")]

    rows: list[OfficerRow] = []
    seen_emails: dict[str, int] = {}
    seen_numbers: dict[tuple[str, str], int] = {}
    line = first[0]
    for line, values in records:
        if len(errors) >= MAX_ERRORS:
            errors.append(RowError(line, "more problems from here on are not listed"))
            break
        if isinstance(values, str):
            errors.append(RowError(line, values))
            break
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            errors.append(RowError(line, f"expected {len(names)} values, found {len(values)}"))
            continue
        if any("\x00" in v for v in values):
            errors.append(RowError(line, "a cell contains a NUL character"))
            continue
        cell = {name: value.strip() for name, value in zip(names, values, strict=True)}
        row_errors = _row_problems(cell)
        email, number = cell["email"].lower(), cell["service_number"]
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
        role = parse_role(cell["role"]) if cell["role"] else Role.LEARNER
        assert role is not None
        rows.append(
            OfficerRow(
                line=line,
                email=email,
                given_name=cell["given_name"],
                family_name=cell["family_name"],
                service_number=number,
                force=cell["force"],
                unit=_unit_parts(cell["unit"]),
                rank=cell["rank"],
                role=role,
            )
        )
    if not rows and not errors:
        errors.append(RowError(line + 1, "the file has a header but no officers"))
    return rows, errors


def _quoted(value: str, limit: int = 60) -> str:
    """A cell's text inside a message: quoted, and cut short (a cell may hold megabytes)."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _unit_parts(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split("/")) if text else ()


def _row_problems(cell: dict[str, str]) -> list[str]:
    """What is wrong with one row on its own."""
    problems: list[str] = []
    email = cell["email"].lower()
    if not email:
        problems.append("email is missing")
    elif len(email) > MAX_EMAIL:
        problems.append(f"email is longer than {MAX_EMAIL} characters")
    elif not email.isascii():
        # 'ı' or 'ſ' pass the validator (it ignores case) and would make a look-alike account.
        problems.append(f"email {_quoted(cell['email'])} has characters other than plain ASCII")
    else:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"email {_quoted(cell['email'])} is not a valid address")
    for key, label in (("given_name", "given name"), ("family_name", "family name")):
        if not cell[key]:
            problems.append(f"{label} is missing")
        elif len(cell[key]) > MAX_NAME:
            problems.append(f"{label} is longer than {MAX_NAME} characters")
    number = cell["service_number"]
    if not number:
        problems.append("service number is missing")
    elif not SERVICE_NUMBER_RE.match(number):
        problems.append(
            f"service number {_quoted(number)} may only contain letters, digits, '-' and '/'"
            f" (at most {MAX_SERVICE_NUMBER})"
        )
    if not cell["force"]:
        problems.append("force is missing")
    unit_parts = _unit_parts(cell["unit"])
    if any(not p for p in unit_parts):
        problems.append(f"unit {_quoted(cell['unit'])} has an empty part between '/'")
    elif len(unit_parts) > MAX_UNIT_DEPTH:
        problems.append(
            f"the unit path has {len(unit_parts)} levels (at most {MAX_UNIT_DEPTH} below the force)"
        )
    elif any(len(p) > MAX_UNIT_NAME for p in unit_parts):
        problems.append(f"a unit name is longer than {MAX_UNIT_NAME} characters")
    if len(cell["force"]) > MAX_UNIT_NAME:
        problems.append(f"force is longer than {MAX_UNIT_NAME} characters")
    if len(cell["rank"]) > MAX_RANK:
        problems.append(f"rank is longer than {MAX_RANK} characters")
    if cell["role"] and parse_role(cell["role"]) is None:
        allowed = ", ".join(r.value for r in Role)
        problems.append(f"unknown role {_quoted(cell['role'])} (use one of: {allowed})")
    return problems


# ------------------------------------------------------------------------------ planning


@dataclass(frozen=True)
class Change:
    """One line of a plan, as a person reads it in the preview."""

    line: int  # the file's line (0 for a leaver, who is not in the file)
    email: str
    name: str
    detail: str = ""


@dataclass
class ImportPlan:
    created: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    moved: list[Change] = field(default_factory=list)
    role_changed: list[Change] = field(default_factory=list)
    leavers: list[Change] = field(default_factory=list)
    unchanged: int = 0
    units_created: list[str] = field(default_factory=list)
    # Accounts of the file's forces absent from it that are kept: they hold a staff role,
    # which an administrator changes, never a file.
    staff_absent: int = 0
    errors: list[RowError] = field(default_factory=list)
    # What apply needs, by email: (force, unit key, user id or None) for each row.
    targets: dict[str, tuple[Unit, tuple[str, ...], int | None]] = field(
        default_factory=dict, repr=False
    )
    leaver_ids: list[int] = field(default_factory=list, repr=False)
    renamed_or_back: set[str] = field(default_factory=set, repr=False)  # accounts to write
    role_ids: dict[str, int] = field(default_factory=dict, repr=False)

    def fingerprint(self, *, with_leavers: bool = False) -> str:
        """Identifies what the plan would do: the same fingerprint, the same changes. The
        leavers count only when they are to be deactivated: otherwise an officer added
        elsewhere in the force meanwhile would not change what this file does."""
        kinds = ["created", "updated", "moved", "role_changed"]
        if with_leavers:
            kinds.append("leavers")
        content: dict[str, Any] = {key: [asdict(c) for c in getattr(self, key)] for key in kinds}
        content["units_created"] = self.units_created
        text = json.dumps(content, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "moved": len(self.moved),
            "role_changed": len(self.role_changed),
            "leavers": len(self.leavers),
            "unchanged": self.unchanged,
            "units_created": len(self.units_created),
            "staff_absent": self.staff_absent,
        }


class UnitIndex:
    """Units in memory: the whole tree of some forces (children by lower-case name), and any
    other unit asked for with its ancestors (for full names)."""

    def __init__(self, forces: Iterable[Unit]) -> None:
        self.children: dict[tuple[str, str], Unit] = {}
        self.by_path: dict[str, Unit] = {}
        self.by_id: dict[int, Unit] = {}
        forces = list(forces)
        self._add(forces)
        if forces:
            query = Unit.objects.none()
            for force in forces:
                query |= Unit.objects.filter(path__startswith=force.path, depth__gt=1)
            self._add(query.order_by("path"))

    def _add(self, units: Iterable[Unit]) -> None:
        for unit in units:
            self.by_path[unit.path] = unit
            self.by_id[unit.pk] = unit
            if unit.depth > 1:
                self.children.setdefault((unit.path[: -Unit.steplen], unit.name.lower()), unit)

    def include(self, ids: Iterable[int | None]) -> None:
        """Load these units (and their ancestors) if they are not here yet: one query each."""
        missing = {pk for pk in ids if pk is not None and pk not in self.by_id}
        if not missing:
            return
        units = list(Unit.objects.filter(pk__in=missing))
        above = {u.path[:i] for u in units for i in range(Unit.steplen, len(u.path), Unit.steplen)}
        self._add(Unit.objects.filter(path__in=above - set(self.by_path)).order_by("path"))
        self._add(units)

    def walk(self, force: Unit, names: tuple[str, ...]) -> tuple[Unit, int]:
        """The deepest existing unit along `force / names...`, and how many names it covers."""
        node = force
        for depth, name in enumerate(names):
            child = self.children.get((node.path, name.lower()))
            if child is None:
                return node, depth
            node = child
        return node, len(names)

    def full_name(self, unit: Unit | None) -> str:
        if unit is None:
            return "no unit"
        steps = range(Unit.steplen, len(unit.path) + 1, Unit.steplen)
        return " / ".join(
            self.by_path[unit.path[:i]].name if unit.path[:i] in self.by_path else "?"
            for i in steps
        )

    def name_of(self, unit_id: int | None) -> str:
        return self.full_name(self.by_id.get(unit_id)) if unit_id is not None else "no unit"


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def officer_import_plan(rows: list[OfficerRow], *, actor: User | None = None) -> ImportPlan:
    """What applying these rows would do, and every row the database refuses. Reads in bulk;
    writes nothing. `actor` is the person importing (None: full rights, as the command has);
    a training lead may only import learners into the units they lead, and only the officers
    of those units can be their leavers."""
    plan = ImportPlan()
    forces = {u.name.lower(): u for u in Unit.get_root_nodes()}
    involved = {
        forces[r.force.lower()].pk: forces[r.force.lower()]
        for r in rows
        if r.force.lower() in forces
    }
    units = UnitIndex(involved.values())
    lead_paths = None if actor is None else led_unit_paths(actor)
    restricted = lead_paths is not None

    def may_manage(unit: Unit) -> bool:
        return lead_paths is None or any(unit.path.startswith(p) for p in lead_paths)

    emails = [r.email for r in rows]
    accounts: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(emails):
        for account in User.objects.filter(email__in=chunk).values(
            "id", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser"
        ):
            accounts[account["email"]] = account
    # The officers of the file's forces (leavers, service numbers) and the file's accounts.
    profile_fields = ("user_id", "service_number", "force_id", "unit_id", "rank")
    profiles: dict[int, dict[str, Any]] = {}
    force_profiles = OfficerProfile.objects.filter(force_id__in=list(involved)).values(
        *profile_fields,
        "user__email",
        "user__first_name",
        "user__last_name",
        "user__is_active",
        "user__is_staff",
        "user__is_superuser",
    )
    for profile in force_profiles.iterator(chunk_size=CHUNK):
        profiles[profile["user_id"]] = profile
    known_ids = [a["id"] for a in accounts.values() if a["id"] not in profiles]
    for chunk in _chunks(known_ids):
        for profile in OfficerProfile.objects.filter(user_id__in=chunk).values(*profile_fields):
            profiles[profile["user_id"]] = profile
    group_role = {name: role for role, name in GROUP_NAMES.items()}
    roles: dict[int, set[Role]] = defaultdict(set)
    memberships = User.groups.through.objects.filter(group__name__in=list(group_role))
    role_users = [a["id"] for a in accounts.values()]
    for chunk in _chunks(role_users):
        for user_id, name in memberships.filter(user_id__in=chunk).values_list(
            "user_id", "group__name"
        ):
            roles[user_id].add(group_role[name])
    staff_names = [GROUP_NAMES[r] for r in STAFF_ROLES]
    staff_ids = set(
        memberships.filter(
            group__name__in=staff_names, user__officer__force_id__in=list(involved)
        ).values_list("user_id", flat=True)
    ) | {uid for uid, held in roles.items() if held & STAFF_ROLES}
    number_owner = {
        (p["force_id"], p["service_number"].lower()): p["user_id"]
        for p in profiles.values()
        if p["service_number"] and p["force_id"] in involved
    }
    units.include(p["unit_id"] for p in profiles.values())

    new_units: dict[tuple[int, tuple[str, ...]], str] = {}
    for row in rows:
        force = forces.get(row.force.lower())
        if force is None:
            known = ", ".join(sorted(f.name for f in forces.values())) or "none yet"
            plan.errors.append(
                RowError(row.line, f"unknown force {_quoted(row.force)} (known: {known})")
            )
            continue
        account = accounts.get(row.email)
        user_id = account["id"] if account else None
        owner = number_owner.get((force.pk, row.service_number.lower()))
        if owner is not None and owner != user_id:
            plan.errors.append(
                RowError(
                    row.line,
                    f"duplicate service number {row.service_number} in {force.name}:"
                    " it already belongs to another officer",
                )
            )
        anchor, known_depth = units.walk(force, row.unit)
        profile = profiles.get(user_id) if user_id else None
        is_staff_account = bool(account) and (
            account["is_staff"] or account["is_superuser"] or bool(roles[user_id] & STAFF_ROLES)
        )
        if restricted:
            if row.role != Role.LEARNER:
                plan.errors.append(
                    RowError(
                        row.line,
                        "training leads can import learners only;"
                        " ask an administrator to give other roles",
                    )
                )
            # New units are created under the deepest existing one: the actor must lead it.
            if not may_manage(anchor):
                plan.errors.append(RowError(row.line, "the unit is not one of the units you lead"))
            if is_staff_account:
                plan.errors.append(
                    RowError(
                        row.line,
                        f"{row.email} has a staff role; only an administrator can change"
                        " their record",
                    )
                )
            elif account is not None and not account["is_active"]:
                plan.errors.append(
                    RowError(
                        row.line,
                        f"{row.email}'s account has been deactivated; only an administrator"
                        " can bring it back",
                    )
                )
            elif account is not None:
                # An existing account is the lead's to update only if it is already an officer
                # in one of their units: not a self sign-up with no unit yet, not staff made in
                # the Users admin with no officer profile, not an officer elsewhere.
                if profile is None or profile["unit_id"] is None:
                    plan.errors.append(
                        RowError(
                            row.line,
                            f"{row.email} already has an account that is not in any unit; "
                            "ask an administrator to place it",
                        )
                    )
                else:
                    current = units.by_id.get(profile["unit_id"])
                    if current is None or not may_manage(current):
                        plan.errors.append(
                            RowError(row.line, f"{row.email} belongs to a unit you do not lead")
                        )
        unit_key = tuple(n.lower() for n in row.unit)
        plan.targets[row.email] = (force, row.unit, user_id)
        target_name = " / ".join([force.name, *row.unit]) if row.unit else force.name
        if known_depth < len(row.unit):
            existing = units.full_name(anchor)
            for depth in range(known_depth + 1, len(row.unit) + 1):
                key = (force.pk, unit_key[:depth])
                if key not in new_units:
                    new_units[key] = " / ".join([existing, *row.unit[known_depth:depth]])
            target_name = " / ".join([existing, *row.unit[known_depth:]])
        else:
            target_name = units.full_name(anchor)
        name = f"{row.given_name} {row.family_name}"
        if account is None:
            role_note = "" if row.role == Role.LEARNER else f"; {Role(row.role).label.lower()}"
            plan.created.append(Change(row.line, row.email, name, target_name + role_note))
            continue
        changed = False
        details = []
        if (account["first_name"], account["last_name"]) != (row.given_name, row.family_name):
            details.append(f"name {account['first_name']} {account['last_name']} → {name}")
            plan.renamed_or_back.add(row.email)
        if not account["is_active"]:
            details.append("returns: account re-activated")
            plan.renamed_or_back.add(row.email)
        if profile is None:
            details.append("officer record created")
        else:
            if profile["service_number"] != row.service_number:
                details.append(
                    f"service number {profile['service_number'] or '(none)'} → {row.service_number}"
                )
            if profile["rank"] != row.rank:
                details.append(f"rank {profile['rank'] or '(none)'} → {row.rank or '(none)'}")
            if profile["force_id"] != force.pk and profile["unit_id"] is not None:
                pass  # a move between forces shows as a move between units
            elif profile["force_id"] != force.pk:
                details.append(f"force → {force.name}")
        if details:
            plan.updated.append(Change(row.line, row.email, name, "; ".join(details)))
            changed = True
        target_unit = anchor if known_depth == len(row.unit) else None
        if profile is not None and (target_unit is None or profile["unit_id"] != target_unit.pk):
            plan.moved.append(
                Change(
                    row.line,
                    row.email,
                    name,
                    f"{units.name_of(profile['unit_id'])} → {target_name}",
                )
            )
            changed = True
        held = roles[user_id] | ({Role.ADMINISTRATOR} if account["is_superuser"] else set())
        current_role = highest_role(held)
        needs_role = current_role != row.role or not roles[user_id]
        if needs_role:
            before = current_role.label.lower() if roles[user_id] else "no role"
            plan.role_changed.append(
                Change(row.line, row.email, name, f"{before} → {Role(row.role).label.lower()}")
            )
            plan.role_ids[row.email] = user_id
            changed = True
        if not changed:
            plan.unchanged += 1
    plan.units_created = sorted(new_units.values())

    in_file = {a["id"] for a in accounts.values()}
    for profile in sorted(profiles.values(), key=lambda p: p.get("user__email", "")):
        if (
            "user__email" not in profile
            or profile["user_id"] in in_file
            or not profile["user__is_active"]
        ):
            continue
        unit = units.by_id.get(profile["unit_id"])
        if restricted and (unit is None or not may_manage(unit)):
            continue
        if (
            profile["user_id"] in staff_ids
            or profile["user__is_staff"]
            or profile["user__is_superuser"]
        ):
            plan.staff_absent += 1
            continue
        plan.leavers.append(
            Change(
                0,
                profile["user__email"],
                f"{profile['user__first_name']} {profile['user__last_name']}".strip(),
                units.name_of(profile["unit_id"]),
            )
        )
        plan.leaver_ids.append(profile["user_id"])
    return plan


# ------------------------------------------------------------------------------ applying


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    units_created: list[str] = field(default_factory=list)
    deactivated: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [
            f"{len(self.created)} officer(s) created",
            f"{len(self.updated)} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.units_created:
            parts.append(f"{len(self.units_created)} unit(s) created")
        if self.deactivated:
            parts.append(f"{self.deactivated} leaver(s) deactivated")
        return ", ".join(parts) + "."


Progress = Callable[[str, int, int], None]  # (what is being done, done, of how many)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def officer_import_apply(
    rows: list[OfficerRow],
    *,
    actor: User | None = None,
    expected: str | None = None,
    deactivate_leavers: bool = False,
    send_invitations: bool = True,
    progress: Progress = _no_progress,
) -> ImportReport:
    """Apply the rows, all or none. Raises ImportRejected (the database refuses rows) or
    PlanChanged (`expected` given and the plan is no longer that one); then nothing changed."""
    with transaction.atomic():
        _lock_forces({row.force.lower() for row in rows})
        # Planned under the lock: a concurrent import of the same forces has finished, and
        # what it wrote is seen here (the same file again finds nothing left to do).
        progress("checking", 0, len(rows))
        plan = officer_import_plan(rows, actor=actor)
        if plan.errors:
            raise ImportRejected(plan.errors)
        if expected is not None and plan.fingerprint(with_leavers=deactivate_leavers) != expected:
            raise PlanChanged
        report = _write(rows, plan, deactivate_leavers=deactivate_leavers, progress=progress)
        if send_invitations and report.created:
            transaction.on_commit(lambda: _invite(report.created))
    return report


def _invite(emails: list[str]) -> None:
    """Queue the new officers' invitations in background tasks of 500 each: queueing 16,000
    emails is not the import's work, and an outage of the mail server does not undo it."""
    from officers.tasks import invite_officers  # officers.tasks imports this module

    ids: list[int] = []
    for chunk in _chunks(emails):
        ids += User.objects.filter(email__in=chunk).values_list("pk", flat=True)
    for chunk in _chunks(sorted(ids), 500):
        invite_officers.enqueue(chunk)


def officers_invite(user_ids: list[int]) -> int:
    """Queue the invitations of these officers (each at most once: the outbox key)."""
    return invite_users(User.objects.filter(pk__in=user_ids).order_by("pk"))


def _units_create(plan: ImportPlan) -> dict[tuple[int, tuple[str, ...]], Unit]:
    """Every row's unit, by (force, lower-case names), creating the missing ones in one bulk
    insert: their tree paths are worked out here as treebeard would (a force's first HR file
    creates its whole tree, hundreds of units), under the lock on the force."""
    index = UnitIndex({force.pk: force for force, _n, _u in plan.targets.values()}.values())
    step = Unit.steplen
    last: dict[str, int] = defaultdict(int)  # a parent's path: the last step its children use
    for path in index.by_path:
        if len(path) > step:
            last[path[:-step]] = max(last[path[:-step]], Unit._str2int(path[-step:]))
    created: list[Unit] = []
    grown: dict[str, int] = defaultdict(int)  # existing parents: how many children they gain
    unit_of: dict[tuple[int, tuple[str, ...]], Unit] = {}
    for force, names, _user_id in plan.targets.values():
        key = (force.pk, tuple(n.lower() for n in names))
        if key in unit_of:
            continue
        node = force
        for depth, name in enumerate(names, start=1):
            child = index.children.get((node.path, name.lower()))
            if child is None:
                last[node.path] += 1
                kind = Unit.Kind.TEAM if depth == len(names) else Unit.Kind.DIVISION
                child = Unit(
                    path=Unit._get_path(node.path, node.depth + 1, last[node.path]),
                    depth=node.depth + 1,
                    numchild=0,
                    name=name,
                    kind=kind,
                )
                node.numchild += 1
                if node.pk is not None:
                    grown[node.path] += 1
                index.children[(node.path, name.lower())] = child
                created.append(child)
            node = child
        unit_of[key] = node
    Unit.objects.bulk_create(sorted(created, key=lambda u: u.path), batch_size=1000)
    for path, count in grown.items():
        Unit.objects.filter(path=path).update(numchild=F("numchild") + count)
    return unit_of


def _write(
    rows: list[OfficerRow], plan: ImportPlan, *, deactivate_leavers: bool, progress: Progress
) -> ImportReport:
    total = len(rows)
    report = ImportReport(units_created=list(plan.units_created), counts=plan.summary())
    unit_of = _units_create(plan)
    progress("writing accounts", 0, total)

    updated: set[str] = {c.email for c in (*plan.updated, *plan.moved, *plan.role_changed)}
    by_email = {row.email: row for row in rows}
    # Accounts: new ones in bulk (a password no one can use: they set one from the invitation).
    new_rows = [by_email[c.email] for c in plan.created]
    users = [
        User(
            email=row.email,
            first_name=row.given_name,
            last_name=row.family_name,
            password=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
        )
        for row in new_rows
    ]
    created_ids: dict[str, int] = {}
    for chunk in _chunks(users, 1000):
        User.objects.bulk_create(chunk)
        created_ids.update({u.email: u.pk for u in chunk})
        progress("writing accounts", len(created_ids), total)
    if any(pk is None for pk in created_ids.values()):  # a backend that returns no ids
        created_ids = {}
        for chunk in _chunks([u.email for u in users]):
            created_ids.update(User.objects.filter(email__in=chunk).values_list("email", "pk"))

    user_id = {email: (uid or created_ids[email]) for email, (_f, _n, uid) in plan.targets.items()}
    changed_users = []
    for row in rows:
        uid = plan.targets[row.email][2]
        if uid is not None and row.email in plan.renamed_or_back:
            changed_users.append(
                User(pk=uid, first_name=row.given_name, last_name=row.family_name, is_active=True)
            )
    for chunk in _chunks(changed_users, 1000):
        User.objects.bulk_update(chunk, ["first_name", "last_name", "is_active"])

    # Email addresses: each officer's address on file (unverified until they use a link).
    ids = list(user_id.values())
    have = set()
    for chunk in _chunks(ids):
        have.update(EmailAddress.objects.filter(user_id__in=chunk).values_list("user_id", "email"))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=uid, email=email, primary=True, verified=False)
            for email, uid in user_id.items()
            if (uid, email) not in have
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    progress("writing officer records", 0, total)

    # Officer records: new ones created, changed ones updated, all in bulk.
    existing: dict[int, OfficerProfile] = {}
    for chunk in _chunks(ids):
        existing.update({p.user_id: p for p in OfficerProfile.objects.filter(user_id__in=chunk)})
    to_create, to_update, placed = [], [], []
    for row in rows:
        force, names, _uid = plan.targets[row.email]
        unit = unit_of[(force.pk, tuple(n.lower() for n in names))]
        uid = user_id[row.email]
        wanted = {
            "service_number": row.service_number,
            "force_id": force.pk,
            "unit_id": unit.pk,
            "rank": row.rank,
        }
        profile = existing.get(uid)
        if profile is None:
            to_create.append(OfficerProfile(user_id=uid, **wanted))
            continue
        if profile.unit_id != unit.pk:
            placed.append(profile.pk)
        if any(getattr(profile, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(profile, key, value)
            to_update.append(profile)
    for chunk in _chunks(to_update, 1000):
        OfficerProfile.objects.bulk_update(chunk, ["service_number", "force_id", "unit_id", "rank"])
    done = 0
    for chunk in _chunks(to_create, 1000):
        OfficerProfile.objects.bulk_create(chunk)
        done += len(chunk)
        progress("writing officer records", done, total)
    new_profiles = [p.pk for p in to_create if p.pk is not None]
    if len(new_profiles) < len(to_create):
        new_profiles = []
        for chunk in _chunks([p.user_id for p in to_create]):
            new_profiles += OfficerProfile.objects.filter(user_id__in=chunk).values_list(
                "pk", flat=True
            )
    progress("writing roles", 0, total)

    # Roles: a new officer gets the file's role; an existing one only where it differs.
    groups = _role_groups()
    role_for = {user_id[c.email]: by_email[c.email].role for c in plan.created}
    role_for.update({uid: by_email[email].role for email, uid in plan.role_ids.items()})
    through = User.groups.through
    for chunk in _chunks(list(role_for)):
        through.objects.filter(
            user_id__in=chunk, group_id__in=[g.pk for g in groups.values()]
        ).delete()
    through.objects.bulk_create(
        [through(user_id=uid, group_id=groups[role].pk) for uid, role in role_for.items()],
        batch_size=1000,
        ignore_conflicts=True,
    )
    admins = [uid for uid, role in role_for.items() if role == Role.ADMINISTRATOR]
    others = [uid for uid, role in role_for.items() if role != Role.ADMINISTRATOR]
    for chunk in _chunks(admins):
        User.objects.filter(pk__in=chunk).update(is_superuser=True, is_staff=True)
    for chunk in _chunks(others):
        User.objects.filter(pk__in=chunk).exclude(is_superuser=False, is_staff=False).update(
            is_superuser=False, is_staff=False
        )

    # Officers placed in a unit for the first time or moved: the training app applies the
    # unit's assignment rules (a signal: it sits above this app).
    officers_placed.send(sender=OfficerProfile, profile_ids=[*new_profiles, *placed])

    if deactivate_leavers and plan.leaver_ids:
        for chunk in _chunks(plan.leaver_ids):
            User.objects.filter(pk__in=chunk).update(is_active=False)
            for session in UserSession.objects.filter(user_id__in=chunk):
                session.end()
        report.deactivated = len(plan.leaver_ids)
    progress("done", total, total)

    report.created = [c.email for c in plan.created]
    report.updated = sorted(updated)
    report.unchanged = plan.unchanged
    return report


def _role_groups() -> dict[Role, Group]:
    """The role groups, in one query once they exist (ensure_role_groups checks every
    permission of every group: dozens of queries)."""
    found = {g.name: g for g in Group.objects.filter(name__in=list(GROUP_NAMES.values()))}
    if len(found) < len(GROUP_NAMES):
        return ensure_role_groups()
    return {role: found[name] for role, name in GROUP_NAMES.items()}


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


def import_officers(
    data: bytes,
    *,
    actor: User | None = None,
    send_invitations: bool = True,
    filename: str = "",
    deactivate_leavers: bool = False,
) -> ImportReport:
    """Import officers from an HR file in one call: all rows or none.

    Raises ImportRejected listing every bad row (with its line number) and changes nothing.
    `actor` is the person importing (None for the management command, which has full rights);
    a training lead may only import learners into the units they lead.
    """
    rows, errors = officer_file_read(data, filename)
    if errors:
        plan = officer_import_plan(rows, actor=actor)
        raise ImportRejected(errors + plan.errors)
    return officer_import_apply(
        rows,
        actor=actor,
        send_invitations=send_invitations,
        deactivate_leavers=deactivate_leavers,
    )
