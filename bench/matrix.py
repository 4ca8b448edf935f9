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

Exports, at each size, of the overdue and expiring lists for that superuser:
- CSV (`export list=...`): time to the first chunk, total time, bytes, the most Python had
  allocated at once (tracemalloc, which slows the run) and the growth of the process's peak
  resident memory (VmHWM, reset before each export: the memory the export itself took).
- XLSX through the background job (`xlsx_job list=...`): the time the request takes to record
  the job and answer (the XLSX's "first byte": a redirect to the page that waits for it); then
  the job's build run in this process as the worker would run it, timed without tracemalloc
  (which slows openpyxl several times over), its resident memory growth, rows and file size;
  then the download's first byte.
After the sizes, the team of `--team` officers: its drill-down by name and by most overdue, and
its matrix exported as CSV (streamed) and as XLSX (the job).

At each size, also the matrix of a training lead who leads the largest force (`lead_matrix`).
`--matrix-only` times only the two matrices (no exports, drill-downs or team).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import statistics
import sys
import tempfile
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
    # Export files written by the XLSX job go to a throwaway folder (removed at the end).
    os.environ["DJANGO_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="pathways-bench-media-")


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


def force_lead():  # noqa: ANN201
    """A training lead of the force with the most officers, the force, and its officers."""
    from django.db.models import Count

    from officers.models import OfficerProfile, Role, Unit, User
    from officers.roles import user_set_role

    force = Unit.get_root_nodes().annotate(n=Count("force_officers")).order_by("-n", "path")[0]
    email = f"lead.{force.pk}@bench.police.uk"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, first_name="Force", last_name="Lead")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        OfficerProfile.objects.create(user=user, force=force, unit=force)
    user_set_role(user=user, role=Role.TRAINING_LEAD)
    user.officer.led_units.set([force])
    return user, force, force.force_officers.count()


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


def _status_kb(field: str) -> int | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else None


def _release_free_memory() -> None:
    """Hand memory the process has freed back to the system (glibc keeps it otherwise), so that
    what the measured code takes shows as growth rather than reuse of what generation left."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakRss:
    """The growth of this process's peak resident memory (Linux VmHWM, reset on entry through
    /proc/self/clear_refs) over what it used on entry: memory the measured code took, C
    allocations (openpyxl's XML, the database driver) included. None where Linux's /proc is
    not available."""

    def __enter__(self) -> PeakRss:
        self.growth_mb: float | None = None
        _release_free_memory()
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.start = None
        else:
            self.start = _status_kb("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        peak = _status_kb("VmHWM")
        if self.start is not None and peak is not None:
            self.growth_mb = max(peak - self.start, 0) / 1024


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def time_export(user, url: str) -> dict:  # noqa: ANN001
    """One CSV export, read to the end: time to the first chunk, total time, bytes, the most
    Python allocated at once while it ran (tracemalloc), and the peak resident growth."""
    import tracemalloc

    from django.test import Client

    client = Client()
    client.force_login(user)
    with PeakRss() as rss:
        tracemalloc.start()
        started = time.perf_counter()
        response = client.get(url)
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
        "rss_mb": rss.growth_mb,
    }


def print_export(name: str, total: int, exported: dict) -> None:
    print(
        f"export list={name} officers={total} status={exported['status']} "
        f"first_byte_ms={exported['first_ms']:.1f} total_ms={exported['total_ms']:.1f} "
        f"bytes={exported['bytes']} python_peak_mb={exported['peak_mb']:.1f} "
        f"rss_growth_mb={_mb(exported['rss_mb'])}",
        flush=True,
    )


def time_xlsx_job(user, url: str) -> dict:  # noqa: ANN001
    """An XLSX export through the background job: the request that records it (with tasks
    recorded, not run, as with a worker), then the job's build in this process, then the
    download of the file it wrote."""
    from django.test import Client, override_settings

    from training.admin_views import export_file_write
    from training.export_files import export_file_build
    from training.models import ExportFile

    client = Client()
    client.force_login(user)
    dummy = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=dummy, PATHWAYS_EXPORT_INLINE_ROWS=0):
        started = time.perf_counter()
        response = client.get(url)
        request_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 302:
        return {"status": response.status_code, "request_ms": request_ms}
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    export = ExportFile.objects.get(token=token)
    # Timed without tracemalloc, which slows openpyxl's cell-by-cell writing several times
    # over: the time is what the person waits; the memory is the resident growth.
    with PeakRss() as rss:
        started = time.perf_counter()
        export = export_file_build(export.pk, write=export_file_write)
        build_s = time.perf_counter() - started
    started = time.perf_counter()
    download = client.get(f"/admin/training/my-exports/{token}/download/")
    chunks = iter(download.streaming_content if download.streaming else [download.content])
    size = len(next(chunks, b""))
    first_ms = (time.perf_counter() - started) * 1000
    size += sum(len(chunk) for chunk in chunks)
    result = {
        "status": export.status if export else "missing",
        "request_ms": request_ms,
        "build_s": build_s,
        "rss_mb": rss.growth_mb,
        "rows": export.rows if export else None,
        "bytes": size,
        "download_first_ms": first_ms,
        "download_status": download.status_code,
    }
    if export is not None:
        export.delete()  # and its file
    return result


def print_xlsx_job(name: str, total: int, job: dict) -> None:
    if "build_s" not in job:
        print(f"xlsx_job list={name} officers={total} status={job['status']}", flush=True)
        return
    print(
        f"xlsx_job list={name} officers={total} status={job['status']} "
        f"first_byte_ms={job['request_ms']:.1f} build_s={job['build_s']:.1f} "
        f"rss_growth_mb={_mb(job['rss_mb'])} "
        f"rows={job['rows']} bytes={job['bytes']} "
        f"download_status={job['download_status']} "
        f"download_first_byte_ms={job['download_first_ms']:.1f}",
        flush=True,
    )


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


def print_drilldown(total: int, team: int, drill: dict, ordering: str = "name") -> None:
    print(
        f"drilldown officers={total} team_officers={team} ordering={ordering} "
        f"status={drill['status']} "
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
        help="after the sizes, move this many officers into one team and time its drill-down "
        "and its matrix exports",
    )
    parser.add_argument(
        "--matrix-only",
        action="store_true",
        help="time only the national administrator's and a force lead's matrices",
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
        lead, force, force_officers = force_lead()
        for view, url in (("force", MATRIX_URL), ("divisions", f"{MATRIX_URL}?unit={force.pk}")):
            result = time_matrix(lead, args.repeat, url)
            print(
                f"lead_matrix view={view} officers={total} force_officers={force_officers} "
                f"status={result['status']} median_ms={result['median_ms']:.1f} "
                f"min_ms={result['min_ms']:.1f} max_ms={result['max_ms']:.1f} "
                f"queries={result['queries']} bytes={result['bytes']}",
                flush=True,
            )
        if args.matrix_only:
            continue
        for name in EXPORTS:
            print_export(name, total, time_export(admin, f"/admin/training/{name}/?export=csv"))
            job = time_xlsx_job(admin, f"/admin/training/{name}/?export=xlsx")
            print_xlsx_job(name, total, job)
        unit_id, team = largest_team()
        drill = time_matrix(admin, args.repeat, f"{MATRIX_URL}?unit={unit_id}")
        print_drilldown(total, team, drill)
    if args.team and not args.matrix_only:
        admin = national_administrator()
        unit_id, team = make_big_team(args.team)
        url = f"{MATRIX_URL}?unit={unit_id}"
        print_drilldown(total, team, time_matrix(admin, args.repeat, url))
        drill = time_matrix(admin, args.repeat, url + "&ordering=-overdue")
        print_drilldown(total, team, drill, ordering="-overdue")
        print_export("matrix-team", total, time_export(admin, url + "&export=csv"))
        print_xlsx_job("matrix-team", total, time_xlsx_job(admin, url + "&export=xlsx"))
    close_connections()
    shutil.rmtree(os.environ["DJANGO_MEDIA_ROOT"], ignore_errors=True)


if __name__ == "__main__":
    main()
