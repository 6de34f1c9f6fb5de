"""Composition: Config + rules -> store, session, parser, channels, poller, deliverer."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import requests

from monitor import log
from monitor.alerts.route import route
from monitor.channels import CHANNELS, make_channel
from monitor.config.load import ChannelConfig, Config, load_config
from monitor.deliver import Channel, Deliverer
from monitor.errors import ConfigError
from monitor.match.matcher import Matcher
from monitor.model import Alert
from monitor.reader.fetch import FetchPolicy, make_session
from monitor.reader.pool import ParsePool
from monitor.reader.procs import pid_alive
from monitor.rules.load import load_rules
from monitor.rules.model import RuleSet
from monitor.service.poller import Poller, PollSettings
from monitor.store import Router, Store, StoryPolicy, open_store


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Instance:
    """Who this process is, for leases and `monitor status` when instances share a store."""

    owner: str
    host: str
    pid: int
    started: datetime

    @classmethod
    def current(cls) -> Instance:
        host, pid = socket.gethostname(), os.getpid()
        return cls(f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host, pid, utcnow())


@dataclass(frozen=True)
class Loaded:
    """A validated config with its compiled rules: what a reload swaps in whole."""

    config: Config
    rules: RuleSet
    matcher: Matcher


def load(path: Path, rules_override: list[Path] | None = None) -> Loaded:
    """Validate config and rules together; ConfigError lists every problem of both."""
    problems: list[str] = []
    try:
        config = load_config(path, channel_types=CHANNELS)
    except ConfigError as exc:
        problems.extend(exc.problems)
        config = None
    rule_paths = rules_override or (list(config.rule_paths) if config else [])
    try:
        rules = load_rules(rule_paths)
    except ConfigError as exc:
        problems.extend(exc.problems)
        rules = None
    if problems or config is None or rules is None:
        raise ConfigError(problems)
    log.set_secrets(config.secrets())  # before anything can print or log a channel's answer
    return Loaded(config, rules, Matcher(rules))


def policy_of(config: Config) -> FetchPolicy:
    d = config.defaults
    return FetchPolicy(
        d.user_agent,
        d.connect_timeout,
        d.read_timeout,
        d.total_timeout,
        d.max_body,
        d.max_redirects,
    )


def store_of(config: Config) -> Store:
    target = config.state.url or str(config.state.path)
    # polls spend their time on the network, not in the store: a few connections serve
    # many workers (and several instances can share one PostgreSQL)
    return open_store(target, pool_size=min(config.defaults.workers, 8) + 2)


def make_router(channels: tuple[ChannelConfig, ...]) -> Router:
    """Alert -> (channels to send now, digest channels to hold it for)."""
    by_name = {c.name: c for c in channels}

    def router(alert: Alert) -> tuple[tuple[str, ...], tuple[str, ...]]:
        send: list[str] = []
        hold: list[str] = []
        for name in route(alert, channels):
            c = by_name[name]
            immediate = c.immediate_severity is not None and alert.severity >= c.immediate_severity
            (hold if c.digest and not immediate else send).append(name)
        return tuple(send), tuple(hold)

    return router


def make_channels(
    config: Config,
    session: requests.Session,
    smtp_factory: Any = None,
    stream: TextIO | None = None,
) -> dict[str, Channel]:
    return {
        c.name: make_channel(
            c, session=session, smtp_factory=smtp_factory, now=utcnow, stream=stream
        )
        for c in config.channels
    }


@dataclass
class Runtime:
    loaded: Loaded
    store: Store
    session: requests.Session
    parser: ParsePool
    channels: dict[str, Channel]
    poller: Poller
    deliverer: Deliverer
    instance: Instance

    @property
    def config(self) -> Config:
        return self.loaded.config

    def swap(self, loaded: Loaded, channels: dict[str, Channel]) -> None:
        """Install a new, fully built config and rule set (reload)."""
        self.loaded = loaded
        self.channels = channels
        self.poller.matcher = loaded.matcher
        self.poller.router = make_router(loaded.config.channels)
        self.poller.settings = poll_settings(loaded.config)
        self.deliverer.channels = channels
        self.deliverer.rate_limits = {c.name: c.rate_limit for c in loaded.config.channels}

    def reclaim_dead_local_leases(self) -> int:
        """Free leases and claims of earlier processes on this host that are gone (killed, or
        crashed): without this, a restart after SIGKILL would wait out their leases."""
        freed = 0
        owners = {lease.owner for lease in self.store.leases()}
        for owner in owners - {self.instance.owner}:
            host, _, rest = owner.partition(":")
            pid = rest.partition(":")[0]
            if host == self.instance.host and pid.isdigit() and not pid_alive(int(pid)):
                freed += self.store.release_all(owner)
        return freed

    def close(self) -> None:
        self.parser.close()
        self.session.close()
        self.store.close()


def poll_settings(config: Config) -> PollSettings:
    a, d = config.alerts, config.defaults
    return PollSettings(
        backfill=d.backfill,
        max_backoff=d.max_backoff,
        feed_down_after=a.feed_down_after,
        story=StoryPolicy(a.story_window, a.similarity, a.corroboration),
        per_host=d.per_host,
        lease=d.total_timeout + d.parse_timeout + 30.0,
    )


def build(
    loaded: Loaded,
    *,
    now: Callable[[], datetime] = utcnow,
    parse_workers: int = 2,
    smtp_factory: Any = None,
    stream: TextIO | None = None,
) -> Runtime:
    config = loaded.config
    policy = policy_of(config)
    # one kept-alive connection pool per server: fewer pools than hosts and the least
    # recently used host's connections are closed, so every poll opens a new one
    hosts = len({urlsplit(f.url).netloc for f in config.feeds}) + len(config.channels)
    session = make_session(policy, pool_size=max(16, config.defaults.workers * 2, hosts))
    store = store_of(config)
    parser = ParsePool(parse_workers, config.defaults.parse_timeout)
    channels = make_channels(config, session, smtp_factory, stream)
    instance = Instance.current()
    poller = Poller(
        store,
        session,
        policy,
        parser,
        loaded.matcher,
        make_router(config.channels),
        poll_settings(config),
        now,
        instance.owner,
    )
    deliverer = Deliverer(
        store,
        channels,
        {c.name: c.rate_limit for c in config.channels},
        now,
        config.alerts.retry_max_age,
        owner=instance.owner,
    )
    return Runtime(loaded, store, session, parser, channels, poller, deliverer, instance)
