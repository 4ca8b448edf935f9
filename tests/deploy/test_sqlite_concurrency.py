"""`make run` with a small team at work: a lead, an author and three learners clicking at once.

The embedded default (SQLite, `manage.py runserver`, DEBUG on) is for "one machine and a handful
of people at once" (README). This test sets the site up exactly as `make run` does, in a
temporary directory (a fresh SQLite file, `migrate`, `seed_demo`, then `runserver`), and has
five people use it through HTTP for PATHWAYS_LOAD_SECONDS (default 300: five minutes), each in
a thread with their own cookies and a short think time between clicks:

- the training lead reads the admin home, the completion matrix and its drill-down, a
  transcript, the overdue and expiring lists, exports the matrix as CSV, and now and then
  assigns a course to a unit and imports a small officers CSV;
- the author browses the pages explorer, opens lessons and scenarios in the editor (the
  browser's editing-session pings, autosaves and "Save draft" as Wagtail's JavaScript sends
  them) and imports scenarios;
- three learners work through their courses: My learning, a course, lessons (each check
  question answered until it is right), scenarios played to the end (the best choice shown at
  each step, whatever order the attempt shows them in), "Mark as complete", the demo course's
  final assessment (passed, so the course completes and a certificate is issued), their
  certificates' verification pages.

It fails on any 5xx, on any page saying "database is locked" or "OperationalError", on a
traceback in runserver's log, and if anything that was saved is not in the database at the end.
`-s` shows a summary (requests per person, by status, latency).

SQLite only: CI also runs the suite on PostgreSQL, where this test has nothing to say.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable  # .venv/bin/python under `make test`, as `make run` uses
HOST = "127.0.0.1"
PASSWORD = "pathways-demo-2026"  # README, "Demo accounts"
LEAD = "lead@demo.police.uk"
AUTHOR = "author@demo.police.uk"
LEARNERS = (
    "recruit@demo.police.uk",
    "officer@demo.police.uk",
    "kirsty.stewart@demo.police.uk",  # site/demo.py: a demo officer in North / Highland
)
DEMO_FORCE = "Demo Police Service"
IMPORT_UNIT = "North/Tayside/Dundee Response"  # led by the demo lead
THINK_SECONDS = (0.2, 1.0)
REQUEST_TIMEOUT = 90  # seconds; longer than SQLite's 20-second busy timeout
MAX_REQUESTS_PER_PERSON = 4000
MAX_REDIRECTS = 10
SETUP_TIMEOUT = 900  # migrate or seed_demo on a slow disk
BOOT_TIMEOUT = 180  # runserver's system checks before it answers
LOCK_TEXTS = ("database is locked", "OperationalError")
SAVES = {  # the actions that write, one of which each person must have done
    "import officers",
    "assign a course",
    "save a lesson draft",
    "save a scenario draft",
    "import a scenario",
    "complete a lesson",
    "pass a scenario",
    "answer a check question",
    "pass the final assessment",
}
RUN = uuid.uuid4().hex[:6]  # makes this run's imported officers and titles unique
SCENARIO_FILES = ROOT / "scenarios" / "demo"  # the demo's scenarios, as seed_demo loads them
DEMO_COURSE = ROOT / "courses" / "demo_content" / "public_health_approach"  # with its bank


def load_seconds() -> float:
    raw = os.environ.get("PATHWAYS_LOAD_SECONDS", "").strip()
    return float(raw) if raw else 300.0


def on_sqlite() -> bool:
    url = os.environ.get("DATABASE_URL", "").strip()
    return not url or url.lower().startswith("sqlite")


pytestmark = pytest.mark.skipif(
    not on_sqlite(),
    reason="about the embedded default: runs only when the suite runs on SQLite",
)


# ------------------------------------------------------------------------------ the record


@dataclass
class Hit:
    person: str
    method: str
    path: str
    status: int  # 0: no response (refused, reset, timed out)
    seconds: float


@dataclass
class Expected:
    """What the people saved, to be found in the database afterwards."""

    completions: Counter[str] = field(default_factory=Counter)  # email: lessons completed
    passes: Counter[str] = field(default_factory=Counter)  # email: scenarios passed
    checks: Counter[str] = field(default_factory=Counter)  # email: check answers recorded
    assessments: Counter[str] = field(default_factory=Counter)  # email: assessments passed
    courses: Counter[str] = field(default_factory=Counter)  # email: courses completed
    officers_imported: list[str] = field(default_factory=list)
    assignments: int = 0
    exports: int = 0
    lesson_drafts: dict[int, str] = field(default_factory=dict)  # page id: draft title
    scenario_drafts: dict[int, str] = field(default_factory=dict)  # scenario id: title
    scenarios_imported: dict[int, str] = field(default_factory=dict)
    actions: Counter[str] = field(default_factory=Counter)  # person/action: times done


class Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: list[Hit] = []
        self.problems: list[str] = []
        self.expected = Expected()

    def hit(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def problem(self, person: str, text: str) -> None:
        with self.lock:
            self.problems.append(f"[{person}] {text}")

    def did(self, person: str, action: str) -> None:
        with self.lock:
            self.expected.actions[f"{person}: {action}"] += 1


class OutOfBudget(Exception):
    """The person's time or request budget is used up."""


# ------------------------------------------------------------------------------ HTTP


@dataclass
class Response:
    method: str
    path: str  # the final path (and query), after redirects
    status: int
    headers: Message
    body: bytes
    history: list[int] = field(default_factory=list)  # statuses of the redirects followed

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "") if self.headers else ""

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")


