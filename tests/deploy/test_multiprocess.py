"""The production shape on one machine: two gunicorn app servers and one task worker that
share the test's PostgreSQL database, configured only through environment variables as
docs/deployment.md describes.

Sign-in and progress made through one app process are seen through the other; a certificate's
PDF is rendered by the task worker (never by a web process) and then downloads, byte for byte
the same, through both. Requests carry `X-Forwarded-Proto: https` as the TLS-terminating
proxy would, so the production HTTPS settings (SSL redirect, Secure cookies) stay on.

Needs PostgreSQL: the processes must share one database, which SQLite's test database is not.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv running pytest: .venv/bin under make test
HOST = "127.0.0.1"
SECRET_KEY = "deploy-test-secret-key-3f9c1a7e5b2d4c6e8a0f1b3d5e7c9a2b4d6f8e0a1c3e5b7d"
WORKER_ID = f"deploy-test-{uuid.uuid4().hex[:12]}"
RECRUIT = "recruit@demo.police.uk"
MAIN_COURSE = "The public-health approach to policing"
REFRESHER = "Naloxone refresher"
BOOT_SECONDS = 45  # an app server answering its first request
PDF_SECONDS = 60  # the worker rendering the certificate once it has started

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=(
        "needs PostgreSQL (DATABASE_URL=postgres://...): the app servers and the task worker "
        "are separate processes that must share the test database"
    ),
)


# ------------------------------------------------------------------------------ processes


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Deployment:
    """Processes started for one test; `stop` ends every one of them (and only them)."""

    tmp: Path
    env: dict[str, str]
    media_root: Path
    ports: tuple[int, int]
    services: list[Service] = field(default_factory=list)

    def spawn(self, name: str, args: list[str]) -> Service:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: gunicorn's workers go with it
            )
        service = Service(name, process, log)
        self.services.append(service)
        return service

    def run(self, name: str, args: list[str], timeout: float) -> None:
        service = self.spawn(name, args)
        try:
            code = service.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill(service)
            pytest.fail(f"{name} took longer than {timeout:.0f} s\n{service.tail()}")
        assert code == 0, f"{name} failed with exit code {code}\n{service.tail()}"

    def start_web(self, name: str, port: int) -> Service:
        return self.spawn(
            name,
            [
                str(BIN / "gunicorn"),
                "pathways.wsgi",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                "1",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--access-logfile",
                "-",
                "--no-control-socket",  # gunicorn's default socket is one per user, not per app
            ],
        )

    def start_worker(self) -> Service:
        return self.spawn(
            "worker",
            [
                str(BIN / "python"),
                "manage.py",
                "db_worker",
                "--interval",
                "0.2",
                "--no-startup-delay",
                "--no-reload",
                "--worker-id",
                WORKER_ID,
            ],
        )

    def assert_running(self) -> None:
        for service in self.services:
            if service.name.startswith(("web", "worker")):
                code = service.process.poll()
                assert code is None, f"{service.name} exited with code {code}\n{service.tail()}"

    def wait_until_serving(self, service: Service, port: int) -> None:
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            self.assert_running()
            try:
                response = Browser().get(port, "/accounts/login/", timeout=5)
            except OSError:
                response = None
            if response is not None:
                assert response.status == 200, f"{service.name}: {response.status}\n" + (
                    service.tail()
                )
                return
            if time.monotonic() > deadline:
                pytest.fail(f"{service.name} not serving after {BOOT_SECONDS} s\n{service.tail()}")
            time.sleep(0.2)

    def _kill(self, service: Service) -> None:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait(timeout=10)

    def stop(self) -> None:
        for service in self.services:
            if service.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for service in self.services:
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill(service)

    def report(self) -> str:
        return "\n".join(f"----- {s.name} (last lines)\n{s.tail()}" for s in self.services)


# ------------------------------------------------------------------------------ HTTP


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Browser:
    """One officer's browser as the app sees it behind the TLS proxy: every request says
    `X-Forwarded-Proto: https`, and Secure cookies are kept and sent back (the proxy speaks
    HTTPS to the browser; only the last hop to gunicorn is plain HTTP)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(
        self,
        port: int,
        method: str,
        path: str,
        form: dict[str, str] | list[tuple[str, str]] | None = None,
        *,
        proxied: bool = True,
        timeout: float = 30,
    ) -> Response:
        origin = f"https://{HOST}:{port}"
        headers = {"Host": f"{HOST}:{port}", "User-Agent": "pathways-deploy-test"}
        if proxied:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = origin
            headers["Referer"] = origin + path
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value in ("", '""') or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, port: int, path: str, *, proxied: bool = True, timeout: float = 30) -> Response:
        return self.request(port, "GET", path, proxied=proxied, timeout=timeout)

    def post(self, port: int, path: str, form: dict[str, str] | list[tuple[str, str]]) -> Response:
        return self.request(port, "POST", path, form)


