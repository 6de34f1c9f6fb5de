"""Escalation: a country's (or theme's) matched reports in 24 h jumping over its baseline,
and the one alert a day that says so. Pure: the counts come from the store."""

from __future__ import annotations

from datetime import datetime

from monitor.model import Alert, AlertKind, Severity

BASELINE_DAYS = 14


def escalations(
    recent: dict[str, int], baseline: dict[str, int], factor: float, minimum: int, days: int
) -> list[tuple[str, int, float]]:
    """(key, count in last 24 h, daily baseline) for keys whose count jumped. Pure."""
    out = []
    for key, count in sorted(recent.items()):
        daily = baseline.get(key, 0) / days
        # a floor of one a day keeps a first-ever mention from counting as an infinite jump
        if count >= minimum and count > factor * max(daily, 1.0):
            out.append((key, count, daily))
    return out


def escalation_alert(by: str, key: str, count: int, daily: float, now: datetime) -> Alert:
    """At most one per day per country (or theme): the id carries the date."""
    return Alert(
        id=f"escalation:{by}:{key}:{now.date().isoformat()}",
        kind=AlertKind.ESCALATION,
        created=now,
        severity=Severity.HIGH,
        title=f"Escalation: {count} matched reports on {key} in 24 h (usual {daily:.1f}/day)",
        countries=(key,) if by == "country" else (),
        text=f"{count} items matched the watchlist for {by} {key} in the last 24 hours, "
        f"against a {BASELINE_DAYS}-day baseline of {daily:.1f} a day.",
        data={"by": by, "key": key, "count": count, "baseline_daily": round(daily, 2)},
    )