class Browser:
    """One person's browser: a cookie jar, redirects followed as a browser does, the admin's
    icon sprite and translations fetched with each admin page, static files fetched once.
    Every response (redirects and sub-resources included) goes into the record."""

    def __init__(self, person: str, port: int, record: Record, deadline: float) -> None:
        self.person = person
        self.port = port
        self.record = record
        self.deadline = deadline
        self.cookies: dict[str, str] = {}
        self.cached: set[str] = set()
        self.count = 0

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _once(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Response:
        if self.count >= MAX_REQUESTS_PER_PERSON:
            raise OutOfBudget
        self.count += 1
        sent = {"Host": f"{HOST}:{self.port}", "User-Agent": "pathways-load-test"}
        sent["Connection"] = "close"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers)
        started = time.monotonic()
        conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            response = Response(method, path, raw.status, raw.headers, raw.read())
        except (OSError, http.client.HTTPException) as exc:
            elapsed = time.monotonic() - started
            self.record.hit(Hit(self.person, method, path, 0, elapsed))
            self.record.problem(self.person, f"{method} {path}: no response ({exc!r})")
            response = Response(method, path, 0, Message(), b"")
            return response
        finally:
            conn.close()
        elapsed = time.monotonic() - started
        self.record.hit(Hit(self.person, method, path, response.status, elapsed))
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value in ("", '""') or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self._check(response)
        return response

    def _check(self, response: Response) -> None:
        """A 5xx, or a page that says the database was locked, is a problem."""
        where = f"{response.method} {response.path}"
        textual = response.content_type.startswith(("text/", "application/json"))
        text = response.text if textual and not response.path.startswith("/static/") else ""
        locked = [needle for needle in LOCK_TEXTS if needle in text]
        if response.status < 500 and not locked:
            return
        # Django's debug page: "<title>OperationalError at /path</title>" and the message.
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        value = re.search(r'<pre class="exception_value">(.*?)</pre>', text, re.S)
        if value:
            found = (html.unescape(m.group(1)) for m in (title, value) if m)
            detail = " ".join(" ".join(part.split()) for part in found)
        elif locked:
            at = text.index(locked[0])
            detail = " ".join(
                html.unescape(re.sub(r"<[^>]+>", " ", text[at - 200 : at + 200])).split()
            )
        else:
            detail = text[:300]
        self.record.problem(self.person, f"{where}: {response.status}: {detail}")

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | list[tuple[str, str]] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
        assets: bool = True,
    ) -> Response:
        extra = dict(headers or {})
        body = None
        if method == "POST":
            extra.setdefault("Origin", self.origin)
            extra.setdefault("Referer", self.origin + path)
            if files:
                body, extra["Content-Type"] = multipart(form or [], files)
            else:
                body = urlencode(form or [], doseq=True).encode()
                extra["Content-Type"] = "application/x-www-form-urlencoded"
        history: list[int] = []
        response = self._once(method, path, body, extra)
        while response.status in (301, 302, 303, 307, 308) and len(history) < MAX_REDIRECTS:
            history.append(response.status)
            target = urlsplit(response.headers.get("Location", ""))
            if target.netloc and target.netloc != f"{HOST}:{self.port}":
                self.record.problem(self.person, f"{method} {path}: redirected off-site")
                break
            path = target.path + (f"?{target.query}" if target.query else "")
            if response.status in (307, 308):
                response = self._once(method, path, body, extra)
            else:
                method, body = "GET", None
                extra = {k: v for k, v in (headers or {}).items() if k != "Content-Type"}
                response = self._once("GET", path, None, extra)
        response.history = history
        if assets and response.status == 200 and response.is_html:
            self._assets(response)
        return response

    def _assets(self, page: Response) -> None:
        text = page.text
        found = re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', text)
        found += re.findall(r'<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"', text)
        found += re.findall(r'\bdata-icon-url="([^"]+)"', text)  # the admin's icon sprite
        for url in dict.fromkeys(html.unescape(u) for u in found):
            if not url.startswith("/") or url.startswith("//"):
                continue
            static = url.startswith(("/static/", "/media/"))
            if static and url in self.cached:
                continue  # the browser's cache
            self._once("GET", url, None, {})
            if static:
                self.cached.add(url)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: Any = None, **kwargs: Any) -> Response:
        return self.request("POST", path, form=form, **kwargs)

    def think(self) -> None:
        if time.monotonic() > self.deadline + 60:  # an action overran by a minute: stop
            raise OutOfBudget
        time.sleep(random.uniform(*THINK_SECONDS))

    def sign_in(self, email: str) -> None:
        for _attempt in range(3):
            page = self.get("/accounts/login/")
            if page.status == 200:
                done = self.post(
                    "/accounts/login/",
                    {"csrfmiddlewaretoken": csrf(page), "login": email, "password": PASSWORD},
                )
                if done.history and not done.path.startswith("/accounts/"):
                    return
            self.think()
        raise AssertionError(f"{email} could not sign in")

    def csrf_header(self) -> dict[str, str]:
        return {"X-CSRFToken": self.cookies.get("csrftoken", "")}


def multipart(
    fields: dict[str, str] | list[tuple[str, str]], files: dict[str, tuple[str, bytes, str]]
) -> tuple[bytes, str]:
    boundary = f"----pathways{uuid.uuid4().hex}"
    items = fields.items() if isinstance(fields, dict) else fields
    parts: list[bytes] = []
    for name, value in items:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, content, kind) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def csrf(page: Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if not match:
        raise AssertionError(f"no CSRF token on {page.path} ({page.status})")
    return match.group(1)


# ------------------------------------------------------------------------------ forms


@dataclass
class Form:
    attrs: dict[str, str]
    fields: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)  # select name: option values
    streams: list[dict[str, str]] = field(default_factory=list)  # StreamField widgets


class FormParser(HTMLParser):
    """The forms of a page and what a browser would submit from each (before JavaScript)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.textarea: tuple[str, list[str]] | None = None
        self.select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.current = Form(a)
            self.forms.append(self.current)
            return
        if self.current is None:
            return
        name = a.get("name")
        if tag == "div" and "w-block" in a.get("data-controller", "").split():
            self.current.streams.append(a)
        elif tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self.current.fields.append((name, a.get("value", default)))
        elif tag == "textarea" and name:
            self.textarea = (name, [])
        elif tag == "select" and name:
            self.select = {"name": name, "values": [], "selected": []}
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            self.select["values"].append(value)
            if "selected" in a:
                self.select["selected"].append(value)

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.current is None:
            return
        if tag == "textarea" and self.textarea is not None:
            text = "".join(self.textarea[1])
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            self.current.fields.append((self.textarea[0], text))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            name, values, chosen = (
                self.select["name"],
                self.select["values"],
                self.select["selected"],
            )
            self.current.options[name] = values
            for value in chosen or values[:1]:
                self.current.fields.append((name, value))
            self.select = None
        elif tag == "form":
            self.current = None


def forms_of(page: Response) -> list[Form]:
    parser = FormParser()
    parser.feed(page.text)
    return parser.forms


def form_with_action(page: Response, action: str) -> Form:
    """The form posting to `action`, or else the only form posting to its own page."""
    posting = [f for f in forms_of(page) if f.attrs.get("method", "get").lower() == "post"]
    for form in posting:
        if form.attrs.get("action") == action:
            return form
    own = [f for f in posting if not f.attrs.get("action") and not f.attrs.get("class")]
    if len(own) == 1:
        return own[0]
    raise AssertionError(f"no form posting to {action} on {page.path}")


class Telepath:
    """Wagtail packs a StreamField's block definitions with telepath: shared objects appear
    once with an `_id` and are referred to later as `{"_ref": id}`."""

    def __init__(self, packed: Any) -> None:
        self.ids: dict[int, Any] = {}
        self._collect(packed)

    def _collect(self, node: Any) -> None:
        if isinstance(node, dict):
            if "_id" in node:
                self.ids[node["_id"]] = node
            for value in node.values():
                self._collect(value)
        elif isinstance(node, list):
            for value in node:
                self._collect(value)

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "_ref" in node:
            node = self.ids[node["_ref"]]
        return node


def stream_form_data(name: str, packed_definition: Any, value: Any) -> list[tuple[str, str]]:
    """The fields Wagtail's StreamField JavaScript submits for `value` (the widget's state, as
    the page gives it): `body-count`, `body-0-type`, `body-0-value-...` and so on."""
    telepath = Telepath(packed_definition)
    out: list[tuple[str, str]] = []

    def walk(prefix: str, definition: Any, state: Any) -> None:
        definition = telepath.resolve(definition)
        kind, args = definition["_type"], definition["_args"]
        if kind == "wagtail.blocks.StreamBlock":
            children = {}
            for _group, defs in args[1]:
                for child in defs:
                    child = telepath.resolve(child)
                    children[child["_args"][0]] = child
            items = state or []
            out.append((f"{prefix}-count", str(len(items))))
            for i, item in enumerate(items):
                out.extend(
                    [
                        (f"{prefix}-{i}-type", item["type"]),
                        (f"{prefix}-{i}-deleted", ""),
                        (f"{prefix}-{i}-order", str(i)),
                        (f"{prefix}-{i}-id", item.get("id") or ""),
                    ]
                )
                walk(f"{prefix}-{i}-value", children[item["type"]], item["value"])
        elif kind == "wagtail.blocks.StructBlock":
            for child in args[1]:
                child = telepath.resolve(child)
                child_name = child["_args"][0]
                walk(f"{prefix}-{child_name}", child, (state or {}).get(child_name))
        elif kind == "wagtail.blocks.ListBlock":
            items = state or []
            out.append((f"{prefix}-count", str(len(items))))
            for i, item in enumerate(items):
                out.extend(
                    [
                        (f"{prefix}-{i}-deleted", ""),
                        (f"{prefix}-{i}-order", str(i)),
                        (f"{prefix}-{i}-id", item.get("id") or ""),
                    ]
                )
                walk(f"{prefix}-{i}-value", args[1], item["value"])
        elif kind == "wagtail.blocks.StaticBlock":
            pass
        elif kind == "wagtail.blocks.FieldBlock":
            widget = telepath.resolve(args[1])["_type"]
            if widget == "wagtail.widgets.CheckboxInput":
                if state:
                    out.append((prefix, "on"))
            elif isinstance(state, dict):  # a chooser: {"id": ..., "string": ..., ...}
                out.append((prefix, str(state.get("id") or "")))
            elif isinstance(state, list):  # a select
                out.extend((prefix, str(item)) for item in state)
            else:
                out.append((prefix, "" if state is None else str(state)))
        else:
            raise AssertionError(f"a block this test cannot submit: {kind}")

    walk(name, telepath.resolve(packed_definition), value)
    return out


def editor_form_data(page: Response) -> tuple[Form, list[tuple[str, str]]]:
    """What the Wagtail editor's form submits, as its JavaScript builds it: the inputs, every
    StreamField, and the (empty) comments formset."""
    path = urlsplit(page.path).path
    form = form_with_action(page, path)
    data = list(form.fields)
    for stream in form.streams:
        definition = json.loads(stream["data-w-block-data-value"])
        value, _errors = json.loads(stream["data-w-block-arguments-value"])
        data += stream_form_data(stream["id"], definition, value)
    comments = re.search(
        r'<script id="comments-data" type="application/json">(.*?)</script>', page.text, re.S
    )
    if comments:
        existing = json.loads(comments.group(1)).get("comments") or []
        if existing:
            raise AssertionError(f"{path} has comments, which this test does not submit")
        data += [
            ("comments-TOTAL_FORMS", "0"),
            ("comments-INITIAL_FORMS", "0"),
            ("comments-MIN_NUM_FORMS", "0"),
            ("comments-MAX_NUM_FORMS", ""),
        ]
    return form, data


def replace(data: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    assert any(k == name for k, _ in data), f"no field {name}"
    return [(k, value if k == name else v) for k, v in data]


def field_value(data: list[tuple[str, str]], name: str) -> str:
    return next(v for k, v in data if k == name)


DRAFT_MARK = re.compile(r" \((?:draft|import) [0-9a-f]+-\d+\)$")


def marked(text: str, kind: str, tag: str, limit: int) -> str:
    """`text` with this save's mark in place of any earlier one."""
    suffix = f" ({kind} {tag})"
    return DRAFT_MARK.sub("", text)[: limit - len(suffix)] + suffix


