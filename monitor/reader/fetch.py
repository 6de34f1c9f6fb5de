"""EDGE: conditional GET of one feed -> Fetched (304 => body None, failure => error set)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from monitor.errors import FetchError, retry_after
from monitor.model import FeedSpec, FeedState, Fetched, utcnow
from monitor.reader import addresses
from monitor.reader.deadline import WatchedPool, WatchedTLSPool, public_only, watchdog

REDIRECTS = (301, 302, 303, 307, 308)
RETRY_AFTER_STATUSES = (429, 503)
Resolver = Callable[[str], list[str]]
WallClock = Callable[[], datetime]


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetch; from [defaults] in the config."""

    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_body: int = 10 * 2**20
    max_redirects: int = 5


def make_session(policy: FetchPolicy, pool_size: int = 16) -> requests.Session:
    """One Session for every feed: connection reuse, our User-Agent, gzip."""
    session = requests.Session()
    session.headers.update(
        {
            "User-Agent": policy.user_agent,
            "Accept": "application/rss+xml, application/atom+xml, application/rdf+xml, "
            "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        }
    )
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    adapter.poolmanager.pool_classes_by_scheme = {"http": WatchedPool, "https": WatchedTLSPool}
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False  # never send feed traffic through a proxy from the environment
    return session


def fetch(
    session: requests.Session,
    spec: FeedSpec,
    state: FeedState,
    policy: FetchPolicy,
    clock: Callable[[], float] = time.monotonic,
    resolve: Resolver | None = None,
    wall: WallClock = utcnow,
) -> Fetched:
    """Fetch one feed. Never raises for network or HTTP trouble: the result carries it.

    clock times the deadline; wall is the time of day a Retry-After date is counted from."""
    start = clock()
    with watchdog(policy.total_timeout) as dog:
        try:
            resp, url = _get_following(
                session, spec.url, _validators(state), policy, start, clock, resolve
            )
            with resp:
                fetched = _read(resp, spec, url, policy, start, clock, wall)
            if dog.expired:  # the socket was shut under a read that then saw "EOF"
                raise FetchError(_deadline_text(policy))
            return fetched
        except FetchError as exc:
            return _failed(spec, exc.reason, exc.retry_after, clock() - start)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            # reading resp.raw ourselves means urllib3's errors arrive unwrapped by requests
            reason = _deadline_text(policy) if dog.expired else _describe(exc)
            return _failed(spec, reason, None, clock() - start)


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
        return "timed out"
    if isinstance(exc, urllib3.exceptions.DecodeError | requests.exceptions.ContentDecodingError):
        return "body does not match its Content-Encoding"
    return f"connection failed: {_short(exc)}"


def _deadline_text(policy: FetchPolicy) -> str:
    return f"total deadline of {policy.total_timeout:g}s exceeded"


def _validators(state: FeedState) -> dict[str, str]:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def _get_following(
    session: requests.Session,
    url: str,
    headers: dict[str, str],
    policy: FetchPolicy,
    start: float,
    clock: Callable[[], float],
    resolve: Resolver | None,
    origin: str | None = None,
) -> tuple[requests.Response, str]:
    """Follow redirects ourselves, so each hop is capped and checked for private targets:
    by name before the request, and by the address actually connected (deadline._vet).

    `url` is the operator's own address unless `origin` is given: then `url` came from a
    document fetched at `origin` (an item's link), and even its first hop must stay public
    unless the operator configured `origin` on a private address ("": an origin unknown to
    the config, never trusted)."""
    configured = origin or url
    trusted_private: bool | None = None  # decided on the first redirect, saving a lookup
    if origin is not None:
        trusted_private = bool(origin) and _is_private_host(
            urlsplit(origin).hostname or "", resolve
        )
        if not trusted_private and _is_private_host(urlsplit(url).hostname or "", resolve):
            raise FetchError(addresses.REFUSED_LINK, retryable=False)
    for hop in range(policy.max_redirects + 1):
        _check_deadline(start, clock, policy)
        with public_only((hop > 0 or origin is not None) and not trusted_private):
            resp = session.get(
                url,
                headers=headers,
                timeout=(policy.connect_timeout, policy.read_timeout),
                stream=True,
                allow_redirects=False,
            )
        if resp.status_code not in REDIRECTS:
            return resp, url
        location = resp.headers.get("Location")
        resp.close()
        if not location:
            raise FetchError(f"HTTP {resp.status_code} redirect without Location", retryable=True)
        url = urljoin(url, location)
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError("redirect to a non-http(s) address refused", retryable=False)
        if trusted_private is None:
            trusted_private = _is_private_host(urlsplit(configured).hostname or "", resolve)
        if not trusted_private and _is_private_host(urlsplit(url).hostname or "", resolve):
            raise FetchError(addresses.REFUSED, retryable=False)
    raise FetchError(f"more than {policy.max_redirects} redirects", retryable=True)


def _is_private_host(host: str, resolve: Resolver | None) -> bool:
    """True when host is, or resolves to, a loopback, private, link-local or reserved address.

    A name that does not resolve fails the fetch: counting it public would let the
    connect's own lookup reach anything."""
    if not host:
        return True
    found = [host] if _is_ip(host) else (resolve or _resolve)(host)
    if not found:
        raise FetchError("host name does not resolve (checking a redirect)", retryable=True)
    return any(addresses.is_private_text(addr) for addr in found)


def _is_ip(host: str) -> bool:
    try:
        addresses.parse(host)
    except ValueError:
        return False
    return True


def _resolve(host: str) -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]
    except OSError:
        return []  # unresolvable: _is_private_host fails the fetch


