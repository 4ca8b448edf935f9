"""`make bench`: Pathways' figures on gunicorn + PostgreSQL with synthetic data.

    .venv/bin/python bench/run.py        # what `make bench` runs

1. Drops and creates the PostgreSQL database `pathways_bench`, migrates it with production
   settings, loads the demo (`seed_demo --force`) and a synthetic force
   (`generate_synthetic --officers 1000`).
2. Collects static files into a temporary directory and starts gunicorn `pathways.wsgi` on a
   free 127.0.0.1 port with production settings (DEBUG off, HTTPS behind a proxy).
3. Signs in virtual users (demo learners) and, for BENCH_SECONDS each, measures requests per
   second and p50/p99/max latency of: a lesson page (past its content warning), the public
   verification page, My learning and a scenario step POST (choose) (bench/http_load.py). The
   lesson and verification pages take turns (RATIO_ROUNDS each); the line
   `ratio lesson_to_verify=...` gives the lesson page's requests per second as a share of the
   verification page's, the floor of what a page costs here (the aim: 0.40 or more).
4. Stops gunicorn and counts the SQL queries of each page in process (Django's test client),
   ending with `queries summary`, the counts next to the bounds that tests/courses assert.
5. Runs bench/certificates.py (certificate PDF times) and bench/matrix.py (the completion
   matrix at 1,000 / 16,000 / 150,000 officers, in its own database `pathways_bench_matrix`,
   dropped afterwards), then bench/import_rate.py (the officer import's preview and apply of
   a 16,000-row HR file, rows per second). `pathways_bench` is kept, to look at after the run.

Every line is printed and also written to bench/results/latest.txt (not committed).

Environment (all optional):

    BENCH_SIZES=1000,16000,150000   officer counts for the matrix ("0" skips it)
    BENCH_SECONDS=15                measured seconds per HTTP scenario
    BENCH_USERS=16                  virtual users (at most 24: sign-ins are rate limited)
    BENCH_OFFICERS=1000             synthetic officers in the HTTP database
    BENCH_CERTIFICATES=200          PDFs for bench/certificates.py ("0" skips it)
    BENCH_KEEP_MATRIX=1             keep the matrix database (1.2 GB at 150,000 officers)
    BENCH_IMPORT_ROWS=16000         officers in bench/import_rate.py's HR files ("0" skips it;
                                    its database is <name>_import, dropped afterwards)
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pathways_bench
                                    the database name must start with `pathways_bench`:
                                    it is DROPPED; the matrix uses <name>_matrix
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# Run as a script, this folder comes first on sys.path, and bench/certificates.py would hide
# the `certificates` app: put the project root there instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from bench.http_load import (  # noqa: E402
    LoadError,
    Response,
    Result,
    VirtualUser,
    csrf_token,
    run_load,
)

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
RESULTS = BENCH_DIR / "results" / "latest.txt"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pathways_bench"
SECRET_KEY = "bench-secret-key-not-for-production-4e1d9b7c2a5f8e0d3c6b9a2f5e8d1c4b7a0"  # noqa: S105
WORKERS, THREADS = 2, 4  # one gunicorn: 2 processes (one a core) x 4 threads = 8 requests
MAX_USERS = 24  # allauth allows 30 sign-ins a minute from one address
MAIN_COURSE = "The public-health approach to policing"
RATIO_ROUNDS = 4  # turns each for the lesson and verification pages (see http_phase)
MATRIX_URL = "/admin/training/matrix/"

STEP_RE = re.compile(r'name="step" value="([^"]+)"')
CHOOSE_RE = re.compile(r'action="(/scenarios/attempts/\d+/choose/)"')
# Choices are posted by their id ("c1", "call-999"), as the step page's radio buttons give it.
CHOICE_RE = re.compile(r'name="choice" value="([^"]+)"')


# ------------------------------------------------------------------------------ output


class Report:
    """Plain lines, printed and written to bench/results/latest.txt as they come."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.handle = path.open("w", encoding="utf-8")
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def line(self, text: str = "") -> None:
        with self.lock:
            print(text, flush=True)
            self.handle.write(text + "\n")
            self.handle.flush()

    def step(self, text: str) -> None:
        self.line(f"== {text}  (t={time.monotonic() - self.started:.0f}s)")

    def close(self) -> None:
        self.handle.close()


