"""The one composition root: config + rules -> the long-lived parts (store, session, parse
pool, poller, deliverer, metrics) and the Bundle of what a reload replaces."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import requests

from monitor import log
from monitor.channels import CHANNELS
from monitor.config import preflight
from monitor.config.load import Config, load_config
from monitor.deliver import Deliverer
from monitor.errors import ConfigError
from monitor.match.decision import Screen, screen
from monitor.model import Fetched, PollResult, utcnow
from monitor.reader.fetch import FetchPolicy, make_session
from monitor.reader.pool import ParsePool
from monitor.reader.procs import pid_alive
from monitor.rules.load import load_rules
from monitor.rules.model import RuleSet
from monitor.service.bundle import Bundle, Live, make_bundle, make_channels
from monitor.service.evidence import Capturer
from monitor.service.metrics import Metrics
from monitor.service.poller import Poller
from monitor.store import SaveOutcome, Store, open_store

Clock = Callable[[], datetime]
Mono = Callable[[], float]


@dataclass(frozen=True)
class Instance:
    """Who this process is, for leases and `monitor status` when instances share a store."""

    owner: str
    host: str
    pid: int
    started: datetime

    @classmethod
    def current(cls, now: Clock = utcnow) -> Instance:
        host, pid = socket.gethostname(), os.getpid()
        return cls(f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host, pid, now())


@dataclass(frozen=True)
class Loaded:
    """A validated config with its compiled rules: what a reload builds first."""

    config: Config
    rules: RuleSet
    matcher: Screen


def load(
    path: Path, rules_override: list[Path] | None = None, *, read_only: bool = False
) -> Loaded:
    """Validate config and rules together; ConfigError lists every problem of both.

    read_only is for commands that only look at the state (status, retry): they need no
    channel or feed secrets, and a config that would misroute alerts does not stop an
    operator from seeing the queue; `check`, start and reload get every check."""
    problems: list[str] = []
    try:
        config = load_config(path, channel_types=CHANNELS, secrets=not read_only)
    except ConfigError as exc:
        problems.extend(exc.problems)
        config = None
    rule_paths = rules_override or (list(config.rule_paths) if config else [])
    try:
        rules = load_rules(rule_paths)
    except ConfigError as exc:
        problems.extend(exc.problems)
        rules = None
    if config is not None and rules is not None and not read_only:
        problems.extend(preflight.problems(config, rules))
    if problems or config is None or rules is None:
        raise ConfigError(problems)
    log.set_secrets(config.secrets())  # before anything can print or log a channel's answer
    m = config.model
    judge = screen(rules, m.enabled, m.path, m.veto, m.alone, m.alone_headline)
    return Loaded(config, rules, judge)


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


def store_of(config: Config, *, create: bool = True) -> Store:
    """The configured store; create=False for commands that must never create state."""
    target = config.state.url or str(config.state.path)
    # polls spend their time on the network, not in the store: a few connections serve
    # many workers (and several instances can share one PostgreSQL)
    return open_store(target, pool_size=min(config.defaults.workers, 8) + 2, create=create)


@dataclass
class Runtime:
    """The long-lived parts of one process, built once; `live` holds the swappable bundle."""

    live: Live
    store: Store
    session: requests.Session
    parser: ParsePool
    poller: Poller
    deliverer: Deliverer
    instance: Instance
    metrics: Metrics
    now: Clock
    mono: Mono
    smtp_factory: Any = None
    stream: TextIO | None = None
    # set after each poll that created alerts, so the delivery loop does not wait its interval
    wake: threading.Event = field(default_factory=threading.Event)
    capturer: Capturer | None = None  # evidence of alerts, off the delivery path
    # set after each poll that created alerts, so evidence capture starts at once
    evidence_wake: threading.Event = field(default_factory=threading.Event)

    @property
    def bundle(self) -> Bundle:
        return self.live()

    @property
    def config(self) -> Config:
        return self.live().config

    def rebuild(self, loaded: Loaded) -> Bundle:
        """A complete new bundle for a reload; raises (and changes nothing) on any error."""
        channels = make_channels(
            loaded.config, self.session, self.smtp_factory, self.now, self.stream
        )
        return make_bundle(loaded.config, loaded.rules, loaded.matcher, channels)

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


def build(
    loaded: Loaded,
    *,
    now: Clock = utcnow,
    mono: Mono = time.monotonic,
    parse_workers: int = 2,
    smtp_factory: Any = None,
    stream: TextIO | None = None,
) -> Runtime:
    """Everything, once, in dependency order; nothing is wired onto a part afterwards."""
    config = loaded.config
    policy = policy_of(config)
    # one kept-alive connection pool per server: fewer pools than hosts and the least
    # recently used host's connections are closed, so every poll opens a new one
    hosts = len({urlsplit(f.url).netloc for f in config.feeds}) + len(config.channels)
    session = make_session(policy, pool_size=max(16, config.defaults.workers * 2, hosts))
    channels = make_channels(config, session, smtp_factory, now, stream)
    live = Live(make_bundle(config, loaded.rules, loaded.matcher, channels))
    store = store_of(config)
    parser = ParsePool(parse_workers, config.defaults.parse_timeout)
    instance = Instance.current(now)
    metrics = Metrics()
    wake = threading.Event()

    evidence_wake = threading.Event()

    def after_poll(result: PollResult, saved: SaveOutcome, fetched: Fetched) -> None:
        metrics.poll(result, saved, fetched)
        if saved.created or saved.corroborated:
            wake.set()
        if saved.created or saved.attached:
            evidence_wake.set()

    poller = Poller(store, session, policy, parser, live, now, instance.owner, after_poll,
                    on_article=metrics.article)  # fmt: skip
    capturer = Capturer(store, session, policy, lambda: live().config.evidence,
                        lambda feed: _feed_url(live().config, feed), now, instance.owner,
                        metrics.evidence_outcome, extract=parser.extract)  # fmt: skip
    deliverer = Deliverer(
        store,
        live,
        now,
        config.alerts.retry_max_age,
        mono=mono,
        owner=instance.owner,
        on_outcome=metrics.delivery,
    )
    return Runtime(
        live, store, session, parser, poller, deliverer, instance, metrics, now, mono,
        smtp_factory, stream, wake, capturer, evidence_wake,
    )  # fmt: skip


def _feed_url(config: Config, feed: str) -> str | None:
    spec = config.feeds_by_name.get(feed)
    return spec.url if spec else None