def _read(
    resp: requests.Response,
    spec: FeedSpec,
    url: str,
    policy: FetchPolicy,
    start: float,
    clock: Callable[[], float],
    wall: WallClock,
) -> Fetched:
    status = resp.status_code
    headers = {k.lower(): v for k, v in resp.headers.items()}
    if status == 304:
        # a 304 has no body; reading that nothing hands the connection back to the pool
        # (closing an unread response closes its socket: one new connection per warm poll)
        resp.raw.read(decode_content=False)
        return Fetched(
            spec.name,
            url,
            304,
            None,
            headers,
            headers.get("etag"),
            headers.get("last-modified"),
            clock() - start,
        )
    if status in RETRY_AFTER_STATUSES or status >= 500:
        wait = retry_after(headers.get("retry-after"), wall())
        raise FetchError(f"HTTP {status}", retryable=True, retry_after=wait)
    if status >= 400:
        raise FetchError(f"HTTP {status}", retryable=True)
    if status != 200:
        # e.g. ReliefWeb answers bot challenges with 202 and an empty body: not "no news"
        raise FetchError(f"HTTP {status} is not a feed response", retryable=True)
    body = _read_capped(resp, policy, start, clock)
    return Fetched(
        spec.name,
        url,
        status,
        body,
        headers,
        headers.get("etag"),
        headers.get("last-modified"),
        clock() - start,
    )


def _read_capped(
    resp: requests.Response, policy: FetchPolicy, start: float, clock: Callable[[], float]
) -> bytes:
    """Stream the decoded body, aborting past the size cap or the total deadline."""
    declared = resp.headers.get("Content-Length", "")
    if (
        declared.isdigit()
        and int(declared) > policy.max_body
        and not resp.headers.get("Content-Encoding")
    ):
        raise FetchError(f"body of {declared} bytes is over the {policy.max_body}-byte cap")
    chunks: list[bytes] = []
    size = 0
    # read1 returns as soon as one socket read yields data, so a server that trickles
    # bytes cannot hold us past the deadline (requests' timeout is per read).
    while chunk := resp.raw.read1(65536, decode_content=True):
        size += len(chunk)
        if size > policy.max_body:
            raise FetchError(f"body over the {policy.max_body}-byte cap")
        chunks.append(chunk)
        _check_deadline(start, clock, policy)
    return b"".join(chunks)


def _check_deadline(start: float, clock: Callable[[], float], policy: FetchPolicy) -> None:
    if clock() - start > policy.total_timeout:
        raise FetchError(f"total deadline of {policy.total_timeout:g}s exceeded")


def _failed(spec: FeedSpec, reason: str, after: float | None, elapsed: float) -> Fetched:
    return Fetched(spec.name, spec.url, None, None, {}, None, None, elapsed, reason, after)


def _short(exc: Exception) -> str:
    """A bounded, one-line description of a requests error (no URL query strings)."""
    text = type(exc).__name__
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", None)
    if reason is not None:
        text += f" ({type(reason).__name__})"
    return text[:200]
