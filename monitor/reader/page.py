"""EDGE: one web page (an item's article) fetched through the feeds' own edge: the private-
address guard on every hop, the size cap, the total deadline; and a web archive asked to
save a page. Never raises for network or HTTP trouble: the answer carries it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from monitor.errors import FetchError
from monitor.model import utcnow
from monitor.model.evidence import ArchiveAnswer
from monitor.reader import fetch as edge
from monitor.reader.deadline import watchdog

ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class Page:
    """What one page fetch gave. `body` is the raw bytes of a 2xx answer (None otherwise);
    `error` is set whenever no page was read (the HTTP status, when there was one, kept)."""

    url: str  # the address asked for
    final_url: str | None  # after redirects; None when no server answered
    status: int | None
    body: bytes | None
    content_type: str
    fetched_at: datetime
    error: str | None = None

    @property
    def size(self) -> int:
        return len(self.body or b"")


def fetch_page(
    session: requests.Session,
    url: str,
    policy: edge.FetchPolicy,
    *,
    origin: str | None,
    wall: Callable[[], datetime] = utcnow,
    clock: Callable[[], float] = time.monotonic,
    resolve: edge.Resolver | None = None,
) -> Page:
    """GET `url` as the feeds are fetched. `origin` is the configured address the link came
    from (its feed's URL): the link may reach a private address only when that one is
    private; None when the link is unknown to the config (then it must be public)."""
    start, at = clock(), wall()
    with watchdog(policy.total_timeout) as dog:
        try:
            resp, final = edge._get_following(
                session, url, {"Accept": ACCEPT_HTML}, policy, start, clock, resolve, origin or ""
            )
            with resp:
                page = _read(resp, url, final, policy, start, clock, at)
            if dog.expired:
                raise FetchError(edge._deadline_text(policy))
            return page
        except FetchError as exc:
            return Page(url, None, None, None, "", at, exc.reason)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            reason = edge._deadline_text(policy) if dog.expired else edge._describe(exc)
            return Page(url, None, None, None, "", at, reason)


def _read(
    resp: requests.Response,
    url: str,
    final: str,
    policy: edge.FetchPolicy,
    start: float,
    clock: Callable[[], float],
    at: datetime,
) -> Page:
    kind = resp.headers.get("Content-Type", "")[:200]
    if not 200 <= resp.status_code < 300:
        return Page(url, final, resp.status_code, None, kind, at, f"HTTP {resp.status_code}")
    body = edge._read_capped(resp, policy, start, clock)
    return Page(url, final, resp.status_code, body, kind, at)


def ask_archive(
    session: requests.Session,
    endpoint: str,
    url: str,
    policy: edge.FetchPolicy,
    wall: Callable[[], datetime] = utcnow,
) -> ArchiveAnswer:
    """Ask the archive at `endpoint` (e.g. https://web.archive.org/save/) to save `url`: one
    GET of endpoint + url, its redirect not followed (the Location names the copy; reading
    the copy is not our business). The endpoint is the operator's, so it may be private."""
    at = wall()
    with watchdog(policy.total_timeout) as dog:
        try:
            resp = session.get(
                endpoint + url,
                timeout=(policy.connect_timeout, policy.read_timeout),
                allow_redirects=False,
                stream=True,
            )
            with resp:
                where = resp.headers.get("Content-Location") or resp.headers.get("Location")
                status = resp.status_code
            copy = urljoin(endpoint, where) if where else None
            if copy and urlsplit(copy).scheme not in ("http", "https"):
                copy = None
            error = None if status < 400 else f"HTTP {status}"
            return ArchiveAnswer(status, copy, error, at)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            reason = edge._deadline_text(policy) if dog.expired else edge._describe(exc)
            return ArchiveAnswer(None, None, reason, at)
