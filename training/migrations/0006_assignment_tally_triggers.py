
from django.db import migrations
from django.utils import timezone

# The tally's triggers (see training.models.AssignmentTally), created after the tally's key
# (Django creates 0005's indexes at the end of 0005, and the upserts need it). Every trigger adds
# what the rows it saw count for after the statement and takes away what they counted for before, per
# (unit, force, course), in one grouped upsert. On PostgreSQL: statement triggers with
# transition tables (a bulk insert or COPY costs one upsert per statement, not per row), each
# reading the tally's date FOR SHARE, so that `training.tally.tally_roll` (FOR UPDATE) never
# runs between a write and its count. On SQLite: row triggers (SQLite serialises writers).
# Frozen here, as a migration must be: a later change to the rule is a new migration.

TALLY = "training_assignmenttally"
TALLY_DATE = "training_assignmenttallydate"
COLUMNS = "unit_id, force_id, course_id, complete, overdue, in_progress, not_started, expiring"
COUNTS = ("complete", "overdue", "in_progress", "not_started", "expiring")


def _assignments(rows: str, profiles: str, sign: int, as_of: str) -> str:
    """What current assignments `rows` count for, as of `as_of`, for officers `profiles`."""
    open_ = "a.completed_at IS NULL"
    return f"""
        SELECT p.unit_id AS unit_id, p.force_id AS force_id, a.course_id AS course_id,
            {sign} * (CASE WHEN a.completed_at IS NOT NULL THEN 1 ELSE 0 END) AS complete,
            {sign} * (CASE WHEN {open_} AND a.due_on < {as_of} THEN 1 ELSE 0 END) AS overdue,
            {sign} * (CASE WHEN {open_} AND a.due_on >= {as_of} AND a.started_at IS NOT NULL
                THEN 1 ELSE 0 END) AS in_progress,
            {sign} * (CASE WHEN {open_} AND a.due_on >= {as_of} AND a.started_at IS NULL
                THEN 1 ELSE 0 END) AS not_started,
            0 AS expiring
        FROM {rows} a JOIN {profiles} p ON p.user_id = a.user_id
        WHERE a.current AND p.unit_id IS NOT NULL"""


def _certificates(rows: str, profiles: str, sign: int, as_of: str) -> str:
    """What certificates `rows` count for: current and in their refresher window on `as_of`."""
    return f"""
        SELECT p.unit_id AS unit_id, p.force_id AS force_id, c.course_id AS course_id,
            0 AS complete, 0 AS overdue, 0 AS in_progress, 0 AS not_started, {sign} AS expiring
        FROM {rows} c JOIN {profiles} p ON p.user_id = c.user_id
        WHERE p.unit_id IS NOT NULL AND c.superseded_by_id IS NULL AND c.revoked_at IS NULL
            AND c.refresher_from <= {as_of} AND c.expires_on >= {as_of}"""


def _upsert(parts: list[str]) -> str:
    """Add the parts' counts to the tally, a row per (unit, force, course), in key order."""
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    nonzero = " OR ".join(f"SUM({c}) <> 0" for c in COUNTS)
    update = ", ".join(f"{c} = {TALLY}.{c} + excluded.{c}" for c in COUNTS)
    union = " UNION ALL ".join(parts)
    return f"""
        INSERT INTO {TALLY} ({COLUMNS})
        SELECT unit_id, force_id, course_id, {sums} FROM ({union}) AS parts
        WHERE true
        GROUP BY unit_id, force_id, course_id HAVING {nonzero}
        ORDER BY unit_id, course_id, force_id
        ON CONFLICT (unit_id, course_id, (COALESCE(force_id, 0))) DO UPDATE SET {update}"""


ASSIGNMENT = "training_assignment"
CERTIFICATE = "certificates_certificate"
PROFILE = "officers_officerprofile"
# (table, what its rows count for, given rows and profiles, and the other side of the join)
SOURCES = {
    ASSIGNMENT: lambda rows, sign, d: [_assignments(rows, PROFILE, sign, d)],
    CERTIFICATE: lambda rows, sign, d: [_certificates(rows, PROFILE, sign, d)],
    PROFILE: lambda rows, sign, d: [
        _assignments(ASSIGNMENT, rows, sign, d),
        _certificates(CERTIFICATE, rows, sign, d),
    ],
}
COLUMNS_OF = {
    ASSIGNMENT: ("user_id", "course_id", "due_on", "started_at", "completed_at", "current"),
    CERTIFICATE: (
        "user_id",
        "course_id",
        "superseded_by_id",
        "revoked_at",
        "refresher_from",
        "expires_on",
    ),
    PROFILE: ("user_id", "unit_id", "force_id"),
}
OPERATIONS = {"insert": ("new",), "update": ("old", "new"), "delete": ("old",)}