# ------------------------------------------------------------------------------ settings


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_sizes() -> list[int]:
    raw = os.environ.get("BENCH_SIZES", "").strip() or "1000,16000,150000"
    sizes = sorted({int(part) for part in re.split(r"[,\s]+", raw) if part})
    return [size for size in sizes if size > 0]


def database_urls() -> tuple[str, str, str]:
    """(HTTP database URL, matrix database URL, database name), refusing any name that does
    not start with `pathways_bench`: both databases are dropped."""
    url = os.environ.get("BENCH_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in {"postgres", "postgresql"} or not name.startswith("pathways_bench"):
        sys.exit(
            f"BENCH_DATABASE_URL must be postgres://.../pathways_bench... (it is dropped), "
            f"not {url!r}"
        )
    matrix = urlunsplit(parts._replace(path=f"/{name}_matrix"))
    return url, matrix, name


def server_env(database_url: str, tmp: Path, port: int, *, immediate: bool) -> dict[str, str]:
    """Production settings (DEBUG off, HTTPS behind a proxy) with the bench's database."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PATHWAYS_", "AWS_", "EMAIL_", "BENCH_"))
        and k not in {"DATABASE_URL", "DATABASE_CONN_MAX_AGE", "REDIS_URL", "CACHE_KEY_PREFIX"}
    }
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "pathways.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "60",  # as docs/deployment.md recommends
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_MEDIA_ROOT": str(tmp / "media"),
        "PATHWAYS_TASKS_IMMEDIATE": "1" if immediate else "0",
        "PATHWAYS_REQUIRE_STAFF_MFA": "0",
        # The public check allows 30 a minute per address; the bench is one address.
        "PATHWAYS_VERIFY_RATE_PER_MINUTE": "1000000",
        "PATHWAYS_BASE_URL": f"https://{HOST}:{port}",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    if redis_reachable():  # the shared cache production uses for rate limits
        env["REDIS_URL"] = f"redis://{HOST}:6379/15"
        env["CACHE_KEY_PREFIX"] = f"pathways-bench-{os.getpid()}"
    return env


def redis_reachable() -> bool:
    try:
        with socket.create_connection((HOST, 6379), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------ processes


class Processes:
    """Every child this run starts, each in its own process group; `stop_all` ends them."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict[str, str], log: Path | None) -> subprocess.Popen:
        out = log.open("wb") if log is not None else subprocess.PIPE
        try:
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if log is not None:
                out.close()
        self.children.append(process)
        return process

    def stop(self, process: subprocess.Popen, grace: float = 10) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # a group's stragglers (gunicorn workers) go too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for process in self.children:
            self.stop(process)

    def run(
        self,
        report: Report,
        label: str,
        args: list[str],
        env: dict[str, str],
        timeout: float,
        echo: Callable[[str], bool] = lambda line: True,
    ) -> list[str]:
        """Run a command to completion (killed after `timeout` s), passing on its output lines
        that `echo` accepts, indented. Exits the bench if the command fails."""
        started = time.monotonic()
        process = self.start(args, env, None)
        lines: list[str] = []

        def read() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                text = raw.decode("utf-8", errors="replace").rstrip()
                lines.append(text)
                if text and echo(text):
                    report.line(f"  {text}")

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(process, grace=5)
            fail(report, f"{label} took longer than {timeout:.0f} s", lines)
        reader.join(timeout=10)
        if code != 0:
            fail(report, f"{label} failed with exit code {code}", lines)
        report.line(f"  {label}: {time.monotonic() - started:.1f} s")
        return lines


class BenchFailed(Exception):
    pass


def fail(report: Report, message: str, lines: list[str] | None = None) -> None:
    for text in (lines or [])[-30:]:
        report.line(f"  | {text}")
    raise BenchFailed(message)


# ------------------------------------------------------------------------------ machine


def machine_lines(database_url: str) -> list[str]:
    import psycopg

    cpu = "?"
    with contextlib.suppress(OSError):
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    debian = "?"
    with contextlib.suppress(OSError):
        debian = Path("/etc/debian_version").read_text().strip()
    maintenance = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, connect_timeout=10) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    versions = " ".join(f"{name}={package_version(name)}" for name in ("Django", "wagtail"))
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"machine cores={os.cpu_count()} cpu={cpu!r} memory={memory} debian={debian} "
        f"kernel={platform.release()}",
        f"software python={platform.python_version()} postgresql={server} "
        f"gunicorn={package_version('gunicorn')} {versions}",
        f"load_average_before={load} (1, 5, 15 min; other work on the host competes for CPU)",
    ]


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# ------------------------------------------------------------------------------ set-up


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    assert name.startswith("pathways_bench"), name
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    assert name.startswith("pathways_bench"), name
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# As in tests/deploy/test_multiprocess.py: Django's ManifestStaticFilesStorage writes the same
# manifest as WhiteNoise's compressed variant without the slow compression pass; gunicorn then
# runs with the real production storage (which serves static files, not measured here).
COLLECTSTATIC = """
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings
storages = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
with override_settings(STORAGES=storages):
    call_command("collectstatic", interactive=False, verbosity=0)
"""


