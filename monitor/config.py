"""config.toml -> Config: strict keys, secrets by env-var name, every problem with its path."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.model import SEVERITY_NAMES, FeedSpec, Severity
from monitor.settings import Problems, Table, check_url, parse_duration, parse_size

CHANNEL_TYPES = ("console", "slack", "webhook", "email")
DEFAULT_USER_AGENT = "monitor/0.1 (atrocity early-warning feed monitor; +https://github.com/)"


@dataclass(frozen=True)
class StateConfig:
    path: Path | None = None  # SQLite file
    url_env: str | None = None  # env var holding a postgresql:// URL
    url: str | None = None  # resolved from url_env (secret)


@dataclass(frozen=True)
class Defaults:
    interval: float = 600.0
    jitter: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0  # whole fetch, so a trickling server is cut off
    parse_timeout: float = 20.0
    max_body: int = 10 * 2**20
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    backfill: float | None = 2 * 86400.0  # None = "all"
    max_backoff: float = 6 * 3600.0
    workers: int = 32  # polls in flight: a warm poll is one round trip, mostly waiting
    per_host: int = 2
    retention: float = 180 * 86400.0
    silent_after: float | None = None  # a feed with no new item this long is "down"


@dataclass(frozen=True)
class AlertsConfig:
    story_window: float = 72 * 3600.0
    similarity: float = 88.0  # see dedup.py: stemmed token_set_ratio of titles / texts
    corroboration: int = 3  # sources that make a story corroborated (0 = never)
    retry_max_age: float = 48 * 3600.0
    escalation_factor: float = 3.0
    escalation_min: int = 5
    feed_down_after: float = 6 * 3600.0
    delivery_interval: float = 5.0


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


@dataclass(frozen=True)
class LoggingConfig:
    format: str = "auto"  # auto | console | json
    level: str = "info"


@dataclass(frozen=True)
class Config:
    file: Path
    state: StateConfig
    defaults: Defaults
    alerts: AlertsConfig
    feeds: tuple[FeedSpec, ...]
    rule_paths: tuple[Path, ...]
    channels: tuple[ChannelConfig, ...]
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    metrics_listen: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so the log layer can redact them."""
        vals = [self.state.url] + [v for c in self.channels for v in (c.url, c.secret, c.password)]
        return tuple(v for v in vals if v)