def _parts(table: str, op: str, rows_of, as_of: str) -> list[str]:  # noqa: ANN001
    parts = []
    for side in OPERATIONS[op]:
        parts += SOURCES[table](rows_of(side), -1 if side == "old" else 1, as_of)
    return parts


def _postgresql() -> tuple[list[str], list[str]]:
    create = [
        f"""
        CREATE FUNCTION training_tally_as_of() RETURNS date LANGUAGE plpgsql AS $$
        DECLARE d date;
        BEGIN
            SELECT as_of INTO d FROM {TALLY_DATE} WHERE id = 1 FOR SHARE;
            IF d IS NULL THEN
                -- Only in a database emptied by TRUNCATE (the test runner's flush), which
                -- emptied the tally too: any date is right for an empty tally.
                INSERT INTO {TALLY_DATE} (id, as_of) VALUES (1, CURRENT_DATE)
                    ON CONFLICT DO NOTHING;
                SELECT as_of INTO d FROM {TALLY_DATE} WHERE id = 1 FOR SHARE;
            END IF;
            RETURN d;
        END $$"""
    ]
    drop = []
    for table in SOURCES:
        for op, sides in OPERATIONS.items():
            name = f"training_tally_{table}_{op}"
            body = _upsert(_parts(table, op, lambda side: f"{side}_rows", "d"))
            referencing = " ".join(f"{side.upper()} TABLE AS {side}_rows" for side in sides)
            create += [
                f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE d date := training_tally_as_of();
                BEGIN
                    {body};
                    RETURN NULL;
                END $$""",
                f"""
                CREATE TRIGGER {name} AFTER {op.upper()} ON {table}
                REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}()""",
            ]
            drop += [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    drop.append("DROP FUNCTION IF EXISTS training_tally_as_of()")
    return create, drop


def _sqlite() -> tuple[list[str], list[str]]:
    as_of = f"(SELECT as_of FROM {TALLY_DATE} WHERE id = 1)"
    create, drop = [], []
    for table in SOURCES:
        for op in OPERATIONS:
            name = f"training_tally_{table}_{op}"

            def row(side: str, table: str = table) -> str:
                picked = ", ".join(f"{side}.{c} AS {c}" for c in COLUMNS_OF[table])
                return f"(SELECT {picked})"

            body = _upsert(_parts(table, op, row, as_of))
            create.append(
                f"""
                CREATE TRIGGER {name} AFTER {op.upper()} ON {table} FOR EACH ROW BEGIN
                    INSERT OR IGNORE INTO {TALLY_DATE} (id, as_of) VALUES (1, date('now'));
                    {body};
                END"""
            )
            drop.append(f"DROP TRIGGER IF EXISTS {name}")
    return create, drop


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    return _postgresql() if vendor == "postgresql" else _sqlite()


def tally_create(apps, schema_editor) -> None:  # noqa: ANN001
    """Create the triggers, then count what is already there as of today."""
    create, _drop = _statements(schema_editor.connection.vendor)
    for statement in create:
        schema_editor.execute(statement)
    today = timezone.localdate().isoformat()
    schema_editor.execute(f"DELETE FROM {TALLY}")
    schema_editor.execute(f"DELETE FROM {TALLY_DATE}")
    schema_editor.execute(f"INSERT INTO {TALLY_DATE} (id, as_of) VALUES (1, %s)", [today])
    as_of = f"(SELECT as_of FROM {TALLY_DATE} WHERE id = 1)"
    parts = [_assignments(ASSIGNMENT, PROFILE, 1, as_of), _certificates(CERTIFICATE, PROFILE, 1, as_of)]
    schema_editor.execute(_upsert(parts))


def tally_drop(apps, schema_editor) -> None:  # noqa: ANN001
    _create, drop = _statements(schema_editor.connection.vendor)
    for statement in drop:
        schema_editor.execute(statement)




class Migration(migrations.Migration):

    dependencies = [
        ("training", "0005_assignment_tally"),
        ("certificates", "0006_certificate_certificates_expires_on"),
        ("officers", "0004_officer_import"),
    ]

    operations = [migrations.RunPython(tally_create, tally_drop)]