def form_token(response: Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
    assert match, f"no CSRF token in the page ({response.status})"
    return match.group(1)


def pass_scenario(officer: Browser, port: int, page: Response, lesson_id: int, pk: int) -> None:
    """Start the lesson's scenario from its page and play a passing route (by choice id)."""
    from scenarios.models import Scenario
    from tests.browser.paths import route_with

    started = officer.post(
        port,
        f"/scenarios/{pk}/start/",
        {"csrfmiddlewaretoken": form_token(page), "lesson": str(lesson_id)},
    )
    assert started.status == 302, started.text[:3000]
    attempt = urlsplit(started.headers["Location"]).path
    played = Scenario.objects.get(pk=pk).live_revision.as_object().to_engine()
    for step, choice in route_with(played, passed=True):
        shown = officer.get(port, attempt)
        chosen = officer.post(
            port,
            f"{attempt}choose/",
            {"csrfmiddlewaretoken": form_token(shown), "step": step, "choice": choice},
        )
        assert chosen.status in (200, 302), chosen.text[:3000]
    assert "Passed" in officer.get(port, attempt).text


def complete_lesson(officer: Browser, port: int, lesson_id: int) -> None:
    """Open the lesson page (past any content warning), pass its scenarios, answer each of its
    check questions rightly, as "Mark as complete" needs, and press "Mark as complete"."""
    from courses.models import LessonPage

    lesson = LessonPage.objects.get(pk=lesson_id)
    path = urlsplit(lesson.get_url()).path
    if lesson.content_warning() is not None:
        path += "?warning=accepted"
    page = officer.get(port, path)
    assert page.status == 200, page.text[:3000]
    if lesson.scenario_ids:
        for pk in lesson.scenario_ids:
            pass_scenario(officer, port, page, lesson_id, pk)
        page = officer.get(port, path)
    for block in lesson.body:
        if block.block_type != "question":
            continue
        right = [o.id for o in block.value["options"].bound_blocks if o.value["correct"]]
        checked = officer.post(
            port,
            f"/learning/lessons/{lesson_id}/check/",
            [("csrfmiddlewaretoken", form_token(page)), ("question", block.id)]
            + [("chosen", option) for option in right],
        )
        assert checked.status == 302, checked.text[:3000]
        back = urlsplit(checked.headers["Location"])
        page = officer.get(port, back.path + (f"?{back.query}" if back.query else ""))
        assert "Well done" in page.text, page.text[:3000]
    assert f'action="/learning/lessons/{lesson_id}/complete/"' in page.text, page.text[:3000]
    done = officer.post(
        port, f"/learning/lessons/{lesson_id}/complete/", {"csrfmiddlewaretoken": form_token(page)}
    )
    assert done.status == 302, done.text[:3000]
    # Not sent back to the lesson with what is missing: on to the next one, or the course.
    assert urlsplit(done.headers["Location"]).path != urlsplit(path).path, done.headers


# ------------------------------------------------------------------------------ set-up


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def redis_reachable() -> bool:
    try:
        with socket.create_connection((HOST, 6379), timeout=0.5):
            return True
    except OSError:
        return False


def shared_database_url() -> str:
    """The database pytest-django created for this run, as a DATABASE_URL."""
    db = django_settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = quote(db.get("HOST") or HOST, safe="")
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(db['NAME'], safe='')}"