# ------------------------------------------------------------------------------ what learners know


def plain(text: str) -> str:
    """Text as a person reads it: entities decoded, tags dropped, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


@functools.cache
def demo_choices() -> dict[tuple[str, frozenset[str]], dict[str, tuple[int, bool]]]:
    """The demo scenarios' decisions, from their files: each step, keyed by its key and its
    choice ids (keys such as "arrive" recur across scenarios), gives each choice id's points
    and whether it is critical (unsafe)."""
    from scenarios import engine

    table: dict[tuple[str, frozenset[str]], dict[str, tuple[int, bool]]] = {}
    for path in sorted(SCENARIO_FILES.glob("*.json")):
        scenario = engine.parse_json(path.read_text(encoding="utf-8"))
        for step in scenario.steps:
            if step.choices:
                ids = frozenset(choice.id for choice in step.choices)
                table[(step.key, ids)] = {c.id: (c.points, c.critical) for c in step.choices}
    return table


def best_choice(step: str, shown: list[str]) -> str | None:
    """Of the choice ids a step's form shows, the safe one worth the most points (None when
    the step is no demo scenario's or every choice is unsafe)."""
    known = demo_choices().get((step, frozenset(shown)))
    safe = [i for i in shown if known and not known[i][1]]
    return max(safe, key=lambda i: known[i][0]) if safe else None


@functools.cache
def demo_bank() -> dict[str, frozenset[str]]:
    """The demo course's final-assessment bank: each question's prompt, and the texts of its
    right options (option ids are given when the bank is seeded; the texts are the file's)."""
    modules = json.loads((DEMO_COURSE / "course.json").read_text(encoding="utf-8"))["modules"]
    bank = [
        question
        for slug in modules
        for question in json.loads(
            (DEMO_COURSE / "modules" / f"{slug}.json").read_text(encoding="utf-8")
        ).get("bank", [])
    ]
    return {
        plain(q["prompt"]): frozenset(plain(o["text"]) for o in q["options"] if o["correct"])
        for q in bank
    }


@dataclass
class CheckQuestion:
    """A lesson's check question as the page shows it."""

    action: str
    id: str
    multiple: bool
    options: list[str]  # option ids, in this run's order
    right: list[str]  # options of the latest answer that the page marks right
    solved: bool  # the page says the latest answer is right


def check_questions(page: Response) -> list[CheckQuestion]:
    found = []
    for section in re.findall(r'<section class="question".*?</section>', page.text, re.S):
        action = re.search(r'action="(/learning/lessons/\d+/check/)"', section)
        question = re.search(r'name="question" value="([^"]+)"', section)
        if not action or not question:
            continue
        inputs = re.findall(
            r'<input type="(radio|checkbox)" name="chosen" value="([^"]+)"', section
        )
        right = re.findall(
            r'<div class="option option--right">\s*<input type="\w+" name="chosen" value="([^"]+)"',
            section,
        )
        found.append(
            CheckQuestion(
                action=action.group(1),
                id=html.unescape(question.group(1)),
                multiple=any(kind == "checkbox" for kind, _ in inputs),
                options=[html.unescape(v) for _, v in inputs],
                right=[html.unescape(v) for v in right],
                solved="Well done" in section,
            )
        )
    return found


# ------------------------------------------------------------------------------ the people