def set_up_database(report: Report, procs: Processes, url: str, env: dict[str, str]) -> None:
    python = str(BIN / "python")
    report.step(f"database {urlsplit(url).path.lstrip('/')}: drop, create, migrate, seed")
    recreate_database(url)
    procs.run(report, "migrate", [python, "manage.py", "migrate", "--noinput", "-v", "0"], env, 900)
    procs.run(report, "seed_demo --force", [python, "manage.py", "seed_demo", "--force"], env, 900)
    officers = env_int("BENCH_OFFICERS", 1000)
    command = ROOT / "site" / "management" / "commands" / "generate_synthetic.py"
    if officers > 0 and command.exists():
        procs.run(
            report,
            f"generate_synthetic --officers {officers}",
            [python, "manage.py", "generate_synthetic", "--officers", str(officers), "--yes"],
            env,
            1800,
        )
    else:
        report.line("  generate_synthetic: skipped (not present or BENCH_OFFICERS=0)")
    procs.run(report, "vacuum analyze", [python, "-c", VACUUM], env, 600, echo=lambda line: False)


VACUUM = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE")
"""


# ------------------------------------------------------------------------------ fixtures


def django_setup(database_url: str) -> None:
    """This process talks to the bench database with the test settings (test client, plain
    static storage, no HTTPS redirect); the server runs with production settings."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "pathways.settings_test"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ["PATHWAYS_REQUIRE_STAFF_MFA"] = "0"
    os.environ["PATHWAYS_VERIFY_RATE_PER_MINUTE"] = "1000000"
    os.environ.pop("REDIS_URL", None)
    import logging

    import django

    django.setup()
    logging.getLogger("django.request").setLevel(logging.ERROR)


