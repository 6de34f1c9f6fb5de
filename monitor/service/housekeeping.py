"""EDGE: periodic jobs: retention pruning, escalation alerts, email digests, review timeouts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from monitor.alerts import health
from monitor.alerts.decide import routed
from monitor.alerts.escalation import BASELINE_DAYS, escalation_alert, escalations
from monitor.alerts.health import silent_since
from monitor.errors import DeliveryError
from monitor.model import Routed
from monitor.store.stories import unrouted_why

if TYPE_CHECKING:
    from monitor.service.runtime import Runtime

log = structlog.get_logger("monitor.housekeeping")


def run(rt: Runtime) -> None:
    now = rt.now()
    pruned = rt.store.prune(now - timedelta(seconds=rt.config.defaults.retention))
    sessions = rt.store.prune_sessions(now)  # the console's expired sign-ins
    escalated = check_escalation(rt, now)
    silent = check_silence(rt, now)
    log.info("housekeeping.done", pruned=pruned, sessions=sessions, escalations=escalated,
             silent=silent)  # fmt: skip


def check_silence(rt: Runtime, now: datetime) -> int:
    """One "source down" alert per quiet spell of a feed expected to publish."""
    router = rt.bundle.router
    states = rt.store.feed_states()
    raised = 0
    for spec in rt.config.feeds:
        state = states.get(spec.name)
        since = silent_since(state, spec.silent_after, now) if state else None
        if state is None or since is None:
            continue
        if record(rt, routed(health.silent(spec, since, now), router), now):
            raised += 1
        rt.store.set_silent(spec.name, True)
    return raised


def check_escalation(rt: Runtime, now: datetime) -> int:
    a = rt.config.alerts
    router = rt.bundle.router
    day_ago = now - timedelta(days=1)
    base_start = day_ago - timedelta(days=BASELINE_DAYS)
    created = 0
    for by in ("country", "theme"):
        recent = rt.store.hit_counts(day_ago, now, by)
        baseline = rt.store.hit_counts(base_start, day_ago, by)
        for key, count, daily in escalations(
            recent, baseline, a.escalation_factor, a.escalation_min, BASELINE_DAYS
        ):
            notice = routed(escalation_alert(by, key, count, daily, now), router)
            if record(rt, notice, now):
                created += 1
    return created


def record(rt: Runtime, notice: Routed, now: datetime) -> bool:
    """Record a stand-alone alert once; one that no channel takes is said and counted, as a
    poll's alerts are (`alert.unrouted`)."""
    if not rt.store.record_alert(notice, now):
        return False
    why = unrouted_why(notice)
    if why is not None:
        log.warning("alert.unrouted", alert=notice.alert.id, why=why)
        rt.metrics.unrouted.inc()
    return True


def expire_reviews(rt: Runtime) -> dict[str, list[str]]:
    """Send the critical alerts that waited longer than their channel's review_timeout,
    marked unreviewed; returns their ids by channel. Safe on every instance at once: the
    store moves each row once (the others find it gone from the queue)."""
    now = rt.now()
    out: dict[str, list[str]] = {}
    for c in rt.config.channels:
        if not c.review or c.review_timeout is None:
            continue
        ids = rt.store.expire_reviews(c.name, now - timedelta(seconds=c.review_timeout), now)
        if ids:
            log.warning("review.timeout", channel=c.name, alerts=ids)
            out[c.name] = ids
    return out


def send_digest(rt: Runtime, channel_name: str) -> int:
    """Send one email listing every alert held for this channel; mark them sent only on success."""
    channel = rt.bundle.channels.get(channel_name)
    held = rt.store.held_deliveries(channel_name)
    if channel is None or not held:
        return 0
    alerts = [a for a in (rt.store.load_alert(d.alert_id) for d in held) if a is not None]
    now = rt.now()
    label = f"up to {now:%Y-%m-%d %H:%M} UTC"
    try:
        channel.send(channel.build_digest(alerts, label))  # type: ignore[attr-defined]
    except DeliveryError as exc:
        log.error(
            "digest.failed",
            channel=channel_name,
            alerts=len(alerts),
            reason=exc.reason,
            retryable=exc.retryable,
        )
        return 0
    rt.store.mark_sent([d.id for d in held], now)
    log.info("digest.sent", channel=channel_name, alerts=len(alerts))
    return len(alerts)