class Person(threading.Thread):
    role = "person"

    def __init__(self, email: str, port: int, record: Record, deadline: float) -> None:
        super().__init__(name=email, daemon=True)
        self.email = email
        self.record = record
        self.deadline = deadline
        self.browser = Browser(email.split("@")[0], port, record, deadline)
        self.rounds = 0

    @property
    def who(self) -> str:
        return self.browser.person

    def run(self) -> None:
        failures_in_a_row = 0
        try:
            self.browser.sign_in(self.email)
            while time.monotonic() < self.deadline:
                try:
                    self.round()
                    failures_in_a_row = 0
                except (OutOfBudget, KeyboardInterrupt):
                    raise
                except Exception:
                    failures_in_a_row += 1
                    self.record.problem(self.who, f"round failed:\n{traceback.format_exc()}")
                    if failures_in_a_row >= 5:
                        self.record.problem(self.who, "stopped after 5 failed rounds in a row")
                        return
                    self.browser.think()
                self.rounds += 1
        except OutOfBudget:
            pass
        except Exception:
            self.record.problem(self.who, f"stopped:\n{traceback.format_exc()}")

    def round(self) -> None:
        raise NotImplementedError

    def get(self, path: str, **kwargs: Any) -> Response:
        self.browser.think()
        response = self.browser.get(path, **kwargs)
        self._signed_in(response)
        return response

    def post(self, path: str, form: Any = None, **kwargs: Any) -> Response:
        self.browser.think()
        response = self.browser.post(path, form, **kwargs)
        self._signed_in(response)
        return response

    def _signed_in(self, response: Response) -> None:
        if response.path.startswith("/accounts/login/"):
            self.record.problem(self.who, f"signed out: {response.path}")
            self.browser.sign_in(self.email)

    def expect(self, ok: bool, what: str, response: Response) -> bool:
        if not ok:
            text = re.sub(r"<(style|script)\b.*?</\1>", " ", response.text, flags=re.S)
            text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
            self.record.problem(
                self.who,
                f"{what}: {response.method} {response.path} -> {response.status} "
                f"(after {response.history}): {text[:600]}",
            )
        return ok


class Lead(Person):
    """Reads the training lists and the matrix; assigns and imports now and then."""

    def round(self) -> None:
        reads = [self.home, self.matrix, self.lists, self.export]
        random.shuffle(reads)
        for read in reads:
            read()
        if self.rounds % 2 == 0:
            self.import_officers()
        if self.rounds % 3 == 1:
            self.assign()

    def home(self) -> None:
        page = self.get("/admin/")
        self.expect(page.status == 200, "admin home", page)

    def matrix(self) -> None:
        page = self.get("/admin/training/matrix/")
        if not self.expect(page.status == 200 and "training-matrix" in page.text, "matrix", page):
            return
        for _depth in range(3):  # drill down: division, team, officers
            units = sorted(set(re.findall(r'href="\?unit=(\d+)"', page.text)))
            if not units:
                break
            page = self.get(f"/admin/training/matrix/?unit={random.choice(units)}")
            if not self.expect(page.status == 200, "matrix drill-down", page):
                return
        officers = sorted(
            set(re.findall(r'href="(/admin/training/officers/\d+/transcript/)"', page.text))
        )
        if officers:
            transcript = self.get(random.choice(officers))
            self.expect(transcript.status == 200, "transcript", transcript)

    def lists(self) -> None:
        for path in random.sample(
            [
                "/admin/training/overdue/",
                "/admin/training/expiring/",
                "/admin/training/expiring/?days=90",
                "/admin/training/reminders/",
            ],
            2,
        ):
            page = self.get(path)
            self.expect(page.status == 200, "training list", page)

    def export(self) -> None:
        page = self.get("/admin/training/matrix/?export=csv", assets=False)
        ok = page.status == 200 and page.content_type.startswith("text/csv") and page.body
        if self.expect(bool(ok), "matrix CSV export", page):
            with self.record.lock:
                self.record.expected.exports += 1
            self.record.did(self.who, "CSV export")

    def assign(self) -> None:
        page = self.get("/admin/training/assign/")
        form = form_with_action(page, "/admin/training/assign/")
        courses = [v for v in form.options.get("course", []) if v]
        units = [v for v in form.options.get("unit", []) if v]
        if not self.expect(bool(courses and units), "assign form lists courses and units", page):
            return
        done = self.post(
            "/admin/training/assign/",
            {
                "csrfmiddlewaretoken": csrf(page),
                "course": random.choice(courses),
                "target": "unit",
                "unit": random.choice(units),
                "officers": "",
                "due": "days",
                "due_date": "",
                "due_days": str(random.randint(14, 90)),
            },
        )
        ok = done.history[:1] == [302] and done.path.startswith("/admin/training/matrix/")
        if self.expect(ok and "assigned to" in done.text, "assigning a course", done):
            with self.record.lock:
                self.record.expected.assignments += 1
            self.record.did(self.who, "assign a course")

    def import_officers(self) -> None:
        page = self.get("/admin/officers/import/")
        rows = ["email,given_name,family_name,service_number,force,unit,rank,role"]
        emails = []
        for n in range(3):
            number = f"{self.rounds:03d}{n}"
            email = f"load-{RUN}-{number}@demo.police.uk"
            emails.append(email)
            rows.append(
                f"{email},Test,Officer {number},LT{RUN}{number},{DEMO_FORCE},{IMPORT_UNIT},"
                "Constable,learner"
            )
        done = self.post(
            "/admin/officers/import/",
            {"csrfmiddlewaretoken": csrf(page)},
            files={"file": ("officers.csv", ("\n".join(rows) + "\n").encode(), "text/csv")},
        )
        # The upload leads to its preview (prepared at once: DEBUG runs tasks in process);
        # confirming it imports, and the same page then shows the result.
        previewed = done.history[:1] == [302] and done.path.startswith("/admin/officers/import/")
        if previewed and "Confirm and import" in done.text:
            done = self.post(done.path, {"csrfmiddlewaretoken": csrf(done), "action": "confirm"})
        ok = previewed and "Imported" in done.text
        if self.expect(ok and "help-critical" not in done.text, "importing officers", done):
            with self.record.lock:
                self.record.expected.officers_imported += emails
            self.record.did(self.who, "import officers")


