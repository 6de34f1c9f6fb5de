"""[[channels]] tables -> ChannelConfig: type, routing filters, secrets from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config.reader import Table, check_url, parse_duration
from monitor.model import SEVERITY_NAMES, Severity

CHANNEL_TYPES = ("console", "slack", "webhook", "email")


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    type: str  # console | slack | webhook | email
    min_severity: Severity = Severity.INFO
    rules: tuple[str, ...] = ()  # routing: rule ids or themes (empty = all)
    tags: tuple[str, ...] = ()  # routing: feed tags
    countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # routing: alert kinds (empty = all)
    url: str | None = None  # resolved from url_env (secret)
    secret: str | None = None  # resolved from secret_env (secret)
    timeout: float = 10.0
    rate_limit: float = 0.0  # min seconds between two sends
    smtp_host: str = "localhost"
    smtp_port: int = 25
    tls: str = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str = "monitor@localhost"
    recipients: tuple[str, ...] = ()
    digest: str | None = None  # cron expression -> digest mode
    timezone: str = "UTC"
    immediate_severity: Severity | None = None
    color: bool | None = None


def channels_from(tables: list[Table], env: Mapping[str, str]) -> tuple[ChannelConfig, ...]:
    out: list[ChannelConfig] = []
    names: set[str] = set()
    for t in tables:
        ch = _channel(t, env)
        if ch.name in names:
            t.problems.add(t.key("name"), f'duplicate channel name "{ch.name}"')
        names.add(ch.name)
        out.append(ch)
    return tuple(out)


def _channel(t: Table, env: Mapping[str, str]) -> ChannelConfig:
    name = t.get("name", str, "")
    kind = t.get("type", str, "console")
    if not name:
        t.problems.add(t.key("name"), "missing; every channel needs a unique name")
    if kind not in CHANNEL_TYPES:
        t.problems.add(t.key("type"), f'"{kind}" is not one of {", ".join(CHANNEL_TYPES)}')
    d = ChannelConfig(name, kind)
    url = _secret(t, "url_env", name, env, required=kind in ("slack", "webhook"))
    if url:
        try:
            check_url(url)
        except ValueError:
            t.problems.add(t.key("url_env"), f"channel {name}: the URL in it is not http(s)")
    ch = ChannelConfig(
        name=name,
        type=kind,
        min_severity=t.convert("min_severity", _severity, d.min_severity),
        rules=t.strings("rules"),
        tags=t.strings("tags"),
        countries=tuple(c.upper() for c in t.strings("countries")),
        kinds=t.strings("kinds"),
        url=url,
        secret=_secret(t, "secret_env", name, env, required=False),
        timeout=t.convert("timeout", parse_duration, d.timeout),
        rate_limit=t.convert("rate_limit", parse_duration, 1.0 if kind == "slack" else 0.0),
        smtp_host=t.get("smtp_host", str, d.smtp_host),
        smtp_port=t.get("smtp_port", int, d.smtp_port),
        tls=t.get("tls", str, d.tls),
        username=t.get("username", str, "") or None,
        password=_secret(t, "password_env", name, env, required=False),
        sender=t.get("from", str, d.sender),
        recipients=t.strings("to"),
        digest=t.get("digest", str, "") or None,
        timezone=t.get("timezone", str, d.timezone),
        immediate_severity=t.convert("immediate_severity", _severity, None),
        color=t.get("color", bool, None),
    )
    _check_channel(t, ch)
    t.finish()
    return ch


def _check_channel(t: Table, ch: ChannelConfig) -> None:
    if ch.type == "email" and not ch.recipients:
        t.problems.add(t.key("to"), f"channel {ch.name}: email needs at least one recipient")
    if ch.tls not in ("starttls", "ssl", "none"):
        t.problems.add(t.key("tls"), f'"{ch.tls}" is not one of starttls, ssl, none')
    if ch.digest:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(ch.digest, timezone=ch.timezone)
        except (ValueError, LookupError) as exc:
            t.problems.add(t.key("digest"), f'"{ch.digest}" is not a cron expression ({exc})')


def _secret(
    t: Table, key: str, channel: str, env: Mapping[str, str], *, required: bool
) -> str | None:
    var = t.get(key, str, "")
    if not var:
        if required:
            t.problems.add(t.key(key), f"channel {channel}: missing; name the environment variable")
        return None
    value = env.get(var)
    if not value:
        t.problems.add(t.key(key), f"channel {channel}: environment variable {var} is not set")
        return None
    return value


def _severity(value: Any) -> Severity:
    if isinstance(value, str) and value.strip().lower() in SEVERITY_NAMES:
        return Severity.parse(value)
    raise ValueError(f"{value!r} is not one of {', '.join(SEVERITY_NAMES)}")
