"""One HTTP POST for the Slack and webhook channels: a total timeout, no redirects, a
bounded answer, and errors that name the channel but never its (secret) URL.

Classification shared by both channels (each adds its own success test):
  3xx                              permanent (redirects are not followed)
  408, 429, 5xx                    retryable, honouring Retry-After (seconds or HTTP-date)
  other 4xx                        permanent
  timeout, connection/TLS error    retryable
  malformed URL, other request bug permanent
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import requests
from urllib3.util import Timeout

from monitor.channels.base import Clock, Deadline, Env, SettingsReader, Transports, no_deadline
from monitor.errors import DeliveryError, retry_after
from monitor.model import utcnow

MAX_ANSWER = 64 * 1024  # bytes of the answer kept; receivers have nothing longer to say
KEYS = ("url_env", "timeout")


@dataclass(frozen=True)
class HttpSettings:
    """The keys of a channel that posts to one URL: url_env (names the secret URL), timeout."""

    url: str | None = field(default=None, repr=False)  # a secret: it carries the token
    timeout: float = 10.0

    def secrets(self) -> tuple[str, ...]:
        return (self.url,) if self.url else ()


def read_http(t: SettingsReader, name: str, env: Env) -> HttpSettings:
    """url_env (required, an http(s) URL) and timeout of one [[channels]] table."""
    url = t.secret_url("url_env", env, required=True, owner=f"channel {name}")
    return HttpSettings(url, t.duration("timeout", HttpSettings.timeout))


class HttpChannel:
    """What the Slack and webhook channels share: one secret URL, the session, the clock and
    the whole-send deadline; `kind` names the channel in every message ("slack 'ops'")."""

    kind = "http"
    url_noun = "URL"  # what a missing url_env lacks, in the channel's own words

    def __init__(
        self,
        name: str,
        settings: HttpSettings,
        *,
        session: requests.Session,
        now: Clock = utcnow,
        deadline: Deadline = no_deadline,
    ) -> None:
        self.name = name
        self._cfg = settings
        self._session = session
        self._deadline = deadline
        self._now = now
        self.label = f"{self.kind} '{name}'"
        self._setup()

    def _setup(self) -> None:
        """What a channel derives from its settings once (a signing key); checks them."""

    def _post(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        if not self._cfg.url:
            raise DeliveryError(f"{self.label} has no {self.url_noun} configured", retryable=False)
        return post(
            self._session,
            self._cfg.url,
            body,
            headers,
            timeout=self._cfg.timeout,
            label=self.label,
            deadline=self._deadline,
        )


def session_of(name: str, transports: Transports) -> requests.Session:
    if transports.session is None:
        raise ValueError(f"channel {name!r} needs an HTTP session")
    return transports.session


@dataclass(frozen=True)
class Answer:
    """What the server said: status, headers and the first MAX_ANSWER bytes of the body."""

    status: int
    headers: Mapping[str, str]
    body: str


class _DeadlineExceeded(Exception):
    pass


def post(
    session: requests.Session,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    label: str,
    deadline: Deadline = no_deadline,
) -> Answer:
    """POST body to url; the whole exchange, answer included, ends within about timeout s:
    `deadline` (the service gives one that shuts the socket when time is up) cuts off a
    receiver trickling its status line or headers, which no per-read timeout notices."""
    with deadline(timeout) as dog:
        try:
            return _post(session, url, body, headers, timeout)
        except Exception as exc:
            if getattr(dog, "expired", False) or isinstance(exc, requests.Timeout):
                exc = _DeadlineExceeded()
            raise _delivery_error(exc, timeout, label) from None


def _post(
    session: requests.Session, url: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> Answer:
    end = time.monotonic() + timeout
    # urllib3's total timeout bounds connect + wait for headers together; the body read
    # below checks the deadline between chunks. requests' stubs only know float | tuple.
    total = cast(Any, Timeout(total=timeout))
    with session.post(
        url, data=body, headers=dict(headers), timeout=total, allow_redirects=False, stream=True
    ) as resp:
        content = _read(resp, end)
        return Answer(resp.status_code, resp.headers, content.decode("utf-8", "replace"))


def _delivery_error(exc: Exception, timeout: float, label: str) -> Exception:
    """What a failed exchange means for delivery; never the URL (it is a secret)."""
    if isinstance(exc, _DeadlineExceeded):
        return DeliveryError(f"timeout after {timeout:g}s from {label}", retryable=True)
    if isinstance(exc, requests.ConnectionError):
        reason = f"connection failed to {label} ({type(exc).__name__})"
        return DeliveryError(reason, retryable=True)
    if isinstance(exc, requests.RequestException):
        reason = f"request to {label} could not be made ({type(exc).__name__}); check its URL"
        return DeliveryError(reason, retryable=False)
    return exc


def _read(resp: requests.Response, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(8192):
        if time.monotonic() > deadline:
            raise _DeadlineExceeded
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_ANSWER:
            break
    return b"".join(chunks)[:MAX_ANSWER]


def failure(answer: Answer, label: str, now: datetime, detail: str = "") -> DeliveryError:
    """The DeliveryError for a non-success answer, classified per the module table."""
    status = answer.status
    reason = f"HTTP {status} from {label}" + (f": {detail}" if detail else "")
    if 300 <= status < 400:
        return DeliveryError(
            f"{reason} (redirect not followed; configure the final URL)", retryable=False
        )
    if status in (408, 429) or status >= 500:
        wait = retry_after(answer.headers.get("Retry-After"), now)
        return DeliveryError(reason, retryable=True, retry_after=wait)
    return DeliveryError(reason, retryable=False)


def short_code(body: str) -> str:
    """A receiver's short error code (e.g. Slack's "channel_not_found"), or "" for anything
    else: only a bare token is repeated in a reason, never an arbitrary (echoing) body."""
    text = body.strip()
    if 0 < len(text) <= 64 and all(c.isalnum() or c in "_-." for c in text):
        return text
    return ""
