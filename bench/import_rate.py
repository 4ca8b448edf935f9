"""Benchmark: the officer import (officers.imports) on PostgreSQL, in rows per second.

    .venv/bin/python bench/import_rate.py [--rows 16000]

DATABASE_URL names the PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/pathways_bench_import). IT IS DROPPED AND CREATED AGAIN, and
dropped at the end; its name must start with `pathways_bench`.

Three files for one force, each previewed (read, checked and planned against the database)
and applied (all rows in one transaction), timed separately, with their SQL query counts and
how much each raised the process's peak resident memory:

1. a first HR file of `--rows` officers in 400 teams: every officer is new;
2. the same force a month later: 5% moved to another team, 2% renamed, 2% new, 2% gone
   (leavers, deactivated) and the rest unchanged;
3. the second file again: nothing to do.

Invitations are queued by background tasks after the import commits; they are not timed here.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench.matrix import configure_environment, postgres_config, recreate_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pathways_bench_import"
FORCE = "Bench Constabulary"
HEADER = "email,given_name,family_name,service_number,force,unit,rank,role"


def hr_file(rows: int, month: int) -> bytes:
    """A force's HR export. Month 2 moves, renames, adds and drops a few per hundred."""
    lines = [HEADER]
    for i in range(rows):
        if month == 2 and i % 50 == 7:
            continue  # 2% leavers
        team = i % 400
        given = f"Given{i}"
        if month == 2 and i % 20 == 3:
            team = (team + 1) % 400  # 5% moved
        if month == 2 and i % 50 == 11:
            given = f"Renamed{i}"  # 2% renamed
        lines.append(
            f"officer{i}@bench.police.uk,{given},Family{i},B{i:06d},{FORCE},"
            f"Division {team // 20}/Team {team},Constable,learner"
        )
    if month == 2:
        for i in range(rows, rows + rows // 50):  # 2% joiners
            lines.append(
                f"officer{i}@bench.police.uk,Given{i},Family{i},B{i:06d},{FORCE},"
                f"Division {i % 400 // 20}/Team {i % 400},Constable,learner"
            )
    return ("\n".join(lines) + "\n").encode()


def measure(label: str, action):  # noqa: ANN001, ANN201
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The process's peak resident memory, before and after: its growth is what this step
    # added to the high-water mark (tracemalloc would slow the step down several times).
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = action()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result, seconds, len(queries), (after - before) / 1024


def run(rows_wanted: int) -> None:
    from django.core.management import call_command

    from officers.imports import officer_file_read, officer_import_apply, officer_import_plan
    from officers.models import Unit, User

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate seconds={time.perf_counter() - started:.1f}", flush=True)
    Unit.add_root(name=FORCE, kind=Unit.Kind.FORCE)
    actor = User.objects.create_superuser(email="bench.admin@bench.police.uk", password=None)

    for name, data, leavers in (
        ("first_file", hr_file(rows_wanted, 1), False),
        ("month_later", hr_file(rows_wanted, 2), True),
        ("same_again", hr_file(rows_wanted, 2), True),
    ):
        (rows, errors), read_s, _q, _m = measure(
            "read", lambda d=data: officer_file_read(d, "hr.csv")
        )
        assert not errors, errors[:5]
        plan, plan_s, plan_q, plan_mb = measure(
            "preview", lambda r=rows: officer_import_plan(r, actor=actor)
        )
        assert not plan.errors, plan.errors[:5]
        report, apply_s, apply_q, apply_mb = measure(
            "apply",
            lambda r=rows, p=plan, d=leavers: officer_import_apply(
                r,
                actor=actor,
                expected=p.fingerprint(with_leavers=d),
                deactivate_leavers=d,
                send_invitations=False,
            ),
        )
        counts = " ".join(f"{k}={v}" for k, v in plan.summary().items())
        preview_s = read_s + plan_s
        print(
            f"import file={name} rows={len(rows)} bytes={len(data)} {counts}",
            flush=True,
        )
        print(
            f"import file={name} preview_seconds={preview_s:.2f} "
            f"preview_rows_per_second={len(rows) / preview_s:.0f} preview_queries={plan_q} "
            f"preview_rss_growth_mb={plan_mb:.0f} apply_seconds={apply_s:.2f} "
            f"apply_rows_per_second={len(rows) / apply_s:.0f} apply_queries={apply_q} "
            f"apply_rss_growth_mb={apply_mb:.0f} deactivated={report.deactivated}",
            flush=True,
        )
    print(
        f"import officers_in_database={User.objects.count()} "
        f"active={User.objects.filter(is_active=True).count()}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=16000)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not urlsplit(database_url).path.lstrip("/").startswith("pathways_bench"):
        sys.exit("DATABASE_URL's database must be named pathways_bench... (it is dropped)")
    configure_environment(database_url)
    config = postgres_config(database_url)
    recreate_database(config)
    import django

    django.setup()
    try:
        run(args.rows)
    finally:
        from django.db import connections

        connections.close_all()
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            urlsplit(database_url)._replace(path="/postgres").geturl(), autocommit=True
        ) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(config["NAME"])
                )
            )


if __name__ == "__main__":
    main()