def fixtures(users: int) -> dict:
    """What the load needs, read from the bench database: the learners (their password set
    with production's default hasher), a lesson, the course, the live scenarios, a current
    certificate's code, the administrator and the synthetic officer with most assignments."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.db.models import Count

    from certificates.models import Certificate
    from courses.models import CoursePage, LessonPage
    from courses.selectors import course_outline
    from officers.jurisdictions import audience_includes
    from officers.models import Role, User
    from officers.selectors import officer_jurisdiction
    from pathways.demo import ACCOUNTS, DEMO_DOMAIN, DEMO_PASSWORD, FAMILY, GIVEN
    from scenarios.models import Scenario
    from training.models import Assignment

    emails = [f"{a[0]}@{DEMO_DOMAIN}" for a in ACCOUNTS if a[6] == Role.LEARNER]
    emails += [f"{g.lower()}.{f.lower()}@{DEMO_DOMAIN}" for g, f in zip(GIVEN, FAMILY, strict=True)]
    emails = emails[:users]
    # The test settings hash with MD5, which production settings refuse: store the demo
    # password once with production's default hasher (one hash, shared: a throwaway database).
    hasher = PBKDF2PasswordHasher()
    encoded = hasher.encode(DEMO_PASSWORD, hasher.salt())
    updated = User.objects.filter(email__in=emails).update(password=encoded)
    if updated != len(emails):
        raise BenchFailed(f"expected {len(emails)} demo learners, found {updated}")

    course = CoursePage.objects.live().get(title=MAIN_COURSE)
    outline = course_outline(course)
    first = next(ref for ref in outline.lessons if not ref.scenario_ids)
    lesson = LessonPage.objects.get(pk=first.id)
    live = list(Scenario.objects.filter(live=True).order_by("pk").values_list("pk", "audience"))
    scenarios = [pk for pk, _audience in live]
    if not scenarios:
        raise BenchFailed("no live scenario in the bench database")
    # Each officer plays only the scenarios for their jurisdiction: another jurisdiction's
    # scenario is, to them, a missing one (HTTP 404).
    open_to: dict[str, list[int]] = {}
    for user in User.objects.filter(email__in=emails).select_related("officer__force"):
        code = officer_jurisdiction(user)
        open_to[user.email] = [pk for pk, audience in live if audience_includes(audience, code)]
        if not open_to[user.email]:
            raise BenchFailed(f"no live scenario open to {user.email}")
    certificate = (
        Certificate.objects.current()
        .filter(user__email__endswith=f"@{DEMO_DOMAIN}")
        .order_by("pk")
        .first()
    )
    if certificate is None:
        raise BenchFailed("no current certificate in the bench database")
    busiest = (
        Assignment.objects.filter(current=True, user__email__endswith="@synthetic.police.uk")
        .values("user")
        .annotate(n=Count("id"))
        .order_by("-n", "user")
        .first()
    )
    return {
        "emails": emails,
        "password": DEMO_PASSWORD,
        # The lesson as an officer reads it: past its content warning, if it has one (before
        # it, the page shows the warning alone).
        "lesson_path": urlsplit(lesson.get_url()).path
        + ("?warning=accepted" if lesson.content_warning() is not None else ""),
        "lesson_title": lesson.title,
        "course_path": urlsplit(course.get_url()).path,
        "scenarios": scenarios,
        "scenarios_open_to": open_to,
        "code": certificate.code,
        "admin": User.objects.get(email=f"admin@{DEMO_DOMAIN}"),
        "recruit": User.objects.get(email=emails[0]),
        "synthetic": User.objects.get(pk=busiest["user"]) if busiest else None,
        "synthetic_assignments": busiest["n"] if busiest else 0,
        "users": User.objects.count(),
    }


# ------------------------------------------------------------------------------ the server


def start_server(
    report: Report, procs: Processes, env: dict[str, str], port: int, tmp: Path
) -> subprocess.Popen:
    args = [
        str(BIN / "gunicorn"),
        "pathways.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--no-control-socket",  # gunicorn's default socket is one per user, not per app
    ]
    report.line(f"  gunicorn {' '.join(args[1:])}")
    log = tmp / "gunicorn.log"
    server = procs.start(args, env, log)
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            fail(report, f"gunicorn exited ({server.returncode})", log_tail(log))
        try:
            response = VirtualUser(port).get("/accounts/login/")
        except OSError:
            response = None
        if response is not None:
            if response.status != 200:
                fail(report, f"gunicorn answered {response.status}", log_tail(log))
            return server
        if time.monotonic() > deadline:
            fail(report, "gunicorn not serving after 60 s", log_tail(log))
        time.sleep(0.2)


def log_tail(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
    except OSError:
        return []


# ------------------------------------------------------------------------------ the load


def sign_in(port: int, email: str, password: str) -> VirtualUser:
    vu = VirtualUser(port, email)
    page = vu.get("/accounts/login/")
    form = {"csrfmiddlewaretoken": csrf_token(page), "login": email, "password": password}
    done = vu.post("/accounts/login/", form)
    if done.status != 302 or "sessionid" not in vu.cookies:
        raise LoadError(f"sign-in of {email} failed: HTTP {done.status}")
    return vu


def expect(status: int) -> Callable[[Response], tuple[Response, bool]]:
    return lambda response: (response, response.status == status)


class ScenarioPlayer:
    """One officer playing scenarios: start (or resume) an attempt, read the step's form, POST
    a random valid choice; the choose POST is the measured request. A finished attempt starts
    a new one. The step key, choices and CSRF token come from the page, as a browser's would."""

    def __init__(self, scenario_id: int, seed: int) -> None:
        self.scenario_id = scenario_id
        self.random = random.Random(seed)
        self.attempt: str | None = None
        self.form: tuple[str, str, list[str], str] | None = None
        self.token = ""

    def __call__(self, vu: VirtualUser) -> tuple[Response, bool]:
        try:
            action, step, choices, token = self._next_form(vu)
        except Exception:
            self.attempt = self.form = None
            raise
        self.form = None  # after a choice, the attempt page shows the next step
        response = vu.post(
            action,
            {"csrfmiddlewaretoken": token, "step": step, "choice": self.random.choice(choices)},
        )
        return response, response.status == 302 and response.location.endswith("/feedback/")

    def _next_form(self, vu: VirtualUser) -> tuple[str, str, list[str], str]:
        for _ in range(4):
            if self.form is not None:
                return self.form
            if self.attempt is None:
                token = self.token or vu.cookies.get("csrftoken", "")
                started = vu.post(
                    f"/scenarios/{self.scenario_id}/start/", {"csrfmiddlewaretoken": token}
                )
                if started.status != 302:
                    raise LoadError(f"start: HTTP {started.status}")
                self.attempt = urlsplit(started.location).path
            page = vu.get(self.attempt)
            if page.status != 200:
                raise LoadError(f"attempt page: HTTP {page.status}")
            step, action = STEP_RE.search(page.text), CHOOSE_RE.search(page.text)
            if step is None or action is None:  # the result page: the attempt has finished
                self.attempt = None
                continue
            self.token = csrf_token(page)
            choices = CHOICE_RE.findall(page.text)
            if not choices:
                raise LoadError("a step without choices")
            self.form = (action.group(1), step.group(1), choices, self.token)
        raise LoadError("no step to play after starting an attempt")