def subprocess_env(tmp: Path, ports: tuple[int, int]) -> dict[str, str]:
    """Production settings (DEBUG off, HTTPS on) with this test's database and directories."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PATHWAYS_", "AWS_", "EMAIL_"))
        and k not in {"DATABASE_URL", "DATABASE_CONN_MAX_AGE", "REDIS_URL", "CACHE_KEY_PREFIX"}
    }
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "pathways.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "DATABASE_URL": shared_database_url(),
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_MEDIA_ROOT": str(tmp / "media"),
        "PATHWAYS_TASKS_IMMEDIATE": "0",  # the database backend: the worker renders PDFs
        "PATHWAYS_REQUIRE_STAFF_MFA": "0",
        "PATHWAYS_BASE_URL": f"https://{HOST}:{ports[0]}",
        "PYTHONUNBUFFERED": "1",
    }
    if redis_reachable():  # rate limits shared by both app servers, as in production
        env["REDIS_URL"] = f"redis://{HOST}:6379/15"
        env["CACHE_KEY_PREFIX"] = f"pathways-deploy-test-{uuid.uuid4().hex[:8]}"
    return env


def production_password(email: str) -> None:
    """The test settings hash passwords with MD5 for speed, which production settings do not
    accept: store the demo password with Django's default hasher for the one account used."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from officers.models import User
    from pathways.demo import DEMO_PASSWORD

    hasher = PBKDF2PasswordHasher()
    User.objects.filter(email=email).update(password=hasher.encode(DEMO_PASSWORD, hasher.salt()))


# Static files: with DEBUG off every `{% static %}` needs the manifest that collectstatic
# writes. Django's ManifestStaticFilesStorage writes the same manifest as WhiteNoise's
# compressed variant in a fraction of the time (it skips the gzip pass, which is not what
# this test is about); the app servers then run with the real production storage.
COLLECTSTATIC = """
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings
storages = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
with override_settings(STORAGES=storages):
    call_command("collectstatic", interactive=False, verbosity=1)
"""


@pytest.fixture
def deployment(transactional_db, settings, tmp_path: Path) -> Iterator[Deployment]:  # noqa: ANN001
    from pathways.demo import load_demo

    ports = (free_port(), free_port())
    while ports[1] == ports[0]:
        ports = (ports[0], free_port())
    media_root = tmp_path / "media"
    media_root.mkdir()
    # This process renders the demo's own certificates (its tasks run immediately under the
    # test settings): keep those files in the test's directory too.
    settings.MEDIA_ROOT = str(media_root)
    deployment = Deployment(tmp_path, subprocess_env(tmp_path, ports), media_root, ports)
    try:
        collect = deployment.spawn("collectstatic", [str(BIN / "python"), "-c", COLLECTSTATIC])
        load_demo()  # committed (transactional test), so every process sees it
        production_password(RECRUIT)
        try:
            code = collect.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"collectstatic took over 120 s\n{collect.tail()}")
        assert code == 0, f"collectstatic failed\n{collect.tail()}"
        assert (tmp_path / "static" / "staticfiles.json").exists()

        web = [deployment.start_web(f"web-{n}", port) for n, port in zip("AB", ports, strict=True)]
        for service, port in zip(web, ports, strict=True):
            deployment.wait_until_serving(service, port)
        yield deployment
    finally:
        deployment.stop()
        # Shown by pytest only when the test fails.
        print(deployment.report())


# ------------------------------------------------------------------------------ the test


