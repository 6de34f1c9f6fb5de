"""Builders for the items, matches and alerts every test needs, and the moments they happen.

`alert()` is an alert as the pipeline builds it (build_alert: real id, rules, sources);
`make_alert()` is one laid out by hand for the channels to render, every field chosen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.alerts.stories import build_alert
from monitor.model import Alert, AlertKind, Item, Match, RuleRef, Severity, Source, TermHit

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RENDERED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # the channel tests' moment (their T0)
HOSTILE = (
    "<!channel> <@U123> <https://evil.example|un.org> & <script>alert(1)</script>"
    " \x1b[31mred\x1b[0m \u202eevil\u202c"
)
KILLED = TermHit("killed", "killed", "title", 100.0, "civilians killed in shelling")


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
    *,
    description: str = "Rome Statute art. 8.",
    score: float = 100.0,
    hits: tuple[TermHit, ...] = (KILLED,),
) -> Match:
    """A match of rule_id titled after it ("civilians-killed" -> "Civilians Killed")."""
    title = rule_id.replace("-", " ").title()
    return Match(rule_id, title, severity, description, score, hits, theme, channels, (), cooldown)


def alert(it: Item | None = None, *matches: Match, now: datetime = T0) -> Alert:
    return build_alert(it or item(), matches or (match(),), now)


def make_alert(
    title: str = "Reports of mass killings in El Fasher",
    *,
    kind: str = AlertKind.MATCH,
    severity: Severity = Severity.CRITICAL,
    link: str | None = "https://news.un.org/en/story/2024/05/1149000",
    summary: str = "The UN human rights office said civilians were killed.",
    matches: int = 1,
    hits: int = 1,
    sources: int = 1,
    text: str = "",
    alert_id: str = "a1b2c3d4e5f6",
) -> Alert:
    """An alert at RENDERED with as many matches, hits per match and sources as asked for."""
    published = RENDERED - timedelta(minutes=20)
    story = item("k1", "UN News", title, summary, link, ("SD",), published, tags=())
    rule = RuleRef("mass-killing", "Mass killing", severity, "Killings of civilians", "violence")
    term = TermHit("mass killing", "mass killings", "title", 96.0, snippet=f"… {title[:150]} …")
    found = tuple(
        match(f"rule-{i}", severity, "violence", description="d", score=90.0, hits=(term,) * hits)
        for i in range(matches)
    )
    reports = tuple(
        Source(f"Feed {i}", title, f"https://example.org/{i}", RENDERED, f"k{i}")
        for i in range(sources)
    )
    return Alert(
        id=alert_id, kind=kind, created=RENDERED, severity=severity, title=title, rules=(rule,),
        item=story, matches=found, countries=("SD",), sources=reports, text=text,
    )  # fmt: skip
