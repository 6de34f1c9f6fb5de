"""Which channels an alert goes to: per-channel filters plus the rules' routing hints. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config.load import ChannelConfig
from monitor.model import Alert, AlertKind

# Health notices concern the operator, not the story: they skip story filters.
_OPERATIONAL = (AlertKind.SOURCE_DOWN, AlertKind.SOURCE_BACK, AlertKind.TEST)


def wants(channel: ChannelConfig, alert: Alert) -> bool:
    """True when this channel's filters let the alert through."""
    if channel.kinds and alert.kind not in channel.kinds:
        return False
    if alert.severity < channel.min_severity:
        return False
    if alert.kind in _OPERATIONAL:
        return True
    if channel.rules and not _rules_pass(channel.rules, alert):
        return False
    # a channel's tags select feed tags (un, icc, news...) or the rules' route_tags
    tags = set(alert.item.tags if alert.item else ()) | {
        t for m in alert.matches for t in m.route_tags
    }
    if channel.tags and not set(channel.tags) & tags:
        return False
    return not channel.countries or bool(set(channel.countries) & set(alert.countries))


def _rules_pass(wanted: Sequence[str], alert: Alert) -> bool:
    names = {r.id for r in alert.rules} | {r.theme for r in alert.rules if r.theme}
    return bool(names & set(wanted))


def _hinted(alert: Alert) -> set[str] | None:
    """Channels named by the rules that fired; None when no rule restricts its channels."""
    hints = [set(m.channels) for m in alert.matches if m.channels]
    if not hints or len(hints) < len(alert.matches):
        return None  # a rule without hints sends everywhere its filters allow
    return set().union(*hints)


def route(alert: Alert, channels: Sequence[ChannelConfig]) -> tuple[str, ...]:
    """Names of the channels this alert is delivered to, in configuration order."""
    hinted = _hinted(alert)
    return tuple(
        c.name
        for c in channels
        if wants(c, alert) and (hinted is None or any(c.answers_to(h) for h in hinted))
    )


def delivery_status(channel: ChannelConfig, alert: Alert) -> str:
    """The outbox status of an alert bound for this channel, review apart: "held" for the
    channel's digest, unless the alert reaches its immediate_severity; else "pending"."""
    immediate = (
        channel.immediate_severity is not None and alert.severity >= channel.immediate_severity
    )
    return "held" if channel.digest and not immediate else "pending"


def release_statuses(channels: Sequence[ChannelConfig], alert: Alert) -> dict[str, str]:
    """For Store.decide_review: the status each review channel gives `alert` once approved."""
    return {c.name: delivery_status(c, alert) for c in channels if c.review}