def http_phase(report: Report, port: int, data: dict, seconds: float) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        users = list(pool.map(lambda email: sign_in(port, email, data["password"]), data["emails"]))
    report.line(
        f"  signed in {len(users)} officers in {time.monotonic() - started:.1f} s "
        "(PBKDF2, production's hasher)"
    )
    code = data["code"]
    players = []
    for n, email in enumerate(data["emails"]):
        scenarios = data["scenarios_open_to"][email]
        players.append(ScenarioPlayer(scenarios[n % len(scenarios)], n))
    anonymous = [VirtualUser(port, f"public{n}") for n in range(len(users))]
    # The lesson page and the public verification page (one query: the floor of what a page
    # can cost here) are measured in turns, RATIO_ROUNDS times each for an equal share of the
    # time, so that other work on the host weighs on both alike and their ratio compares them
    # under the same conditions.
    lesson = (
        "lesson_page",
        users,
        lambda vu: expect(200)(vu.get(data["lesson_path"])),
        f"GET {data['lesson_path']} ({data['lesson_title']!r}), signed in",
    )
    verify = (
        "verify_page",
        anonymous,
        lambda vu: expect(200)(vu.get(f"/certificates/verify/{code}/")),
        "GET /certificates/verify/<code>/, anonymous (as HR or a court would)",
    )
    plan: list[tuple[str, list[VirtualUser], Callable, str]] = [
        (
            "my_learning",
            users,
            lambda vu: expect(200)(vu.get("/learning/")),
            "GET /learning/, signed in",
        ),
        (
            "scenario_choose_post",
            users,
            lambda vu: players[users.index(vu)](vu),
            "POST /scenarios/attempts/<id>/choose/ (each officer plays; the start POSTs and "
            "attempt-page GETs in between are not measured)",
        ),
    ]

    def measure(name: str, vus: list[VirtualUser], action: Callable, share: float) -> Result:
        """One load run of `share` of BENCH_SECONDS, with the load generator's own CPU time."""
        cpu = time.process_time()
        result = run_load(name, vus, action, seconds=seconds * share)
        result.client_cpu = time.process_time() - cpu
        return result

    def show(result: Result, what: str) -> None:
        report.line(f"  {result.name}: {what}")
        report.line(
            result.line()
            + f" client_cpu_cores={result.client_cpu / result.seconds:.2f}"
            + f" load_average={load_average()}"
        )
        for sample in result.error_samples:
            report.line(f"    error sample: {sample}")

    turns: dict[str, list[Result]] = {lesson[0]: [], verify[0]: []}
    for _ in range(RATIO_ROUNDS):
        for name, vus, action, _what in (lesson, verify):
            turns[name].append(measure(name, vus, action, 1 / RATIO_ROUNDS))
    merged = {name: Result.merge(results) for name, results in turns.items()}
    for name, _vus, _action, what in (lesson, verify):
        show(merged[name], f"{what} ({RATIO_ROUNDS} turns each, in alternation)")
    report.line(ratio_line(merged[lesson[0]].rps, merged[verify[0]].rps))
    for name, vus, action, what in plan:
        show(measure(name, vus, action, 1), what)
    for vu in users + anonymous:
        vu.close()


