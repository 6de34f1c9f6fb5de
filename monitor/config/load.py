"""config.toml -> Config: strict keys, secrets by env-var name, every problem with its path."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from monitor.config.channels import ChannelConfig as ChannelConfig
from monitor.config.channels import ChannelType, channels_from
from monitor.config.reader import (
    Problems,
    Table,
    check_url,
    duration,
    parse_duration,
    read_fields,
    size,
)
from monitor.config.sections import (
    EvidenceConfig,
    ModelConfig,
    WebConfig,
    evidence_section,
    listen_of,
    model_section,
)
from monitor.config.sources import feed_language, feed_type
from monitor.errors import ConfigError
from monitor.model import FeedSpec

DEFAULT_USER_AGENT = "monitor/0.1 (atrocity early-warning feed monitor; +https://github.com/)"


@dataclass(frozen=True)
class StateConfig:
    path: Path | None = None  # SQLite file
    url_env: str | None = None  # env var holding a postgresql:// URL
    url: str | None = field(default=None, repr=False)  # resolved from url_env (secret)


@dataclass(frozen=True)
class Defaults:
    interval: float = duration(600.0)
    jitter: float = duration(30.0)
    connect_timeout: float = duration(10.0)
    read_timeout: float = duration(30.0)
    total_timeout: float = duration(60.0)  # whole fetch, so a trickling server is cut off
    parse_timeout: float = duration(20.0)
    max_body: int = size(10 * 2**20)
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    backfill: float | None = 2 * 86400.0  # None = "all"
    max_backoff: float = duration(6 * 3600.0)
    workers: int = 100  # polls in flight: a warm poll is one round trip, mostly waiting
    per_host: int = 2
    retention: float = duration(180 * 86400.0)
    silent_after: float | None = duration(None)  # no new item this long: the feed is "down"
    polite: bool = True  # honour <ttl>, sy:updatePeriod, Cache-Control max-age, Expires
    polite_cap: float = 4.0  # ... yet poll at least every polite_cap intervals


@dataclass(frozen=True)
class AlertsConfig:
    story_window: float = duration(72 * 3600.0)
    similarity: float = 88.0  # see dedup.py: stemmed token_set_ratio of titles / texts
    corroboration: int = 3  # sources that make a story corroborated (0 = never)
    retry_max_age: float = duration(48 * 3600.0)
    escalation_factor: float = 3.0
    escalation_min: int = 5
    feed_down_after: float = duration(6 * 3600.0)
    delivery_interval: float = duration(5.0)


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
    feed_secrets: tuple[str, ...] = field(default=(), repr=False)  # URLs read from url_env
    model: ModelConfig = field(default_factory=ModelConfig)
    web: WebConfig = field(default_factory=WebConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)

    @cached_property
    def feeds_by_name(self) -> dict[str, FeedSpec]:
        """The feeds by name: each poll job looks its feed up (thousands of feeds)."""
        return {f.name: f for f in self.feeds}

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so the log layer can redact them."""
        held = [v for c in self.channels if c.settings is not None for v in c.settings.secrets()]
        return tuple(v for v in [self.state.url, *held, *self.feed_secrets] if v)


def default_config_path() -> Path:
    return Path(os.environ.get("MONITOR_CONFIG") or "config.toml")