class Author(Person):
    """Browses the page tree, edits lessons and scenarios in Wagtail's editor (as its
    JavaScript does: session pings, autosaves, "Save draft") and imports scenarios."""

    SCENARIOS = "/admin/snippets/scenarios/scenario/"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scenario_ids: list[int] = []
        self.saves = 0

    def tag(self) -> str:
        self.saves += 1
        return f"{RUN}-{self.saves}"

    def round(self) -> None:
        self.get("/admin/")
        self.edit_lesson(explicit_save=self.rounds % 2 == 0)
        self.edit_scenario(explicit_save=self.rounds % 2 == 1)
        if self.rounds % 3 == 2:
            self.import_scenario()

    # --- pages
    def children(self, page_id: int) -> tuple[Response, list[int]]:
        """The explorer's listing of a page, and its children (their edit links say `next`)."""
        page = self.get(f"/admin/pages/{page_id}/")
        found = re.findall(r'href="/admin/pages/(\d+)/edit/\?next=', page.text)
        return page, sorted({int(i) for i in found} - {page_id})

    def edit_lesson(self, *, explicit_save: bool) -> None:
        root = self.get("/admin/pages/")  # Wagtail opens the site's root (the course index)
        index = re.match(r"/admin/pages/(\d+)/", root.path)
        if not self.expect(root.status == 200 and bool(index), "pages explorer", root):
            return
        _page, courses = self.children(int(index.group(1)))
        _page, modules = self.children(random.choice(courses))
        module = random.choice(modules)
        _page, lessons = self.children(module)
        lesson = random.choice(lessons)
        title = self.edit(
            f"/admin/pages/{lesson}/edit/",
            f"/admin/editing-sessions/ping/wagtailcore/page/{lesson}/",
            explicit_save=explicit_save,
            change={"title": 255, "summary": 300},
        )
        if title is None:
            return
        listing, _ = self.children(module)
        mark = title[title.rindex(" (") :]
        if self.expect(html.escape(mark) in listing.text, "draft title in the explorer", listing):
            with self.record.lock:
                self.record.expected.lesson_drafts[lesson] = title
            self.record.did(self.who, "save a lesson draft")

    # --- scenarios
    def edit_scenario(self, *, explicit_save: bool) -> None:
        listing = self.get(self.SCENARIOS)
        if not self.expect(listing.status == 200, "scenario listing", listing):
            return
        if not self.scenario_ids:  # the demo's scenarios; not the ones this test imports
            found = re.findall(
                r'href="/admin/snippets/scenarios/scenario/edit/(\d+)/"', listing.text
            )
            self.scenario_ids = sorted({int(i) for i in found})
        scenario = random.choice(self.scenario_ids)
        edit_url = f"{self.SCENARIOS}edit/{scenario}/"
        title = self.edit(
            edit_url,
            f"/admin/editing-sessions/ping/scenarios/scenario/{scenario}/",
            explicit_save=explicit_save,
            change={"title": 200},
        )
        if title is None:
            return
        again = self.get(edit_url)  # the editor shows the latest draft
        if self.expect(f'value="{html.escape(title)}"' in again.text, "scenario draft", again):
            with self.record.lock:
                self.record.expected.scenario_drafts[scenario] = title
            self.record.did(self.who, "save a scenario draft")

    def import_scenario(self) -> None:
        page = self.get(f"{self.SCENARIOS}import/")
        source = random.choice(sorted((ROOT / "scenarios" / "demo").glob("*.json")))
        document = json.loads(source.read_text(encoding="utf-8"))
        document["title"] = marked(document["title"], "import", self.tag(), 200)
        done = self.post(
            f"{self.SCENARIOS}import/",
            {"csrfmiddlewaretoken": csrf(page)},
            files={"file": ("scenario.json", json.dumps(document).encode(), "application/json")},
        )
        edited = re.match(rf"{self.SCENARIOS}edit/(\d+)/", done.path)
        ok = done.history[:1] == [302] and bool(edited) and done.status == 200
        ok = ok and f'value="{html.escape(document["title"])}"' in done.text
        if self.expect(ok, "importing a scenario", done):
            with self.record.lock:
                self.record.expected.scenarios_imported[int(edited.group(1))] = document["title"]
            self.record.did(self.who, "import a scenario")

    # --- Wagtail's editor
    def edit(
        self, edit_url: str, ping_prefix: str, *, explicit_save: bool, change: dict[str, int]
    ) -> str | None:
        """Open the editor, change the fields in `change` (name: max length), let autosave
        save them, and sometimes press "Save draft". Returns the saved title."""
        page = self.get(edit_url)
        if not self.expect(page.status == 200, "editor", page):
            return None
        _form, data = editor_form_data(page)
        session = next(
            (f for f in forms_of(page) if "w-editing-sessions" in f.attrs.get("class", "")),
            None,
        )
        ping_url = session.attrs.get("data-w-swap-src-value", "") if session else ""
        if not self.expect(ping_url.startswith(ping_prefix), "editing session", page):
            return None
        session_data = dict(session.fields)
        self.ping(ping_url, session_data, editing=False)

        tag = self.tag()
        for name, limit in change.items():
            data = replace(data, name, marked(field_value(data, name), "draft", tag, limit))
        title = field_value(data, "title")

        revision = None
        for _ in range(random.randint(1, 3)):  # the author types; autosave saves
            body = list(data) + ([("overwrite_revision_id", revision)] if revision else [])
            saved = self.post(
                edit_url,
                body,
                headers={"Accept": "application/json", **self.browser.csrf_header()},
                assets=False,
            )
            try:
                answer = json.loads(saved.body)
            except ValueError:
                answer = {}
            if not self.expect(bool(answer.get("success")), "autosave", saved):
                return None
            revision = str(answer["revision_id"])
            session_data["revision_id"] = revision
            session_data["revision_created_at"] = answer.get("revision_created_at", "")
            self.ping(ping_url, session_data, editing=True)
        if explicit_save:  # "Save draft": the form as the browser submits it
            again = self.get(edit_url)
            _form, data = editor_form_data(again)
            data = replace(data, "title", title)
            saved = self.post(edit_url, data)
            ok = saved.history[:1] == [302] and saved.path.startswith(edit_url)
            if not self.expect(ok and saved.status == 200, "save draft", saved):
                return None
        release = session.attrs.get("data-w-action-url-value", "") if session else ""
        if release:
            self.browser.post(
                release,
                {"csrfmiddlewaretoken": self.browser.cookies.get("csrftoken", "")},
                assets=False,
            )
        return title

    def ping(self, url: str, data: dict[str, str], *, editing: bool) -> None:
        form = {k: v for k, v in data.items() if k != "is_editing"}
        if editing:
            form["is_editing"] = "1"
        answer = self.browser.post(url, form, headers=self.browser.csrf_header(), assets=False)
        self.expect(answer.status == 200, "editing-session ping", answer)


