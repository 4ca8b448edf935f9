"""What is the same for every learner, kept in the shared cache (Redis in production).

Course outlines (courses.selectors.published_courses), the course and module above a page
(courses.selectors.page_parents), the parts of a lesson body that do not depend on who reads
them (courses.selectors.lesson_body), the type of the page at a URL path (pathways.models) and
the sites (pathways.middleware) are kept under keys that carry the *content version*: a token
that every change to what they are read from replaces (`content_changed`, called by
courses.receivers on saving or deleting a page, a site, a view restriction, a scenario, an
image or a document, and on moving a page). A request
after a change therefore never reads an entry made before it; old entries are never updated in
place, they are unreachable and expire (ENTRY_SECONDS). The version expires too
(VERSION_SECONDS): a change the cache missed (it did not answer when the change was made) is
seen that long after at most.

Nothing about one officer goes in: their progress, answers, attempts and force's local texts
are read for each request. An entry that depends on a jurisdiction has it in its key.

Each process also keeps the entries it read last in memory (LOCAL_ENTRIES of them, under the
same keys): a request then reads the version once from the shared cache (`request_scope`), and
the entries it needs from memory. The entries are shared between requests and must not be
changed by their readers.

PATHWAYS_CONTENT_CACHE turns this off (every read goes to the database), for several
processes that do not share a cache: a change seen by one would not reach the others.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "pathways:content:version"
# The version itself expires: should the cache miss a change (a write that failed while the
# change committed), what was kept before it is read for this long at most.
VERSION_SECONDS = 10 * 60
ENTRY_SECONDS = 24 * 60 * 60
LOCAL_ENTRIES = 500

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# The version as this request read it (request_scope), so that it is read once per request.
_request: ContextVar[dict[str, str] | None] = ContextVar("pathways_content", default=None)
_local: OrderedDict[str, Any] = OrderedDict()
_local_lock = threading.Lock()


def enabled() -> bool:
    return bool(getattr(settings, "PATHWAYS_CONTENT_CACHE", False))


@contextmanager
def request_scope() -> Iterator[None]:
    """Read the content version at most once in this block (one request)."""
    token = _request.set({})
    try:
        yield
    finally:
        _request.reset(token)


def content_version() -> str | None:
    """The current content version (None: the content cache is off, or does not answer).

    Read it before reading what is to be kept under it: a change made after that replaces it
    (again when it commits), so an entry made from rows read before the change is never found
    under the version that follows the change."""
    if not enabled():
        return None
    scope = _request.get()
    if scope is not None and "version" in scope:
        return scope["version"]
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            version = secrets.token_hex(8)
            if not cache.add(VERSION_KEY, version, timeout=VERSION_SECONDS):
                version = cache.get(VERSION_KEY) or version
    except Exception:  # noqa: BLE001 - the pages still work, from the database
        logger.warning("The content cache does not answer: reading from the database.")
        return None
    if scope is not None:
        scope["version"] = version
    return version


def _new_version() -> None:
    version = secrets.token_hex(8)
    scope = _request.get()
    if scope is not None:  # the rest of the request that made the change sees it too
        scope["version"] = version
    try:
        cache.set(VERSION_KEY, version, timeout=VERSION_SECONDS)
    except Exception:  # noqa: BLE001 - the change itself must not fail for this
        logger.exception("The content cache did not take a change of content.")


def content_changed() -> None:
    """Make every entry kept so far unreachable: now, and again once the transaction making
    the change commits (a request that read the old rows before the commit may have kept them
    under the version set now)."""
    if not enabled():
        return
    _new_version()
    transaction.on_commit(_new_version)


def entry_key(version: str, kind: str, *parts: Hashable) -> str:
    return ":".join(["pathways:content", version, kind, *(str(part) for part in parts)])


def get_or_build_many(
    kind: str, ids: Iterable[K], build: Callable[[list[K]], dict[K, V]]
) -> dict[K, V]:
    """The entries of this kind for `ids`: those kept, and the others from `build(missing)`
    (which returns the ones that exist), kept for the next request. One cache round trip to
    read, one to write what was missing; `build` alone when the content cache is off."""
    ids = list(dict.fromkeys(ids))
    version = content_version()
    if version is None or not ids:
        return build(ids) if ids else {}
    keys = {entry_key(version, kind, i): i for i in ids}
    result: dict[K, V] = {keys[key]: value for key, value in _get_many(list(keys)).items()}
    missing = [i for i in ids if i not in result]
    if missing:
        built = build(missing)
        _set_many({entry_key(version, kind, i): value for i, value in built.items()})
        result.update(built)
    return result


def get_or_build(kind: str, key: Hashable, build: Callable[[], Any]) -> Any:
    """One entry (`build()` when it is not kept; None is never kept)."""
    version = content_version()
    if version is None:
        return build()
    full_key = entry_key(version, kind, key)
    value = _get_many([full_key]).get(full_key)
    if value is None:
        value = build()
        if value is not None:
            _set_many({full_key: value})
    return value


def get_kept(kind: str, key: Hashable) -> Any:
    """One entry if it is kept (None if not, or if the content cache is off)."""
    return get_or_build(kind, key, lambda: None) if enabled() else None


def _get_many(keys: list[str]) -> dict[str, Any]:
    """The entries kept under these keys: from this process's memory, else the shared cache."""
    found: dict[str, Any] = {}
    with _local_lock:
        for key in keys:
            if key in _local:
                _local.move_to_end(key)
                found[key] = _local[key]
    wanted = [key for key in keys if key not in found]
    if wanted:
        try:
            shared = cache.get_many(wanted)
        except Exception:  # noqa: BLE001 - read from the database instead
            logger.warning("The content cache does not answer: reading from the database.")
            shared = {}
        _remember(shared)
        found.update(shared)
    return found


def _set_many(entries: dict[str, Any]) -> None:
    _remember(entries)
    try:
        cache.set_many(entries, timeout=ENTRY_SECONDS)
    except Exception:  # noqa: BLE001 - kept next time
        logger.warning("The content cache does not answer: nothing kept.")


def _remember(entries: dict[str, Any]) -> None:
    with _local_lock:
        for key, value in entries.items():
            _local[key] = value
            _local.move_to_end(key)
        while len(_local) > LOCAL_ENTRIES:
            _local.popitem(last=False)
