"""Apprise channel: an alert as a title and a plain-text body to an Apprise URL (Teams,
Telegram, Matrix, Signal, ntfy, ... about a hundred services we would otherwise write one
by one), sent through the outbox like every channel: in order, retried with backoff, dead
letters.

Targets. `url_env` names a variable holding one or more Apprise URLs, comma or space
separated. Each URL is a delivery target of its own: config declares it as a channel
"<name>/<service>" ("field/tgram", a second tgram URL "field/tgram-2"), so one alert is one
outbox row per URL. A target that fails is retried alone; one that accepted is never sent
the alert again, by any instance, after any restart. (One row for all URLs would have to
resend to every URL, or keep per-URL state the outbox has no column for.) A URL naming
several recipients at once (`tgram://bot/chat1/chat2`) is refused at start for the same
reason: Apprise sends to them as one and reports one outcome.

Apprise is used as a library of senders, not as a dispatcher: each target's plugin is
called directly, with its retries off (whatever `?retry=` says), no async, no throttle of
its own (the channel's `rate_limit` paces it), the channel's `timeout` for its connect and
each read, and long bodies truncated (never split into several messages). Its logger
never reaches our logs: its records (which may carry hosts, tokens, payloads) are read in
the sending thread for the answer's status, then dropped; our messages name the channel
and the variable, never the URL.

Text. Feed text is cleaned and bounded by render.py, then sent as TEXT: Apprise escapes it
for targets that render HTML or Markdown, so a title cannot forge a link or markup. A word
joiner after every `@` and `<` of feed text keeps `@everyone`, `@room`, `<!channel>` from
notifying anyone; the alert's own validated links are left whole. Severity sets the
notify type: info and low "info", medium "warning", high and critical "failure"; a feed
that came back "success".
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from monitor.channels import http, render, slack
from monitor.channels.base import ChannelType, Clock, Env, SettingsReader, Transports
from monitor.errors import ConfigError, DeliveryError
from monitor.model import Alert, AlertKind, DeliveryResult, Severity, utcnow

KEYS = ("url_env", "timeout")
BODY_MAX = 4000  # whole lines (slack.join_lines); Apprise truncates to each service's limit
JOINER = "\u2060"  # word joiner: invisible, and no service reads "@\u2060room" as a mention
NOTIFY_TYPE = {
    Severity.INFO: "info",
    Severity.LOW: "info",
    Severity.MEDIUM: "warning",
    Severity.HIGH: "failure",
    Severity.CRITICAL: "failure",
}
_STATUS = re.compile(r"error=(\d{3})\b")
_UNREACHABLE = ("connection error", "socket exception", "timed out", "timeout")


@dataclass(frozen=True)
class AppriseSettings:
    """url_env's URLs (secrets: most carry a token), the variable's name, timeout."""

    urls: tuple[str, ...] = field(default=(), repr=False)
    var: str = ""  # what every message says instead of the URL
    timeout: float = 10.0

    def secrets(self) -> tuple[str, ...]:
        # The token is often the host part (tgram://BOT_TOKEN/chat, msteams://A/B/C), which
        # the log layer's URL splitting (path, query, user, password) leaves alone.
        hosts = [p for u in self.urls for p in _hosts(u)]
        return (*self.urls, *hosts)


def _hosts(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        return [x for x in (parts.netloc, parts.hostname) if x]
    except ValueError:
        return []


def read_settings(t: SettingsReader, name: str, env: Env) -> AppriseSettings:
    """url_env (required: one or more URLs Apprise can read) and timeout."""
    var = t.get("url_env", str, "")
    raw = t.secret("url_env", env, required=True, owner=f"channel {name}")
    settings = AppriseSettings((), var, t.duration("timeout", AppriseSettings.timeout))
    if not raw:
        return settings
    urls = tuple(_parse_urls(raw))
    if not urls:
        t.problem("url_env", f"channel {name}: {var} holds no Apprise URL")
    for n, url in enumerate(urls, 1):
        problem = _url_problem(url, settings.timeout)
        if problem:
            where = f"URL {n} of {len(urls)} in {var}" if len(urls) > 1 else f"the URL in {var}"
            t.problem("url_env", f"channel {name}: {where} {problem}")
    return replace(settings, urls=urls)


def _parse_urls(raw: str) -> list[str]:
    from apprise.utils import parse

    split: Any = parse.parse_urls  # untyped: comma, space or newline separated
    return [str(u) for u in split(raw) if u]


def _url_problem(url: str, timeout: float) -> str:
    """Why Apprise cannot use url as one target, in words without any part of it; "" if it can."""
    try:
        plugin = _plugin(url, timeout)
    except ValueError:
        return "is not a URL Apprise can read (check its service prefix, e.g. tgram://)"
    recipients = len(plugin)
    if recipients > 1:
        return (f"names {recipients} recipients: Apprise sends to them as one, so a retry "
                "would repeat the alert to those that had it; give each its own URL")  # fmt: skip
    return ""


def targets(settings: AppriseSettings) -> tuple[tuple[str, AppriseSettings], ...]:
    """One (suffix, settings) per URL, named by its service: "tgram", "tgram-2", "json"."""
    seen: dict[str, int] = {}
    out = []
    for url in settings.urls:
        scheme = url.partition("://")[0].lower() if "://" in url else "url"
        scheme = re.sub(r"[^a-z0-9+.-]", "", scheme)[:20] or "url"
        seen[scheme] = seen.get(scheme, 0) + 1
        suffix = scheme if seen[scheme] == 1 else f"{scheme}-{seen[scheme]}"
        out.append((suffix, replace(settings, urls=(url,))))
    return tuple(out)


@dataclass(frozen=True)
class ApprisePayload:
    """What the target is sent: title, plain-text body and Apprise's notify type."""

    alert_id: str
    title: str
    body: str
    notify_type: str