class Learner(Person):
    """Works through their courses, plays scenarios, checks their certificates."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_check = 0.0

    def round(self) -> None:
        if time.monotonic() - self.last_check > 30:  # at most twice a minute each
            self.last_check = time.monotonic()
            self.certificates()
        elif random.random() < 0.15:
            self.browse()
        else:
            self.study()

    def study(self) -> None:
        home = self.get("/learning/")
        if not self.expect(home.status == 200, "My learning", home):
            return
        continues = re.findall(r'href="(/learning/courses/\d+/continue/)"', home.text)
        if continues:
            page = self.get(random.choice(continues))
        else:  # everything done: open a course
            courses = re.findall(r'href="(/courses/[^"/]+/)"', home.text)
            if not self.expect(bool(courses), "a course on My learning", home):
                return
            page = self.get(random.choice(courses))
        again = re.search(r'action="(/learning/courses/\d+/start/)"', page.text)
        if again and not self.is_lesson(page):  # a completed course: start the refresher
            page = self.post(again.group(1), {"csrfmiddlewaretoken": csrf(page)})
            if not self.expect(page.history[:1] == [302], "starting a course again", page):
                return
            self.record.did(self.who, "start a course again")
        for _ in range(random.randint(2, 5)):
            if page.status == 200 and self.assessment_offered(page):
                self.final_assessment(page)  # every lesson done: the course page offers it
                return
            if page.status != 200 or not self.is_lesson(page):
                return
            page = self.lesson(page)
            if page is None:
                return

    @staticmethod
    def is_lesson(page: Response) -> bool:
        return 'id="lesson-end-title"' in page.text or 'href="?warning=accepted"' in page.text

    def lesson(self, page: Response) -> Response | None:
        """Read the lesson, pass its scenario if it has one, and mark it complete."""
        here = urlsplit(page.path).path
        if 'href="?warning=accepted"' in page.text:
            page = self.get(f"{here}?warning=accepted")
        start = re.search(r'action="(/scenarios/\d+/start/)"', page.text)
        resume = re.search(r'href="(/scenarios/attempts/\d+/)"', page.text)
        if start or resume:
            if start:
                lesson = re.search(r'name="lesson" value="(\d+)"', page.text)
                attempt = self.post(
                    start.group(1),
                    {
                        "csrfmiddlewaretoken": csrf(page),
                        "lesson": lesson.group(1) if lesson else "",
                    },
                )
            else:
                attempt = self.get(resume.group(1))
            self.play(attempt)
            page = self.get(here + ("?warning=accepted" if "warning=" in page.path else ""))
        if self.CHECKS_LEFT.search(page.text):
            page = self.answer_checks(page)
            if page is None:
                return None
        complete = re.search(r'action="(/learning/lessons/(\d+)/complete/)"', page.text)
        if not complete:
            return None
        done = self.post(complete.group(1), {"csrfmiddlewaretoken": csrf(page)})
        ok = done.history[:1] == [302] and done.status == 200
        ok = ok and ("Lesson marked complete." in done.text or "You have completed" in done.text)
        if self.expect(ok, "marking a lesson complete", done):
            with self.record.lock:
                self.record.expected.completions[self.email] += 1
            self.record.did(self.who, "complete a lesson")
            if "You have completed \u201c" in done.text:  # the message: that finished a course
                with self.record.lock:
                    self.record.expected.courses[self.email] += 1
                self.record.did(self.who, "complete a course")
        return done

    # The lesson's end says this while a check question is still to be answered right.
    CHECKS_LEFT = re.compile(r"Answer the (?:\d+ )?check questions? correctly")

    def answer_checks(self, page: Response) -> Response | None:
        """Answer each check question still to get right, as an officer would: a one-answer
        question one option at a time until the page says "Well done"; a tick-all question
        first with every option ticked (the page marks which of them are right), then with
        just those. Returns the lesson page with nothing left to answer."""
        for _ in range(30):
            if not self.CHECKS_LEFT.search(page.text):
                return page
            todo = [q for q in check_questions(page) if not q.solved]
            if not self.expect(bool(todo), "a check question left to answer", page):
                return None
            question = todo[0]
            if question.multiple:
                tries = [question.options, None]  # None: the options then marked right
            else:
                tries = [[option] for option in question.options]
            for chosen in tries:
                if chosen is None:
                    now = next((q for q in check_questions(page) if q.id == question.id), None)
                    chosen = now.right if now else []
                    if not self.expect(bool(chosen), "options marked right", page):
                        return None
                page = self.check(question, chosen, page)
                if page is None:
                    return None
                if any(q.id == question.id and q.solved for q in check_questions(page)):
                    break
            else:
                self.expect(False, f"a right answer to check question {question.id}", page)
                return None
        self.expect(False, "check questions all answered", page)
        return None

    def check(self, question: CheckQuestion, chosen: list[str], page: Response) -> Response | None:
        """ "Check answer": one recorded answer, back to the lesson."""
        form = [("csrfmiddlewaretoken", csrf(page)), ("question", question.id)]
        done = self.post(question.action, form + [("chosen", option) for option in chosen])
        ok = done.history[:1] == [302] and done.status == 200 and self.is_lesson(done)
        if not self.expect(ok and "check-error-summary" not in done.text, "a check answer", done):
            return None
        with self.record.lock:
            self.record.expected.checks[self.email] += 1
        self.record.did(self.who, "answer a check question")
        return done

    @staticmethod
    def assessment_offered(page: Response) -> bool:
        return bool(
            re.search(r'action="/learning/courses/\d+/assessment/start/"', page.text)
            or re.search(r'href="/learning/assessments/\d+/"', page.text)
        )

    def final_assessment(self, page: Response) -> Response | None:
        """Start (or continue) the course's final assessment, answer each question rightly
        (the right options' texts are the demo bank's), check the answers and submit."""
        start = re.search(r'action="(/learning/courses/\d+/assessment/start/)"', page.text)
        under_way = re.search(r'href="(/learning/assessments/\d+/)"', page.text)
        if start:
            page = self.post(start.group(1), {"csrfmiddlewaretoken": csrf(page)})
        elif under_way:
            page = self.get(under_way.group(1))
        for _ in range(40):
            question = re.search(
                r'<form method="post" action="(/learning/assessments/\d+/questions/\d+/)"',
                page.text,
            )
            if page.status != 200 or not question:
                break
            prompt = re.search(r"<legend>(.*?)</legend>", page.text, re.S)
            right = demo_bank().get(plain(prompt.group(1))) if prompt else None
            if not self.expect(right is not None, "a question of the demo course's bank", page):
                return None
            options = re.findall(
                r'<input type="(?:radio|checkbox)" name="answer" value="([^"]+)" id="([^"]+)"'
                r'[^>]*>\s*<label for="\2">(.*?)</label>',
                page.text,
                re.S,
            )
            chosen = [html.unescape(value) for value, _, text in options if plain(text) in right]
            if not self.expect(bool(chosen), "the right options shown", page):
                return None
            page = self.post(
                question.group(1),
                [("csrfmiddlewaretoken", csrf(page))] + [("answer", option) for option in chosen],
            )
        submit = re.search(r'action="(/learning/assessments/\d+/submit/)"', page.text)
        ok = page.status == 200 and "Check your answers" in page.text and bool(submit)
        if not self.expect(ok, 'the final assessment\'s "Check your answers"', page):
            return None
        done = self.post(submit.group(1), {"csrfmiddlewaretoken": csrf(page)})
        passed = done.status == 200 and "<h1>Passed</h1>" in done.text
        if self.expect(passed, "passing the final assessment", done):
            with self.record.lock:
                self.record.expected.assessments[self.email] += 1
            self.record.did(self.who, "pass the final assessment")
            if self.expect(
                "You have completed the course" in done.text, "a completed course", done
            ):
                with self.record.lock:
                    self.record.expected.courses[self.email] += 1
                self.record.did(self.who, "complete a course")
        return done

    def play(self, page: Response) -> None:
        """Take the best choice at every step, to the end: of the choice ids the form shows (in
        the attempt's own shuffled order), the safe one worth the most points."""
        for _ in range(60):
            choose = re.search(r'action="(/scenarios/attempts/(\d+)/choose/)"', page.text)
            if not choose:
                break
            step = re.search(r'name="step" value="([^"]*)"', page.text)
            key = html.unescape(step.group(1)) if step else ""
            shown = [
                html.unescape(v)
                for v in re.findall(r'<input type="radio" name="choice" value="([^"]*)"', page.text)
            ]
            chosen = best_choice(key, shown)
            if not self.expect(chosen is not None, f"a demo scenario's step {key!r}", page):
                return
            feedback = self.post(
                choose.group(1),
                {"csrfmiddlewaretoken": csrf(page), "step": key, "choice": chosen},
            )
            if not self.expect(
                feedback.status == 200 and "What happened" in feedback.text,
                "a scenario choice",
                feedback,
            ):
                return
            page = self.get(f"/scenarios/attempts/{choose.group(2)}/")
        passed = page.status == 200 and "<h1>Passed</h1>" in page.text
        if self.expect(passed, "the scenario's result (the best choices pass)", page):
            with self.record.lock:
                self.record.expected.passes[self.email] += 1
            self.record.did(self.who, "pass a scenario")

    def browse(self) -> None:
        home = self.get("/learning/")
        courses = re.findall(r'href="(/courses/[^"/]+/)"', home.text)
        if courses:
            course = self.get(random.choice(courses))
            inside = re.findall(r'href="(/courses/[^"]+/[^"]+/)"', course.text)
            if inside:
                page = self.get(random.choice(inside))
                self.expect(page.status == 200, "a module or lesson", page)
        found = self.get("/learning/search/?q=naloxone")
        self.expect(found.status == 200, "lesson search", found)

    def certificates(self) -> None:
        home = self.get("/learning/")
        codes = re.findall(r'href="(/certificates/verify/[^"/]+/)"', home.text)
        if codes:
            page = self.get(random.choice(codes))
            ok = page.status == 200 and "verify-result__state" in page.text
            if self.expect(ok or page.status == 429, "certificate check", page):
                self.record.did(self.who, "check a certificate")
            downloads = re.findall(r'href="(/certificates/\d+/download/)"', home.text)
            if downloads and random.random() < 0.3:
                pdf = self.get(random.choice(downloads), assets=False)
                self.expect(pdf.status in (200, 202, 410), "certificate download", pdf)
        else:
            page = self.get("/certificates/verify/")
            self.expect(page.status == 200, "certificate check form", page)


# ------------------------------------------------------------------------------ the site


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class DemoSite:
    """`make run` in a temporary directory: its SQLite file, its runserver."""

    tmp: Path
    port: int
    env: dict[str, str]
    server: subprocess.Popen[bytes] | None = None

    @property
    def db(self) -> Path:
        return self.tmp / "db.sqlite3"

    @property
    def stderr(self) -> Path:
        return self.tmp / "runserver.stderr"

    def manage(self, *args: str) -> None:
        log = self.tmp / f"{args[0]}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [PYTHON, "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = process.wait(timeout=SETUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                stop_group(process)
                pytest.fail(f"manage.py {args[0]} took over {SETUP_TIMEOUT} s\n{tail(log)}")
        assert code == 0, f"manage.py {' '.join(args)} failed ({code})\n{tail(log)}"

    def start(self) -> None:
        with (self.tmp / "runserver.stdout").open("wb") as out, self.stderr.open("wb") as err:
            self.server = subprocess.Popen(
                [PYTHON, "manage.py", "runserver", f"{HOST}:{self.port}", "--noreload"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group, ended by stop()
            )
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            code = self.server.poll()
            assert code is None, f"runserver exited ({code})\n{tail(self.stderr)}"
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", "/accounts/login/")
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = None
            if status is not None:
                assert status == 200, f"runserver answered {status}\n{tail(self.stderr)}"
                return
            if time.monotonic() > deadline:
                pytest.fail(f"runserver not serving after {BOOT_TIMEOUT} s\n{tail(self.stderr)}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            stop_group(self.server)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """End the process group this test started (and only it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def make_run_env(tmp: Path, port: int) -> dict[str, str]:
    """`make run`'s environment, with this test's database and media folder. Nothing of the
    test settings leaks in (pytest's process has set DJANGO_SECRET_KEY and the like)."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PATHWAYS_", "AWS_", "EMAIL_"))
        and k not in {"DATABASE_URL", "DATABASE_CONN_MAX_AGE", "REDIS_URL", "CACHE_KEY_PREFIX"}
    }
    return {
        **inherited,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "DJANGO_MEDIA_ROOT": str(tmp / "media"),
        "PATHWAYS_BASE_URL": f"http://{HOST}:{port}",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def demo_site(tmp_path: Path) -> Iterator[DemoSite]:
    port = free_port()
    site = DemoSite(tmp_path, port, make_run_env(tmp_path, port))
    try:
        site.manage("migrate", "--noinput")
        site.manage("seed_demo")
        yield site
    finally:
        site.stop()


# ------------------------------------------------------------------------------ checks


def baseline(db: Path) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        return {
            "rules": rules_by(con, LEAD),
            "exports": exports_by(con, LEAD),
            "passes": {email: passes_of(con, email) for email in LEARNERS},
            "completions": {email: completions_of(con, email) for email in LEARNERS},
            "checks": {email: checks_of(con, email) for email in LEARNERS},
            "assessments": {email: assessments_passed_by(con, email) for email in LEARNERS},
            "certificates": {email: certificates_of(con, email) for email in LEARNERS},
        }


def rules_by(con: sqlite3.Connection, email: str) -> int:
    return con.execute(
        "SELECT count(*) FROM training_assignmentrule r JOIN officers_user u"
        " ON u.id = r.created_by_id WHERE u.email = ?",
        (email,),
    ).fetchone()[0]


def exports_by(con: sqlite3.Connection, email: str) -> int:
    return con.execute(
        "SELECT count(*) FROM training_exportlog x JOIN officers_user u ON u.id = x.user_id"
        " WHERE u.email = ? AND x.what = 'matrix' AND x.format = 'csv'",
        (email,),
    ).fetchone()[0]


def completions_of(con: sqlite3.Connection, email: str) -> int:
    return con.execute(
        "SELECT count(*) FROM courses_lessoncompletion c"
        " JOIN courses_enrolment e ON e.id = c.enrolment_id"
        " JOIN officers_user u ON u.id = e.user_id WHERE u.email = ?",
        (email,),
    ).fetchone()[0]


def checks_of(con: sqlite3.Connection, email: str) -> int:
    return con.execute(
        "SELECT count(*) FROM courses_checkanswer a"
        " JOIN courses_enrolment e ON e.id = a.enrolment_id"
        " JOIN officers_user u ON u.id = e.user_id WHERE u.email = ?",
        (email,),
    ).fetchone()[0]


def assessments_passed_by(con: sqlite3.Connection, email: str) -> int:
    return con.execute(
        "SELECT count(*) FROM courses_assessmentattempt a JOIN officers_user u"
        " ON u.id = a.user_id WHERE u.email = ? AND a.submitted_at IS NOT NULL AND a.passed",
        (email,),
    ).fetchone()[0]


def certificates_of(con: sqlite3.Connection, email: str) -> int:
    return con.execute(
        "SELECT count(*) FROM certificates_certificate c JOIN officers_user u"
        " ON u.id = c.user_id WHERE u.email = ?",
        (email,),
    ).fetchone()[0]


def passes_of(con: sqlite3.Connection, email: str) -> int:
    return con.execute(
        "SELECT count(*) FROM scenarios_attempt a JOIN officers_user u ON u.id = a.user_id"
        " WHERE u.email = ? AND a.finished_at IS NOT NULL AND a.passed",
        (email,),
    ).fetchone()[0]


def block_types(content: dict[str, Any], name: str) -> list[str]:
    """A revision's StreamField, as the types of its blocks (the editor saved it whole)."""
    stream = content.get(name) or []
    if isinstance(stream, str):
        stream = json.loads(stream)
    return [block["type"] for block in stream]


def saved_problems(db: Path, expected: Expected, before: dict[str, Any]) -> list[str]:
    """Everything the people saved, looked for in the database."""
    problems: list[str] = []
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        for email in LEARNERS:  # each "Mark as complete" and each pass: one row, no more
            have = completions_of(con, email) - before["completions"][email]
            if have != expected.completions[email]:
                problems.append(
                    f"{email} marked {expected.completions[email]} lessons complete;"
                    f" {have} recorded"
                )
            have = passes_of(con, email) - before["passes"][email]
            if have != expected.passes[email]:
                problems.append(
                    f"{email} passed {expected.passes[email]} scenarios; {have} recorded"
                )
            have = checks_of(con, email) - before["checks"][email]
            if have != expected.checks[email]:
                problems.append(
                    f"{email} answered {expected.checks[email]} check questions; {have} recorded"
                )
            have = assessments_passed_by(con, email) - before["assessments"][email]
            if have != expected.assessments[email]:
                problems.append(
                    f"{email} passed {expected.assessments[email]} final assessments;"
                    f" {have} recorded"
                )
            have = certificates_of(con, email) - before["certificates"][email]
            if have != expected.courses[email]:
                problems.append(
                    f"{email} completed {expected.courses[email]} courses;"
                    f" {have} certificates issued"
                )
        for email in expected.officers_imported:
            found = con.execute(
                "SELECT count(*) FROM officers_user u JOIN officers_officerprofile p"
                " ON p.user_id = u.id WHERE u.email = ?",
                (email,),
            ).fetchone()[0]
            if not found:
                problems.append(f"imported officer {email}: not in the database")
        have = rules_by(con, LEAD) - before["rules"]
        if have != expected.assignments:
            problems.append(f"{expected.assignments} courses assigned; {have} rules recorded")
        have = exports_by(con, LEAD) - before["exports"]
        if have != expected.exports:
            problems.append(f"{expected.exports} matrix exports; {have} logged")
        for page, title in expected.lesson_drafts.items():
            row = con.execute(
                "SELECT p.draft_title, r.content, l.content FROM wagtailcore_page p"
                " JOIN wagtailcore_revision r ON r.id = p.latest_revision_id"
                " JOIN wagtailcore_revision l ON l.id = p.live_revision_id WHERE p.id = ?",
                (page,),
            ).fetchone()
            draft, live = (json.loads(row[1]), json.loads(row[2])) if row else ({}, {})
            if row is None or row[0] != title or draft.get("title") != title:
                problems.append(f"lesson {page}: draft {title!r} not saved")
            elif block_types(draft, "body") != block_types(live, "body"):
                problems.append(f"lesson {page}: the draft's content differs from the live page's")
        for scenario, title in expected.scenario_drafts.items():
            row = con.execute(
                "SELECT r.content, l.content FROM scenarios_scenario s"
                " JOIN wagtailcore_revision r ON r.id = s.latest_revision_id"
                " JOIN wagtailcore_revision l ON l.id = s.live_revision_id WHERE s.id = ?",
                (scenario,),
            ).fetchone()
            draft, live = (json.loads(row[0]), json.loads(row[1])) if row else ({}, {})
            if row is None or draft.get("title") != title:
                problems.append(f"scenario {scenario}: draft {title!r} not saved")
            elif block_types(draft, "steps") != block_types(live, "steps"):
                problems.append(f"scenario {scenario}: the draft's steps differ from the live ones")
        for scenario, title in expected.scenarios_imported.items():
            row = con.execute(
                "SELECT title FROM scenarios_scenario WHERE id = ?", (scenario,)
            ).fetchone()
            if row is None or row[0] != title:
                problems.append(f"imported scenario {scenario} {title!r}: not in the database")
    return problems


def server_log_problems(stderr: Path) -> list[str]:
    """Tracebacks (each with its chained causes), lock errors and 5xx in runserver's log."""
    lines = stderr.read_text(encoding="utf-8", errors="replace").splitlines()
    request_line = re.compile(r"^\[\d\d/\w+/\d{4} [\d:]+\] ")  # runserver's access log
    problems = []
    shown: set[int] = set()
    i = 0
    while i < len(lines):
        if "Traceback (most recent call last)" not in lines[i]:
            i += 1
            continue
        start = i - 1 if i and not request_line.match(lines[i - 1]) else i
        end = i + 1
        while end < len(lines) and not (
            request_line.match(lines[end]) or lines[end].startswith("Internal Server Error")
        ):
            end += 1
        shown.update(range(start, end))
        block = lines[start:end]
        if len(block) > 60:  # the first line (the URL) and the last exception in the chain
            block = [block[0], "  [...]", *block[-50:]]
        problems.append("runserver's log:\n" + "\n".join(block))
        i = end
    for n, line in enumerate(lines):
        if n not in shown and any(needle in line for needle in LOCK_TEXTS):
            problems.append(f"runserver's log, line {n + 1}: {line}")
    failed = [line for line in lines if re.search(r'" 5\d\d \d', line)]
    if failed:
        problems.append(f"runserver logged {len(failed)} responses 5xx:\n" + "\n".join(failed[:20]))
    return problems


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def summary(record: Record, seconds: float, elapsed: float) -> str:
    people = list(dict.fromkeys(h.person for h in record.hits))
    out = [f"--- {len(record.hits)} requests in {elapsed:.0f} s (load {seconds:.0f} s)"]
    out.append(f"{'person':<16}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  statuses")
    for person in [*people, "all"]:
        hits = [h for h in record.hits if person in ("all", h.person)]
        took = [h.seconds * 1000 for h in hits]
        statuses = ", ".join(
            f"{s}: {n}" for s, n in sorted(Counter(h.status for h in hits).items())
        )
        out.append(
            f"{person:<16}{len(hits):>9}{percentile(took, 0.5):>9.0f}{percentile(took, 0.95):>9.0f}"
            f"{max(took, default=0):>9.0f}  {statuses}"
        )
    writes = [h for h in record.hits if h.method == "POST"]
    took = [h.seconds * 1000 for h in writes]
    out.append(
        f"POSTs: {len(writes)}, p50 {percentile(took, 0.5):.0f} ms, "
        f"p95 {percentile(took, 0.95):.0f} ms, max {max(took, default=0):.0f} ms"
    )
    slowest = sorted(record.hits, key=lambda h: h.seconds, reverse=True)[:5]
    out.append("slowest: " + "; ".join(f"{h.method} {h.path} {h.seconds:.1f} s" for h in slowest))
    out.append(
        "actions: " + ", ".join(f"{k} x{v}" for k, v in sorted(record.expected.actions.items()))
    )
    return "\n".join(out)


# ------------------------------------------------------------------------------ the test


def test_make_run_serves_a_lead_an_author_and_three_learners_at_once(
    demo_site: DemoSite,
) -> None:
    seconds = load_seconds()
    before = baseline(demo_site.db)
    demo_site.start()

    record = Record()
    started = time.monotonic()
    deadline = started + seconds
    port = demo_site.port
    people: list[Person] = [
        Lead(LEAD, port, record, deadline),
        Author(AUTHOR, port, record, deadline),
        *(Learner(email, port, record, deadline) for email in LEARNERS),
    ]
    for person in people:
        person.start()
    for person in people:
        person.join(timeout=max(1.0, deadline - time.monotonic()) + 240)
        if person.is_alive():
            record.problem(person.who, "still running four minutes after the end")
    elapsed = time.monotonic() - started
    demo_site.stop()

    problems = list(record.problems)
    problems += server_log_problems(demo_site.stderr)
    problems += saved_problems(demo_site.db, record.expected, before)
    report = summary(record, seconds, elapsed)
    print("\n" + report)
    for person in people:
        saved = [a for a in record.expected.actions if a.startswith(f"{person.who}: ")]
        if not any(a.split(": ", 1)[1] in SAVES for a in saved):
            problems.append(f"{person.who} saved nothing in {seconds:.0f} s")
    assert not problems, "\n\n".join(problems[:40]) + f"\n\n{report}"