def load_config(
    path: Path,
    env: Mapping[str, str] | None = None,
    *,
    channel_types: Mapping[str, ChannelType],
    secrets: bool = True,
) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem.

    channel_types is the channel registry (monitor.channels.CHANNELS): each type reads
    its own keys of a [[channels]] table. secrets=False is for commands that send nothing
    and fetch nothing (status, retry, test-rules): a channel's or feed's environment
    variable that is not set is then no problem (its value stays None or "")."""
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
    config = _build(Table(data, "", problems, secrets=secrets), path, env, channel_types)
    if problems.items:
        raise ConfigError(problems.items)
    return config


def _build(
    root: Table, path: Path, env: Mapping[str, str], types: Mapping[str, ChannelType]
) -> Config:
    base = path.parent
    state_table = root.table("state")
    state_table.secrets_required = True  # every command that loads the config opens the store
    state = _state(state_table, base, env)
    defaults = _defaults(root.table("defaults"))
    rules = root.table("rules")
    rule_paths = tuple(base / p for p in rules.strings("paths", ("rules",)))
    rules.finish()
    feeds, feed_secrets = _feeds(root.tables("feeds"), defaults, env)
    channels = channels_from(root.tables("channels"), env, types)
    alerts = _alerts(root.table("alerts"))
    logging = _logging(root.table("logging"))
    listen = listen_of(root.table("metrics"), "127.0.0.1:9464")
    model = model_section(root.table("model"), base)
    web = root.table("web")
    console = WebConfig(
        listen_of(web, "127.0.0.1:8080", finish=False), web.get("secure_cookies", bool, False)
    )
    web.finish()
    evidence = evidence_section(root.table("evidence"))
    root.finish()
    return Config(
        path, state, defaults, alerts, feeds, rule_paths, channels, logging, listen, feed_secrets,
        model, console, evidence,
    )  # fmt: skip


def _state(t: Table, base: Path, env: Mapping[str, str]) -> StateConfig:
    raw_path = t.get("path", str, "")
    url_env = t.get("url_env", str, "") or None
    t.finish()
    if raw_path and url_env:
        t.problem("", "set either path (SQLite) or url_env (PostgreSQL), not both")
    if url_env:
        url = t.secret("url_env", env, required=False)
        if url and not url.startswith(("postgresql://", "postgres://")):
            t.problem("url_env", f"{url_env} must hold a postgresql:// URL")
        return StateConfig(None, url_env, url)
    return StateConfig(base / (raw_path or "state/monitor.db"))


def _defaults(t: Table) -> Defaults:
    d = Defaults()
    backfill_raw = t.get("backfill", (str, int, float), "2d")
    backfill = None if backfill_raw == "all" else _backfill(t, backfill_raw, d.backfill)
    out = read_fields(t, d, backfill=backfill)
    if out.interval < 1:
        t.problem("interval", "must be at least 1s")
    for name in ("connect_timeout", "read_timeout", "total_timeout", "parse_timeout"):
        if getattr(out, name) <= 0:
            t.problem(name, "must be more than 0s")
    if out.max_body < 1024:
        t.problem("max_body", "must be at least 1KiB; write e.g. 10MB")
    if out.max_redirects < 0:
        t.problem("max_redirects", "must be 0 or more")
    if not 1 <= out.polite_cap <= 1000:
        t.problem("polite_cap", "must be a number from 1 to 1000 (intervals)")
    if out.workers < 1 or out.per_host < 1:
        t.problem("workers", "workers and per_host must be at least 1")
    t.finish()
    return out


def _backfill(t: Table, raw: object, default: float | None) -> float | None:
    try:
        return parse_duration(raw)
    except ValueError as exc:
        t.problem("backfill", f'{exc} (or "all")')
        return default


def _feeds(
    tables: list[Table], defaults: Defaults, env: Mapping[str, str]
) -> tuple[tuple[FeedSpec, ...], tuple[str, ...]]:
    """The feeds, and the URLs among them read from the environment (secrets)."""
    feeds: list[FeedSpec] = []
    secret_urls: list[str] = []
    seen: dict[str, str] = {}
    for t in tables:
        name = t.get("name", str, "")
        if not name:
            t.problem("name", "missing; every feed needs a unique name")
        elif name in seen:
            t.problem("name", f'duplicate feed name "{name}" (also {seen[name]})')
        else:
            seen[name] = t.path
        url, secret = _feed_url(t, name, env)
        if secret and url:
            secret_urls.append(url)
        kind, selectors = feed_type(t, name)
        spec = FeedSpec(
            name=name,
            url=url,
            interval=t.duration("interval", defaults.interval),
            tags=t.strings("tags"),
            jitter=t.duration("jitter", defaults.jitter),
            silent_after=t.convert("silent_after", parse_duration, defaults.silent_after),
            polite=t.get("polite", bool, defaults.polite),
            polite_cap=float(t.get("polite_cap", float, defaults.polite_cap)),
            type=kind,
            selectors=selectors,
            fetch_articles=t.get("fetch_articles", bool, False),
            language=feed_language(t, name),
        )
        if spec.interval < 1:
            t.problem("interval", "must be at least 1s")
        if not 1 <= spec.polite_cap <= 1000:
            t.problem("polite_cap", "must be a number from 1 to 1000 (intervals)")
        feeds.append(spec)
        t.finish()
    return tuple(feeds), tuple(secret_urls)


def _feed_url(t: Table, name: str, env: Mapping[str, str]) -> tuple[str, bool]:
    """The feed's address, written (url) or, for a private feed whose URL carries a token,
    read from the environment variable named by url_env; True when it is a secret."""
    if t.has("url_env"):
        if t.has("url"):
            t.allow(["url"])
            t.problem("url_env", f"feed {name}: set either url or url_env, not both")
        return t.secret_url("url_env", env, required=True, owner=f"feed {name}") or "", True
    url = t.get("url", str, "")
    if not url:
        t.problem("url", 'missing; write the feed\'s http(s) address (or url_env = "VAR")')
    else:
        t.convert("url", check_url, "")
    return url, False


def _alerts(t: Table) -> AlertsConfig:
    out = read_fields(t, AlertsConfig())
    t.finish()
    return out


def _logging(t: Table) -> LoggingConfig:
    fmt = t.get("format", str, "auto")
    level = t.get("level", str, "info").lower()
    if fmt not in ("auto", "console", "json"):
        t.problem("format", f'"{fmt}" is not one of auto, console, json')
    if level not in ("debug", "info", "warning", "error"):
        t.problem("level", f'"{level}" is not one of debug, info, warning, error')
    t.finish()
    return LoggingConfig(fmt, level)