def ratio_line(lesson_rps: float, verify_rps: float) -> str:
    """The lesson page's throughput as a share of the verification page's (the aim: 0.40 or
    more), both measured in this run."""
    ratio = lesson_rps / verify_rps if verify_rps else float("nan")
    return (
        f"ratio lesson_to_verify={ratio:.2f} "
        f"(lesson {lesson_rps:.0f} req/s / verify {verify_rps:.0f} req/s; aim >= 0.40)"
    )


# ------------------------------------------------------------------------------ queries


def query_counts(report: Report, data: dict) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def measure(client: Client, method: str, path: str, form: dict | None = None):  # noqa: ANN202
        with CaptureQueriesContext(connection) as captured:
            response = (
                getattr(client, method)(path, form) if form else getattr(client, method)(path)
            )
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
        return response, len(captured)

    counts: dict[str, int] = {}

    def page(label: str, client: Client, path: str, repeat: int = 10) -> None:
        measure(client, "get", path)  # warm: per-process caches (site root, revisions)
        response, count = measure(client, "get", path)
        times = []
        for _ in range(repeat):  # one request at a time: the page's own cost, no queueing
            started = time.perf_counter()
            measure(client, "get", path)
            times.append((time.perf_counter() - started) * 1000)
        report.line(
            f"queries page={label} path={path} status={response.status_code} n={count} "
            f"in_process_median_ms={statistics.median(times):.1f}"
        )
        counts[label] = count

    recruit = Client()
    recruit.force_login(data["recruit"])
    page("lesson", recruit, data["lesson_path"])
    page("course", recruit, data["course_path"])
    page("my_learning", recruit, "/learning/")
    if data["synthetic"] is not None:
        synthetic = Client()
        synthetic.force_login(data["synthetic"])
        page(
            f"my_learning_synthetic_officer({data['synthetic_assignments']}_assignments)",
            synthetic,
            "/learning/",
        )

    # A scenario: the step page, then one choice (warm on a first choice, count the second).
    scenario = data["scenarios_open_to"][data["recruit"].email][0]
    counted = None
    for _ in range(6):
        started = recruit.post(f"/scenarios/{scenario}/start/")
        attempt = started["Location"]
        response, step_count = measure(recruit, "get", attempt)
        text = response.content.decode()
        step, choices = STEP_RE.search(text), CHOICE_RE.findall(text)
        if step is None:
            continue
        chosen, count = measure(
            recruit, "post", f"{attempt}choose/", {"step": step.group(1), "choice": choices[0]}
        )
        if counted is not None:
            counted = (attempt, step_count, chosen.status_code, count)
            break
        counted = (attempt, step_count, chosen.status_code, count)
    if counted:
        attempt, step_count, status, count = counted
        report.line(f"queries page=scenario_step path={attempt} status=200 n={step_count}")
        report.line(
            f"queries page=scenario_choose_post path={attempt}choose/ status={status} n={count}"
        )
        counts["scenario_choose_post"] = count
    page("verify", Client(), f"/certificates/verify/{data['code']}/")
    summary = " ".join(
        f"{label}={counts.get(label, '?')}"
        for label in ("lesson", "course", "my_learning", "scenario_choose_post", "verify")
    )
    report.line(
        f"queries summary {summary} (bounds asserted by tests/courses/test_queries.py: "
        "lesson<=12 course<=12 my_learning<=12 scenario_choose_post<=10)"
    )
    admin = Client()
    admin.force_login(data["admin"])
    page(f"matrix_all_forces({data['users']}_users)", admin, MATRIX_URL)


# ------------------------------------------------------------------------------ main