def defang(text: str, keep: frozenset[str] = frozenset()) -> str:
    """A word joiner after each `@` and `<`, except inside the words in keep (our links)."""
    words = text.split(" ")
    return " ".join(w if w in keep else w.replace("@", "@" + JOINER).replace("<", "<" + JOINER)
                    for w in words)  # fmt: skip


def _links(alert: Alert) -> frozenset[str]:
    found = [alert.item.link] if alert.item else []
    found += [s.link for s in alert.sources]
    return frozenset(x for x in (render.safe_link(link) for link in found) if x)


def notify_type(alert: Alert) -> str:
    return "success" if alert.kind == AlertKind.SOURCE_BACK else NOTIFY_TYPE[alert.severity]


def payload(alert: Alert) -> ApprisePayload:
    """Pure: the first plain line is the title, the rest the body (render.plain_lines)."""
    keep = _links(alert)
    lines = [defang(line, keep) for line in render.plain_lines(alert)]
    body = slack.join_lines(lines[1:], BODY_MAX)
    return ApprisePayload(alert.id, render.truncate(lines[0], 250), body, notify_type(alert))


class _Said(logging.Handler):
    """Apprise's log records of the thread that is sending, kept for that send only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines: list[str] | None = getattr(self.local, "lines", None)
        if lines is None or len(lines) >= 20:
            return  # outside a send (instantiating at start): dropped
        try:
            lines.append(record.getMessage()[:500])
        except Exception:  # a bad format string of a plugin must not fail the send
            lines.append(str(record.msg)[:500])

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        lines: list[str] = []
        self.local.lines = lines
        try:
            yield lines
        finally:
            self.local.lines = None


_SAID = _Said()


def _quiet() -> None:
    """Apprise's logger to WARNING and into _SAID only, never to our handlers or stderr."""
    logger = logging.getLogger("apprise")
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    if _SAID not in logger.handlers:
        logger.addHandler(_SAID)


def _plugin(url: str, timeout: float) -> Any:
    """The Apprise sender for url, set up as the module docstring says; ValueError if none."""
    import apprise

    _quiet()
    asset = apprise.AppriseAsset(async_mode=False, storage_mode="memory")
    plugin = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=True)
    if plugin is None:
        raise ValueError("not an Apprise URL")
    plugin.retry, plugin.wait = 0, 0.0  # the outbox retries, with backoff, durably
    plugin.request_rate_per_sec = 0
    plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout
    plugin.overflow_mode = apprise.OverflowMode.TRUNCATE
    return plugin


def _text() -> Any:
    import apprise

    return apprise.NotifyFormat.TEXT  # escaped by Apprise for HTML and Markdown targets


def failure(said: list[str], label: str, now: Clock = utcnow) -> DeliveryError:
    """What Apprise's records of a failed send mean: the answer's status when a plugin
    logged one (classified as every HTTP channel: monitor.channels.http), else unreachable."""
    for line in said:
        found = _STATUS.search(line)
        if found:
            status = int(found.group(1))
            if 200 <= status < 300:
                return DeliveryError(f"HTTP {status} from {label}, refused", retryable=False)
            return http.failure(http.Answer(status, {}, ""), label, now())
    if any(word in line.lower() for line in said for word in _UNREACHABLE):
        reason = f"{label} unreachable (connection failed or timed out)"
        return DeliveryError(reason, retryable=True)
    return DeliveryError(f"{label} failed without an answer Apprise could report", retryable=True)


class AppriseChannel:
    """Sends each alert to one Apprise URL (config makes one channel per URL)."""

    def __init__(self, name: str, settings: AppriseSettings, *, now: Clock = utcnow) -> None:
        self.name = name
        self.label = f"apprise '{name}'"
        self._now = now
        if len(settings.urls) > 1:  # config splits them: this is a caller's mistake
            raise ConfigError([f"channels.{name}.url_env: one URL per channel (see targets)"])
        try:
            self._plugin = _plugin(settings.urls[0], settings.timeout) if settings.urls else None
        except ValueError:
            var = settings.var or "url_env"
            raise ConfigError([f"channels.{name}.url_env: Apprise cannot read {var}"]) from None

    def build(self, alert: Alert) -> ApprisePayload:
        return payload(alert)

    def send(self, payload: ApprisePayload) -> DeliveryResult:
        """One notify() of the target's plugin; True is delivered, else DeliveryError."""
        if self._plugin is None:
            raise DeliveryError(f"{self.label} has no URL configured", retryable=False)
        with _SAID.capture() as said:
            try:
                ok = self._plugin.notify(
                    body=payload.body,
                    title=payload.title,
                    notify_type=payload.notify_type,
                    body_format=_text(),
                )
            except Exception as exc:  # a plugin's bug or refusal: its type only, never its text
                reason = f"{self.label}: Apprise raised {type(exc).__name__}"
                raise DeliveryError(reason, retryable=True) from None
        if ok:
            return DeliveryResult(f"delivered by {self.label}")
        raise failure(said, self.label, self._now)


def _make(name: str, settings: AppriseSettings, transports: Transports) -> AppriseChannel:
    return AppriseChannel(name, settings, now=transports.now)


# Apprise's own throttle is off; most services take about a message a second per target.
TYPE = ChannelType(KEYS, read_settings, _make, AppriseSettings, rate_limit=1.0, targets=targets)
