"""Routing: each channel's filters and the rules' channel hints decide where an alert goes."""

from __future__ import annotations

from dataclasses import replace

from monitor.alerts.route import route
from monitor.channels.email import EmailSettings
from monitor.config import ChannelConfig
from monitor.model import AlertKind, Severity
from monitor.service.bundle import make_router
from tests.factories import alert, item, match

CHANNELS = (
    ChannelConfig("all", "console"),
    ChannelConfig("high", "console", min_severity=Severity.HIGH),
    ChannelConfig("sudan", "console", countries=("SD",)),
    ChannelConfig("icc", "console", rules=("icc-judicial",)),
    ChannelConfig("un-only", "console", tags=("un",)),
    ChannelConfig("news-only", "console", tags=("news",)),
)


def test_filters_by_severity_country_theme_and_tag() -> None:
    """A high war-crimes alert on Sudan from a UN feed reaches the matching channels only."""
    a = alert(item(countries=("SD",), tags=("un",)), match(severity=Severity.HIGH))
    assert route(a, CHANNELS) == ("all", "high", "sudan", "un-only")


def test_medium_alert_skips_high_channel_and_theme_filter_matches_rule_theme() -> None:
    """Severity below a channel's minimum is not sent there; a theme name selects rules."""
    a = alert(
        item(countries=("MM",), tags=("news",)),
        match("icc-arrest-warrant", Severity.MEDIUM, theme="icc-judicial"),
    )
    assert route(a, CHANNELS) == ("all", "icc", "news-only")


def test_rule_channel_hints_restrict_delivery() -> None:
    """A rule naming channels sends only there (still subject to their filters)."""
    a = alert(item(), match(channels=("high", "sudan")))
    assert route(a, CHANNELS) == ("high", "sudan")


def test_health_alerts_skip_story_filters() -> None:
    """Source-down notices reach channels filtered by country or tag (operators need them)."""
    a = replace(
        alert(),
        kind=AlertKind.SOURCE_DOWN,
        item=None,
        countries=(),
        rules=(),
        matches=(),
        severity=Severity.MEDIUM,
    )
    assert route(a, CHANNELS) == ("all", "sudan", "icc", "un-only", "news-only")


def test_digest_channels_hold_all_but_immediate_severity() -> None:
    """Digest email channels hold alerts unless they reach immediate_severity."""
    mail = ChannelConfig(
        "mail",
        "email",
        digest="0 7 * * *",
        immediate_severity=Severity.CRITICAL,
        settings=EmailSettings(recipients=("a@b.org",)),
    )
    router = make_router((ChannelConfig("ops", "webhook"), mail))
    assert router(alert(item(), match(severity=Severity.HIGH))) == (("ops",), ("mail",), ())
    assert router(alert(item(), match(severity=Severity.CRITICAL))) == (("ops", "mail"), (), ())


def test_channel_tags_also_select_rule_route_tags() -> None:
    """A channel tagged "urgent" receives alerts of rules carrying route_tags = ["urgent"]."""
    urgent = ChannelConfig("pager", "console", tags=("urgent",))
    m = replace(match(), route_tags=("urgent",))
    assert route(alert(item(tags=("news",)), m), (urgent,)) == ("pager",)
    assert route(alert(item(tags=("news",)), match()), (urgent,)) == ()