@pytest.mark.django_db(transaction=True)
def test_two_app_servers_and_a_worker_share_one_database(deployment: Deployment) -> None:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from certificates.models import Certificate
    from courses.models import CoursePage
    from courses.selectors import course_outline
    from officers.models import User
    from officers.selectors import officer_jurisdiction
    from pathways.demo import DEMO_PASSWORD

    a, b = deployment.ports
    anonymous = Browser()

    # Without the proxy's header, production settings send everyone to HTTPS.
    plain = anonymous.get(a, "/accounts/login/", proxied=False)
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://{HOST}:{a}/accounts/login/"
    # gunicorn.conf.py: the Server header names neither gunicorn nor a version.
    assert plain.headers["Server"] == "Pathways"

    # WhiteNoise serves the collected, hashed static files with DEBUG off.
    login_page = anonymous.get(b, "/accounts/login/")
    stylesheet = re.search(r'href="(/static/css/pathways\.[0-9a-f]+\.css)"', login_page.text)
    assert stylesheet, "the stylesheet link is not a hashed (manifest) URL"
    css = anonymous.get(b, stylesheet.group(1))
    assert css.status == 200
    assert css.headers["Content-Type"].startswith("text/css") and css.body

    # 1. Sign in through A.
    officer = Browser()
    page = officer.get(a, "/accounts/login/")
    assert page.status == 200
    signed_in = officer.post(
        a,
        "/accounts/login/",
        {"csrfmiddlewaretoken": form_token(page), "login": RECRUIT, "password": DEMO_PASSWORD},
    )
    assert signed_in.status == 302, signed_in.text[:3000]
    assert "sessionid" in officer.cookies

    # 2. Progress made through A is seen through B (sessions and progress live in the DB).
    main = CoursePage.objects.live().get(title=MAIN_COURSE)
    # The recruit's own outline: their force's jurisdiction decides what they must complete.
    jurisdiction = officer_jurisdiction(User.objects.get(email=RECRUIT))
    outline = course_outline(main, jurisdiction=jurisdiction)
    first = next(ref for ref in outline.lessons if not ref.scenario_ids)
    complete_lesson(officer, a, first.id)
    learning = officer.get(b, "/learning/")
    assert learning.status == 200
    assert f"1 of {len(outline.lessons)} lessons done" in learning.text

    # 3. Complete the refresher, alternating between the app servers.
    refresher = CoursePage.objects.live().get(title=REFRESHER)
    lessons = course_outline(refresher, jurisdiction=jurisdiction).lessons
    assert len(lessons) >= 3
    for number, ref in enumerate(lessons):
        complete_lesson(officer, (a, b)[number % 2], ref.id)

    # The certificate is issued and its PDF queued in the database, not rendered in the web
    # process (PATHWAYS_TASKS_IMMEDIATE=0) -- and no worker is running yet.
    certificate = Certificate.objects.get(user__email=RECRUIT, course=refresher)
    assert not certificate.pdf

    def render_tasks() -> list[DBTaskResult]:
        return [
            task
            for task in DBTaskResult.objects.filter(
                task_path="certificates.tasks.render_certificate"
            )
            if task.args_kwargs.get("args") == [certificate.pk]
        ]

    assert [t.status for t in render_tasks()] == [TaskResultStatus.READY]

    download = f"/certificates/{certificate.pk}/download/"
    for port in (a, b):
        waiting = officer.get(port, download)
        assert waiting.status == 202, waiting.text[:3000]
        assert "being prepared" in waiting.text
    assert len(render_tasks()) == 1, "asking again within a minute must not queue it twice"

    # 4. The worker picks the task from the shared database and renders the PDF.
    deployment.start_worker()
    deadline = time.monotonic() + PDF_SECONDS
    while True:
        deployment.assert_running()
        response = officer.get(a, download)
        if response.status == 200:
            break
        assert response.status == 202, response.text[:3000]
        if time.monotonic() > deadline:
            pytest.fail(f"no PDF {PDF_SECONDS} s after the worker started")
        time.sleep(0.25)

    assert response.headers["Content-Type"] == "application/pdf"
    assert f"{certificate.number}.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.body.startswith(b"%PDF")
    again = officer.get(b, download)
    assert again.status == 200
    assert again.headers["Content-Type"] == "application/pdf"
    assert again.body == response.body

    (task,) = render_tasks()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert task.worker_ids == [WORKER_ID]
    certificate.refresh_from_db()
    assert certificate.pdf.name.startswith("certificates/")
    assert (deployment.media_root / certificate.pdf.name).read_bytes() == response.body
