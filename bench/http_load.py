"""A small HTTP load generator for `make bench`: threads, http.client, no dependencies.

Each virtual user is a thread with its own keep-alive connection and its own cookies (so its
own session and CSRF token). Every request says `X-Forwarded-Proto: https`, as the TLS proxy in
front of gunicorn would (docs/deployment.md), so production's HTTPS settings stay on. It only
talks to 127.0.0.1, and every run is bounded by a duration, a request count and socket timeouts.

As a library (bench/run.py):

    users = [VirtualUser(port) for _ in range(8)]
    result = run_load("lesson", users, lambda vu: vu.get("/courses/x/"), seconds=15)
    print(result.line())

`action(vu)` makes one measured request and returns its `Response` (it may make unmeasured
requests first, e.g. to fetch a form; only the returned response's time is recorded).

From the command line, GETs of one path by anonymous users:

    .venv/bin/python bench/http_load.py --port 8000 --path /certificates/verify/ \
        --users 8 --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

HOST = "127.0.0.1"  # the only host this tool will talk to
MAX_SECONDS = 300.0  # upper bound on any one run
MAX_USERS = 256
TIMEOUT = 30.0  # seconds per socket operation

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes
    seconds: float  # from sending the request to the last byte of the body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class VirtualUser:
    """One browser: a keep-alive connection to 127.0.0.1:port and a cookie jar."""

    def __init__(self, port: int, name: str = "", user_agent: str = "pathways-bench") -> None:
        self.port = port
        self.name = name
        self.user_agent = user_agent
        self.cookies: dict[str, str] = {}
        self.requests = 0  # every request made, measured or not
        self.reconnects = 0
        self._conn: http.client.HTTPConnection | None = None

    # -- connection
    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
            return self._conn, False
        return self._conn, True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- requests
    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        if not path.startswith("/"):
            raise ValueError(f"a path on the server, not {path!r}")
        origin = f"https://{HOST}:{self.port}"
        headers = {
            "Host": f"{HOST}:{self.port}",
            "User-Agent": self.user_agent,
            "X-Forwarded-Proto": "https",
            "Accept": "text/html",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = origin
            headers["Referer"] = origin + path
        started = time.perf_counter()
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                raw = conn.getresponse()
                data = raw.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection before reading the request:
                # nothing was processed, so send it once more on a new connection.
                self.close()
                if not reused or attempt == 2:
                    raise
                self.reconnects += 1
            except BaseException:
                self.close()
                raise
        seconds = time.perf_counter() - started
        self.requests += 1
        if raw.will_close:
            self.close()
        response = Response(raw.status, raw.headers, data, seconds)
        self._store_cookies(response)
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        return self.request("POST", path, form)

    def _store_cookies(self, response: Response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(header)
            except CookieError:
                continue
            for key, morsel in cookie.items():
                if morsel.value in ("", '""') or morsel["max-age"] == "0":
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value


def csrf_token(response: Response) -> str:
    match = CSRF_RE.search(response.text)
    if not match:
        raise LoadError(f"no CSRF token in the page (HTTP {response.status})")
    return match.group(1)


class LoadError(Exception):
    """A virtual user could not do what the benchmark asked (a broken flow, not a slow one)."""


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Result:
    name: str
    users: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # measured requests, seconds
    errors: int = 0
    all_requests: int = 0  # measured plus supporting requests (form fetches, redirects)
    error_samples: list[str] = field(default_factory=list)
    client_cpu: float = 0.0  # CPU seconds of the load generator (set by its caller)

    @classmethod
    def merge(cls, results: list[Result]) -> Result:
        """Several runs of one scenario (turns taken with another) as one."""
        first = results[0]
        merged = cls(first.name, first.users, sum(r.seconds for r in results))
        for result in results:
            merged.latencies.extend(result.latencies)
            merged.errors += result.errors
            merged.all_requests += result.all_requests
            merged.client_cpu += result.client_cpu
            merged.error_samples.extend(result.error_samples[: 5 - len(merged.error_samples)])
        return merged

    @property
    def measured(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rps(self) -> float:
        """Successful measured requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else math.nan

    def line(self) -> str:
        ordered = sorted(self.latencies)
        ms = [1000 * percentile(ordered, p) for p in (0.50, 0.99)]
        peak = 1000 * ordered[-1] if ordered else math.nan
        rps = self.rps
        total = self.all_requests / self.seconds if self.seconds else math.nan
        return (
            f"http {self.name} users={self.users} seconds={self.seconds:.1f} "
            f"requests={self.measured} rps={rps:.1f} p50_ms={ms[0]:.1f} p99_ms={ms[1]:.1f} "
            f"max_ms={peak:.1f} errors={self.errors} all_requests_per_s={total:.1f}"
        )


def run_load(
    name: str,
    users: list[VirtualUser],
    action: Callable[[VirtualUser], tuple[Response, bool]],
    *,
    seconds: float = 15.0,
    max_requests: int = 1_000_000,
    warmup: int = 2,
) -> Result:
    """Every user calls `action` in a loop until `seconds` pass or `max_requests` are made.

    `action(vu)` returns the measured response and whether it is the expected one; a False or
    an exception counts as an error (the first few are kept as samples). Each user first runs
    `warmup` unmeasured actions (connections, caches, a first form)."""
    if not users or len(users) > MAX_USERS:
        raise ValueError(f"between 1 and {MAX_USERS} users")
    seconds = min(max(seconds, 0.5), MAX_SECONDS)
    result = Result(name, len(users), seconds)
    lock = threading.Lock()
    start_line = threading.Barrier(len(users) + 1)
    window: dict[str, float] = {}
    counters = {"started": 0}

    def note_error(text: str) -> None:
        with lock:
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(text)

    def worker(vu: VirtualUser) -> None:
        for _ in range(warmup):
            try:
                action(vu)
            except Exception:  # noqa: BLE001, S112 (warm-up failures show up in the timed part)
                continue
        try:
            start_line.wait(timeout=120)
        except threading.BrokenBarrierError:
            return
        before = vu.requests
        while True:
            with lock:
                if counters["started"] >= max_requests:
                    break
                counters["started"] += 1
            if time.perf_counter() >= window["end"]:
                break
            try:
                response, ok = action(vu)
            except Exception as exc:  # noqa: BLE001
                note_error(f"{type(exc).__name__}: {exc}")
                continue
            if ok:
                with lock:
                    result.latencies.append(response.seconds)
            else:
                note_error(f"HTTP {response.status} {response.location or response.text[:200]}")
        with lock:
            result.all_requests += vu.requests - before

    window["end"] = math.inf
    threads = [threading.Thread(target=worker, args=(vu,), daemon=True) for vu in users]
    for thread in threads:
        thread.start()
    start_line.wait(timeout=120 + TIMEOUT)
    started = time.perf_counter()
    window["end"] = started + seconds
    for thread in threads:
        thread.join(timeout=seconds + 2 * TIMEOUT + 10)
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--expect", type=int, default=200, help="expected status")
    args = parser.parse_args()
    users = [VirtualUser(args.port, f"vu{n}") for n in range(args.users)]

    def action(vu: VirtualUser) -> tuple[Response, bool]:
        response = vu.get(args.path)
        return response, response.status == args.expect

    result = run_load(
        args.path, users, action, seconds=args.seconds, max_requests=args.max_requests
    )
    print(result.line())
    for sample in result.error_samples:
        print(f"  error: {sample}")


if __name__ == "__main__":
    main()
