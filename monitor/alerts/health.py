"""Feed-health notices: source down, silent, and back. Pure builders with stable ids, so a
notice recorded twice (a retry, another instance) is one alert."""

from __future__ import annotations

from datetime import datetime

from monitor.model import Alert, AlertKind, FeedSpec, FeedState, Severity


def _notice(spec: FeedSpec, what: str, since: datetime, now: datetime, **fields: object) -> Alert:
    down = what in ("down", "silent")
    return Alert(
        id=f"health:{spec.name}:{what}:{int(since.timestamp())}",
        kind=AlertKind.SOURCE_DOWN if down else AlertKind.SOURCE_BACK,
        created=now,
        severity=Severity.MEDIUM if down else Severity.LOW,
        title=f"Source {what}: {spec.name}",
        text=str(fields.pop("text")),
        data={"feed": spec.name, "since": since.isoformat(), "reason": what, **fields},
    )


def _hours(since: datetime, now: datetime) -> str:
    return f"{(now - since).total_seconds() / 3600:.1f}h"


def down(spec: FeedSpec, st: FeedState, now: datetime) -> Alert:
    """A feed failing for longer than feed_down_after."""
    since = st.failing_since or now
    text = (
        f"{spec.name} has failed for {_hours(since, now)} ({st.consecutive_failures} "
        f"attempts); last error: {st.last_error}"
    )
    return _notice(spec, "down", since, now, text=text, error=st.last_error)


def back(spec: FeedSpec, before: FeedState, now: datetime) -> Alert:
    """A failing feed that answers again."""
    since = before.failing_since or now
    text = f"{spec.name} answers again after {_hours(since, now)} down."
    return _notice(spec, "back", since, now, text=text)


def silent(spec: FeedSpec, since: datetime, now: datetime) -> Alert:
    """A feed that answers but has published nothing for longer than silent_after."""
    expected = f"{(spec.silent_after or 0) / 3600:.1f}h"
    text = (
        f"{spec.name} answers but has published nothing new for {_hours(since, now)} "
        f"(expected within {expected})."
    )
    return _notice(spec, "silent", since, now, text=text)


def heard(spec: FeedSpec, now: datetime) -> Alert:
    """A silent feed that publishes again."""
    return _notice(spec, "heard", now, now, text=f"{spec.name} publishes again.")


def silent_since(state: FeedState, silent_after: float | None, now: datetime) -> datetime | None:
    """When a feed that still answers went quiet, if it has been quiet too long. Pure."""
    if silent_after is None or state.last_success is None or state.silent_alerted:
        return None
    since = state.last_new_item or state.last_success
    return since if (now - since).total_seconds() >= silent_after else None