def main() -> int:
    seconds = float(env_int("BENCH_SECONDS", 15))
    users = max(1, min(env_int("BENCH_USERS", 16), MAX_USERS))
    sizes = env_sizes()
    pdfs = env_int("BENCH_CERTIFICATES", 200)
    database_url, matrix_url, name = database_urls()

    report = Report(RESULTS)
    procs = Processes()

    def terminate(signum: int, frame: object) -> None:  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    status = 1
    try:
        report.line(f"pathways bench {datetime.now().astimezone().isoformat(timespec='seconds')}")
        try:
            for text in machine_lines(database_url):
                report.line(text)
        except Exception as exc:  # noqa: BLE001
            raise BenchFailed(
                f"cannot reach PostgreSQL at {database_url} ({exc}); `make bench` needs it"
            ) from exc
        report.line(
            f"settings users={users} seconds_per_scenario={seconds:g} "
            f"officers={env_int('BENCH_OFFICERS', 1000)} matrix_sizes={sizes} "
            f"certificates={pdfs} database={name}"
        )
        with tempfile.TemporaryDirectory(prefix="pathways-bench-") as tmp_name:
            tmp = Path(tmp_name)
            (tmp / "media").mkdir()
            port = free_port()
            setup_env = server_env(database_url, tmp, port, immediate=True)
            set_up_database(report, procs, database_url, setup_env)

            report.step("fixtures (in process)")
            django_setup(database_url)
            data = fixtures(users)
            from django.db import connections

            connections.close_all()
            report.line(
                f"  users_in_database={data['users']} lesson={data['lesson_path']} "
                f"scenarios={data['scenarios']}"
            )

            report.step(f"gunicorn on {HOST}:{port} with production settings")
            procs.run(
                report, "collectstatic", [str(BIN / "python"), "-c", COLLECTSTATIC], setup_env, 300
            )
            env = server_env(database_url, tmp, port, immediate=False)
            report.line(
                f"  cache={'redis' if 'REDIS_URL' in env else 'local memory'} "
                f"DATABASE_CONN_MAX_AGE=60 PATHWAYS_VERIFY_RATE_PER_MINUTE=1000000 "
                f"X-Forwarded-Proto=https"
            )
            server = start_server(report, procs, env, port, tmp)
            try:
                report.step(f"HTTP load: {users} virtual users, {seconds:g} s per scenario")
                http_phase(report, port, data, seconds)
            finally:
                procs.stop(server)
                log = (tmp / "gunicorn.log").read_text(encoding="utf-8", errors="replace")
                report.line(
                    f"  gunicorn log: tracebacks={log.count('Traceback')} "
                    f"worker_timeouts={log.count('WORKER TIMEOUT')}"
                )

            report.step("SQL queries per page (in process, Django test client, same database)")
            query_counts(report, data)
            connections.close_all()

        if pdfs > 0:
            report.step(f"certificate PDFs: bench/certificates.py --count {pdfs}")
            procs.run(
                report,
                "bench/certificates.py",
                [str(BIN / "python"), str(BENCH_DIR / "certificates.py"), "--count", str(pdfs)],
                {**os.environ, "DJANGO_SETTINGS_MODULE": "pathways.settings_test"},
                1200,
            )
        matrix = BENCH_DIR / "matrix.py"
        if sizes and matrix.exists():
            report.step(f"completion matrix: bench/matrix.py --sizes {','.join(map(str, sizes))}")
            procs.run(
                report,
                "bench/matrix.py",
                [str(BIN / "python"), str(matrix), "--sizes", ",".join(map(str, sizes))],
                {**os.environ, "DATABASE_URL": matrix_url},
                env_int("BENCH_MATRIX_TIMEOUT", 4 * 3600),
            )
            if os.environ.get("BENCH_KEEP_MATRIX", "") != "1":
                drop_database(matrix_url)
                report.line(f"  dropped {name}_matrix (BENCH_KEEP_MATRIX=1 keeps it)")
        elif not matrix.exists():
            report.line("== completion matrix: skipped (bench/matrix.py not present)")
        import_rows = env_int("BENCH_IMPORT_ROWS", 16000)
        if import_rows > 0:
            report.step(f"officer import: bench/import_rate.py --rows {import_rows}")
            import_url = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}_import"))
            procs.run(
                report,
                "bench/import_rate.py",
                [
                    str(BIN / "python"),
                    str(BENCH_DIR / "import_rate.py"),
                    "--rows",
                    str(import_rows),
                ],
                {**os.environ, "DATABASE_URL": import_url},
                1800,
            )
        report.step(f"done; load_average_after={load_average()}; results in {RESULTS}")
        status = 0
    except BenchFailed as exc:
        report.line(f"FAILED: {exc}")
    except KeyboardInterrupt:
        report.line("INTERRUPTED")
        status = 130
    finally:
        procs.stop_all()
        report.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
