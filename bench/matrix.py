"""Benchmark: the completion matrix page against PostgreSQL at growing sizes.

    .venv/bin/python bench/matrix.py [--sizes 1000,16000,150000] [--repeat 5] [--fresh]

DATABASE_URL names the PostgreSQL database to use (default
postgres://postgres@127.0.0.1:5432/pathways_bench). IT IS DROPPED AND CREATED AGAIN. SQLite is
refused: the numbers would say nothing about production.

By default the sizes are reached incrementally in one database (migrated once): 1,000 officers
in one synthetic force, then a second force that brings the total to 16,000, and so on, each
force doing the same 10 synthetic courses; the national administrator's matrix then spans
several forces. `--fresh` instead drops, creates and migrates the database for every size.

For each size it prints the generation time, then the median, min and max time of a GET of
MATRIX_URL for a superuser (with Django's test client, in process, after one warm-up), the
number of SQL queries and the response size, as plain `key=value` lines.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

MATRIX_URL = "/admin/training/matrix/"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pathways_bench"
ADMIN_EMAIL = "national.administrator@bench.police.uk"


def configure_environment(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "pathways.settings_test"  # plain static storage
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-used-anywhere-else-0123456789")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ["PATHWAYS_REQUIRE_STAFF_MFA"] = "0"


def postgres_config(database_url: str) -> dict:
    import dj_database_url

    config = dj_database_url.parse(database_url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit(
            f"bench/matrix.py measures PostgreSQL only; DATABASE_URL is {config['ENGINE']!r}. "
            "Set DATABASE_URL=postgres://user@host:port/name (the database is dropped!)."
        )
    return config


def recreate_database(config: dict) -> None:
    """DROP and CREATE the database, through the server's maintenance database."""
    import psycopg
    from psycopg import sql

    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    name = sql.Identifier(config["NAME"])
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def setup_django(migrate: bool) -> None:
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        started = time.monotonic()
        call_command("migrate", verbosity=0)
        print(f"migrate seconds={time.monotonic() - started:.1f}", flush=True)


def close_connections() -> None:
    from django.db import connections

    connections.close_all()


def live_scenarios() -> int:
    """Publish the demo scenarios, so that the generator has live ones to record attempts on."""
    from scenarios.demo import DEMO_DIR, demo_scenario

    return len([demo_scenario(path.name) for path in sorted(DEMO_DIR.glob("*.json"))])


def generate(officers: int, courses: int, force_name: str, seed: int) -> float:
    from django.core.management import call_command
    from django.db import connection

    out = io.StringIO()
    started = time.monotonic()
    call_command(
        "generate_synthetic",
        "--officers",
        str(officers),
        "--courses",
        str(courses),
        "--seed",
        str(seed),
        "--force-name",
        force_name,
        "--yes",
        stdout=out,
    )
    seconds = time.monotonic() - started
    for line in out.getvalue().splitlines():
        if "=" in line and not line.startswith("seconds="):
            print(f"  {line}", flush=True)
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would soon give
        cursor.execute("VACUUM ANALYZE")
    return seconds


def national_administrator():  # noqa: ANN201
    from officers.models import Role, User
    from officers.roles import user_set_role

    user = User.objects.filter(email=ADMIN_EMAIL).first()
    if user is None:
        user = User.objects.create_superuser(
            email=ADMIN_EMAIL, first_name="National", last_name="Administrator"
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user_set_role(user=user, role=Role.ADMINISTRATOR)
    return user


def _body_size(response) -> int:  # noqa: ANN001
    if getattr(response, "streaming", False):
        return sum(len(part) for part in response.streaming_content)
    return len(response.content)


def largest_team() -> tuple[int, int]:
    """The unit with the most officers placed on it, and how many: the drill-down timed."""
    from django.db.models import Count

    from officers.models import OfficerProfile

    row = (
        OfficerProfile.objects.values("unit_id")
        .annotate(n=Count("id"))
        .order_by("-n", "unit_id")
        .first()
    )
    return (row["unit_id"], row["n"]) if row else (0, 0)


def make_big_team(size: int) -> tuple[int, int]:
    """Move `size` officers of the largest force into one new team (a force's HR
    structure can put thousands in one unit): the drill-down a lead would open."""
    from django.db.models import Count

    from officers.models import OfficerProfile, Unit

    force = Unit.get_root_nodes().annotate(n=Count("force_officers")).order_by("-n", "path")[0]
    team = force.add_child(name=f"Bench team of {size}", kind=Unit.Kind.TEAM)
    ids = list(
        OfficerProfile.objects.filter(force=force).order_by("pk").values_list("pk", flat=True)
    )[:size]
    OfficerProfile.objects.filter(pk__in=ids).update(unit=team)
    return team.pk, len(ids)


EXPORTS = ("overdue", "expiring")


def time_export(user, name: str) -> dict:  # noqa: ANN001
    """One CSV export of a lead list, read to the end: time to the first chunk, total time,
    bytes, and the most Python allocated at once while it ran (tracemalloc)."""
    import tracemalloc

    from django.test import Client

    client = Client()
    client.force_login(user)
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(f"/admin/training/{name}/?export=csv")
    chunks = iter(response.streaming_content)
    size = len(next(chunks, b""))
    first = time.perf_counter() - started
    for chunk in chunks:
        size += len(chunk)
    total = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "status": response.status_code,
        "first_ms": first * 1000,
        "total_ms": total * 1000,
        "bytes": size,
        "peak_mb": peak / 2**20,
    }


