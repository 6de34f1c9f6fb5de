"""What a reload replaces, as one immutable Bundle (config, rules, matcher, channels, routing,
poll settings), and the Live reference that polls and deliveries read it through."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import requests

from monitor.alerts.decide import StoryPolicy
from monitor.alerts.route import delivery_status, route
from monitor.channels import Channel, make_channel
from monitor.config.load import ChannelConfig, Config
from monitor.match.decision import Screen
from monitor.model import Alert, Router, utcnow
from monitor.reader.deadline import watchdog
from monitor.rules.model import RuleSet
from monitor.service.poller import PollSettings


@dataclass(frozen=True)
class Bundle:
    """Built whole before a reload swaps it in; a poll or a drain reads one bundle
    through and never sees half of an old config and half of a new one."""

    config: Config
    rules: RuleSet
    matcher: Screen
    channels: Mapping[str, Channel]
    router: Router
    poll: PollSettings
    rate_limits: Mapping[str, float]


class Live:
    """The bundle in force. Swapping is one reference assignment (atomic in CPython)."""

    def __init__(self, bundle: Bundle) -> None:
        self._bundle = bundle

    def __call__(self) -> Bundle:
        return self._bundle

    def swap(self, bundle: Bundle) -> Bundle:
        old, self._bundle = self._bundle, bundle
        return old


def make_bundle(
    config: Config, rules: RuleSet, matcher: Screen, channels: Mapping[str, Channel]
) -> Bundle:
    return Bundle(
        config,
        rules,
        matcher,
        channels,
        make_router(config.channels),
        poll_settings(config),
        {c.name: c.rate_limit for c in config.channels},
    )


def make_router(channels: tuple[ChannelConfig, ...]) -> Router:
    """Alert -> (channels to send now, digest channels to hold it for, review channels to
    hold it in until a person approves it)."""
    by_name = {c.name: c for c in channels}

    def router(alert: Alert) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        out: dict[str, list[str]] = {"pending": [], "held": [], "review": []}
        for name in route(alert, channels):
            c = by_name[name]
            out["review" if c.review else delivery_status(c, alert)].append(name)
        return tuple(out["pending"]), tuple(out["held"]), tuple(out["review"])

    return router


def make_channels(
    config: Config,
    session: requests.Session,
    smtp_factory: Any = None,
    now: Callable[[], datetime] = utcnow,
    stream: TextIO | None = None,
) -> dict[str, Channel]:
    return {
        c.name: make_channel(
            c, session=session, smtp_factory=smtp_factory, now=now, stream=stream, deadline=watchdog
        )
        for c in config.channels
    }


def poll_settings(config: Config) -> PollSettings:
    a, d = config.alerts, config.defaults
    return PollSettings(
        backfill=d.backfill,
        max_backoff=d.max_backoff,
        feed_down_after=a.feed_down_after,
        story=StoryPolicy(a.story_window, a.similarity, a.corroboration),
        per_host=d.per_host,
        # a feed with fetch_articles spends up to one more total_timeout on its pages
        lease=d.total_timeout * (2 if any(f.fetch_articles for f in config.feeds) else 1)
        + d.parse_timeout
        + 30.0,
    )
