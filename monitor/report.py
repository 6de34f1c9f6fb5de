"""The state report: feed health, the outbox, instances and leases, read from an open store;
what `monitor status --json` prints and the console's feeds and outbox pages show."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from monitor.config.load import Config
from monitor.log import redact
from monitor.model import iso
from monitor.store import Queued, Store


def collect(config: Config, store: Store, now: datetime) -> dict[str, Any]:
    """What `status --json` prints, read from an open store (the console reads it too)."""
    states = store.feed_states()
    counts = store.outbox_counts()
    dead = store.dead_deliveries()
    queued = store.queued_deliveries()
    suppressed = store.suppressed_alerts()
    unrouted = store.unrouted_alerts()
    info = store.info()
    instances = store.instances(now - timedelta(minutes=2))
    leases = store.leases()
    feeds = []
    for spec in config.feeds:
        st = states.get(spec.name)
        feeds.append(
            {
                "name": spec.name,
                # a url_env feed's URL carries a token: redacted, or None when not set
                "url": redact(spec.url) if spec.url else None,
                "last_success": _iso(st.last_success if st else None),
                "last_error": redact(st.last_error) if st and st.last_error else None,
                "consecutive_failures": st.consecutive_failures if st else 0,
                "next_poll": _iso(st.next_poll if st else None),
                "next_poll_reason": st.next_poll_reason if st else None,
                "items_seen": st.items_seen if st else 0,
            }
        )
    return {
        "generated": iso(now),
        "store": info,
        "feeds": feeds,
        "outbox": counts,
        "dead": [
            {
                "id": d.id,
                "alert_id": d.alert_id,
                "channel": d.channel,
                "attempts": d.attempts,
                "error": d.last_error,
            }
            for d in dead
        ],
        "pending": [_queued(q) for q in queued],
        "suppressed": [{"id": a.id, "title": a.title, "reason": a.suppressed} for a in suppressed],
        "unrouted": [
            {"id": a.id, "kind": a.kind, "title": a.title, "created": iso(a.created), "why": why}
            for a, why in unrouted
        ],
        "instances": [
            {
                "owner": i.owner,
                "host": i.host,
                "pid": i.pid,
                "started": iso(i.started),
                "last_heartbeat": iso(i.last_seen),
            }
            for i in instances
        ],
        "leases": [
            {
                "kind": x.kind,
                "name": x.name,
                "owner": x.owner,
                "until": iso(x.until),
                "expired": x.until <= now,
            }
            for x in leases
        ],
    }


def _queued(q: Queued) -> dict[str, Any]:
    d = q.delivery
    return {
        "id": d.id,
        "alert_id": d.alert_id,
        "title": q.title,
        "channel": d.channel,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "next_attempt": iso(d.next_attempt),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)