def time_matrix(user, repeat: int, url: str = MATRIX_URL) -> dict:  # noqa: ANN001
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    warm = client.get(url)
    _body_size(warm)
    times, queries, size, status = [], [], 0, warm.status_code
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            size = _body_size(response)
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
        status = response.status_code
    return {
        "status": status,
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "queries": max(queries),
        "bytes": size,
    }


def print_drilldown(total: int, team: int, drill: dict) -> None:
    print(
        f"drilldown officers={total} team_officers={team} status={drill['status']} "
        f"median_ms={drill['median_ms']:.1f} min_ms={drill['min_ms']:.1f} "
        f"max_ms={drill['max_ms']:.1f} queries={drill['queries']} bytes={drill['bytes']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,16000,150000", help="officer counts, ascending")
    parser.add_argument("--repeat", type=int, default=5, help="timed GETs per size")
    parser.add_argument("--courses", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--team",
        type=int,
        default=10_000,
        help="after the sizes, move this many officers into one team and time its drill-down",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="drop, create and migrate the database for every size (slower)",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in re.split(r"[,\s]+", args.sizes.strip()) if s)
    if not sizes or sizes[0] < 1:
        sys.exit("--sizes: give positive officer counts, e.g. 1000,16000")
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    config = postgres_config(database_url)
    configure_environment(database_url)
    mode = "fresh database per size" if args.fresh else "incremental, one database"
    print(
        f"bench matrix url={MATRIX_URL} database={config['NAME']} sizes={sizes} "
        f"repeat={args.repeat} courses={args.courses} mode={mode!r}",
        flush=True,
    )

    recreate_database(config)
    setup_django(migrate=True)
    print(f"scenarios live={live_scenarios()}", flush=True)
    total = 0
    for n, size in enumerate(sizes, start=1):
        if args.fresh and n > 1:
            close_connections()
            recreate_database(config)
            setup_django(migrate=False)
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            live_scenarios()
            total = 0
        add = size - total
        force_name = f"Synthetic Force {n} ({add} officers)"
        seconds = generate(add, args.courses, force_name, args.seed + n)
        total = size
        print(
            f"generate officers_added={add} officers_total={total} courses={args.courses} "
            f"seconds={seconds:.1f}",
            flush=True,
        )
        admin = national_administrator()
        result = time_matrix(admin, args.repeat)
        print(
            f"matrix officers={total} courses={args.courses} status={result['status']} "
            f"median_ms={result['median_ms']:.1f} min_ms={result['min_ms']:.1f} "
            f"max_ms={result['max_ms']:.1f} queries={result['queries']} "
            f"bytes={result['bytes']}",
            flush=True,
        )
        for name in EXPORTS:
            exported = time_export(admin, name)
            print(
                f"export list={name} officers={total} status={exported['status']} "
                f"first_byte_ms={exported['first_ms']:.1f} total_ms={exported['total_ms']:.1f} "
                f"bytes={exported['bytes']} python_peak_mb={exported['peak_mb']:.1f}",
                flush=True,
            )
        unit_id, team = largest_team()
        drill = time_matrix(admin, args.repeat, f"{MATRIX_URL}?unit={unit_id}")
        print_drilldown(total, team, drill)
    if args.team:
        unit_id, team = make_big_team(args.team)
        drill = time_matrix(national_administrator(), args.repeat, f"{MATRIX_URL}?unit={unit_id}")
        print_drilldown(total, team, drill)
    close_connections()


if __name__ == "__main__":
    main()
