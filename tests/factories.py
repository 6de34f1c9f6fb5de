"""Small builders for items, matches and alerts used across the store and alert tests."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.alerts.stories import build_alert
from monitor.model import Alert, Item, Match, Severity, TermHit

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def item(
    key: str = "g:1",
    feed: str = "un-news",
    title: str = "Dozens of civilians killed in shelling of market in El Fasher",
    summary: str = "UN officials said at least 40 civilians were killed in North Darfur.",
    link: str | None = "https://news.example.org/story/1",
    countries: tuple[str, ...] = ("SD",),
    published: datetime = T0,
    tags: tuple[str, ...] = ("un",),
) -> Item:
    return Item(key, feed, title, summary, link, published, tags, countries)


def match(
    rule_id: str = "civilians-killed",
    severity: Severity = Severity.HIGH,
    theme: str = "war-crimes",
    cooldown: float = 0.0,
    channels: tuple[str, ...] = (),
) -> Match:
    hit = TermHit("killed", "killed", "title", 100.0, "civilians killed in shelling")
    return Match(
        rule_id,
        rule_id.replace("-", " ").title(),
        severity,
        "Rome Statute art. 8.",
        100.0,
        (hit,),
        theme,
        channels,
        (),
        cooldown,
    )


def alert(it: Item | None = None, *matches: Match, now: datetime = T0) -> Alert:
    return build_alert(it or item(), matches or (match(),), now)