def default_config_path() -> Path:
    return Path(os.environ.get("MONITOR_CONFIG") or "config.toml")


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem."""
    env = os.environ if env is None else env
    problems = Problems(str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: file not found; pass -c CONFIG or set MONITOR_CONFIG"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: TOML syntax error: {exc}"]) from None
    config = _build(Table(data, "", problems), path, env)
    if problems.items:
        raise ConfigError(problems.items)
    return config


def _build(root: Table, path: Path, env: Mapping[str, str]) -> Config:
    base = path.parent
    state = _state(root.table("state"), base, env)
    defaults = _defaults(root.table("defaults"))
    rules = root.table("rules")
    rule_paths = tuple(base / p for p in rules.strings("paths", ("rules",)))
    rules.finish()
    feeds = _feeds(root.tables("feeds"), defaults)
    channels = _channels(root.tables("channels"), env)
    alerts = _alerts(root.table("alerts"))
    logging = _logging(root.table("logging"))
    metrics = root.table("metrics")
    listen = metrics.get("listen", str, "") or None
    if listen and ":" not in listen:
        root.problems.add("metrics.listen", f'"{listen}" must be HOST:PORT, e.g. 127.0.0.1:9464')
    metrics.finish()
    root.finish()
    return Config(path, state, defaults, alerts, feeds, rule_paths, channels, logging, listen)


def _state(t: Table, base: Path, env: Mapping[str, str]) -> StateConfig:
    raw_path = t.get("path", str, "")
    url_env = t.get("url_env", str, "") or None
    t.finish()
    if raw_path and url_env:
        t.problems.add("state", "set either path (SQLite) or url_env (PostgreSQL), not both")
    if url_env:
        url = env.get(url_env)
        if not url:
            t.problems.add("state.url_env", f"environment variable {url_env} is not set")
        elif not url.startswith(("postgresql://", "postgres://")):
            t.problems.add("state.url_env", f"{url_env} must hold a postgresql:// URL")
        return StateConfig(None, url_env, url)
    return StateConfig(base / (raw_path or "state/monitor.db"))


def _defaults(t: Table) -> Defaults:
    d = Defaults()
    backfill_raw = t.get("backfill", (str, int, float), "2d")
    backfill = None if backfill_raw == "all" else _duration(t, "backfill", backfill_raw, d.backfill)
    out = Defaults(
        interval=t.convert("interval", parse_duration, d.interval),
        jitter=t.convert("jitter", parse_duration, d.jitter),
        connect_timeout=t.convert("connect_timeout", parse_duration, d.connect_timeout),
        read_timeout=t.convert("read_timeout", parse_duration, d.read_timeout),
        total_timeout=t.convert("total_timeout", parse_duration, d.total_timeout),
        parse_timeout=t.convert("parse_timeout", parse_duration, d.parse_timeout),
        max_body=t.convert("max_body", parse_size, d.max_body),
        max_redirects=t.get("max_redirects", int, d.max_redirects),
        user_agent=t.get("user_agent", str, d.user_agent),
        backfill=backfill,
        max_backoff=t.convert("max_backoff", parse_duration, d.max_backoff),
        workers=t.get("workers", int, d.workers),
        per_host=t.get("per_host", int, d.per_host),
        retention=t.convert("retention", parse_duration, d.retention),
        silent_after=t.convert("silent_after", parse_duration, d.silent_after),
    )
    if out.interval < 1:
        t.problems.add(t.key("interval"), "must be at least 1s")
    for name in ("connect_timeout", "read_timeout", "total_timeout", "parse_timeout"):
        if getattr(out, name) <= 0:
            t.problems.add(t.key(name), "must be more than 0s")
    if out.max_body < 1024:
        t.problems.add(t.key("max_body"), "must be at least 1KiB; write e.g. 10MB")
    if out.max_redirects < 0:
        t.problems.add(t.key("max_redirects"), "must be 0 or more")
    if out.workers < 1 or out.per_host < 1:
        t.problems.add(t.key("workers"), "workers and per_host must be at least 1")
    t.finish()
    return out


def _duration(t: Table, name: str, raw: object, default: float | None) -> float | None:
    try:
        return parse_duration(raw)
    except ValueError as exc:
        t.problems.add(t.key(name), f'{exc} (or "all")' if name == "backfill" else str(exc))
        return default


def _feeds(tables: list[Table], defaults: Defaults) -> tuple[FeedSpec, ...]:
    feeds: list[FeedSpec] = []
    seen: dict[str, str] = {}
    for t in tables:
        name = t.get("name", str, "")
        url = t.get("url", str, "")
        if not name:
            t.problems.add(t.key("name"), "missing; every feed needs a unique name")
        elif name in seen:
            t.problems.add(t.key("name"), f'duplicate feed name "{name}" (also {seen[name]})')
        else:
            seen[name] = t.path
        if not url:
            t.problems.add(t.key("url"), "missing; write the feed's http(s) address")
        else:
            t.convert("url", check_url, "")
        spec = FeedSpec(
            name=name,
            url=url,
            interval=t.convert("interval", parse_duration, defaults.interval),
            tags=t.strings("tags"),
            jitter=t.convert("jitter", parse_duration, defaults.jitter),
            silent_after=t.convert("silent_after", parse_duration, defaults.silent_after),
        )
        if spec.interval < 1:
            t.problems.add(t.key("interval"), "must be at least 1s")
        feeds.append(spec)
        t.finish()
    return tuple(feeds)


def _channels(tables: list[Table], env: Mapping[str, str]) -> tuple[ChannelConfig, ...]:
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


def _alerts(t: Table) -> AlertsConfig:
    d = AlertsConfig()
    out = AlertsConfig(
        story_window=t.convert("story_window", parse_duration, d.story_window),
        similarity=t.get("similarity", float, d.similarity),
        corroboration=t.get("corroboration", int, d.corroboration),
        retry_max_age=t.convert("retry_max_age", parse_duration, d.retry_max_age),
        escalation_factor=t.get("escalation_factor", float, d.escalation_factor),
        escalation_min=t.get("escalation_min", int, d.escalation_min),
        feed_down_after=t.convert("feed_down_after", parse_duration, d.feed_down_after),
        delivery_interval=t.convert("delivery_interval", parse_duration, d.delivery_interval),
    )
    t.finish()
    return out


def _logging(t: Table) -> LoggingConfig:
    fmt = t.get("format", str, "auto")
    level = t.get("level", str, "info").lower()
    if fmt not in ("auto", "console", "json"):
        t.problems.add(t.key("format"), f'"{fmt}" is not one of auto, console, json')
    if level not in ("debug", "info", "warning", "error"):
        t.problems.add(t.key("level"), f'"{level}" is not one of debug, info, warning, error')
    t.finish()
    return LoggingConfig(fmt, level)
