"""`monitor status`: feed health and the outbox, as a table for people or JSON for scripts."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from typing import Any

from monitor.cli.common import Subparsers, add, config_path
from monitor.log import redact
from monitor.model import iso, utcnow
from monitor.service import runtime
from monitor.service.runtime import Loaded, store_of
from monitor.store import Queued


def register(sub: Subparsers) -> None:
    c = add(sub, "status", "show feed health and the outbox", cmd)
    c.add_argument("--json", action="store_true", help="one JSON object for scripts")


def cmd(args: argparse.Namespace) -> int:
    return show_status(runtime.load(config_path(args), read_only=True), as_json=args.json)


def collect(loaded: Loaded) -> dict[str, Any]:
    store = store_of(loaded.config, create=False)
    try:
        states = store.feed_states()
        counts = store.outbox_counts()
        dead = store.dead_deliveries()
        queued = store.queued_deliveries()
        suppressed = store.suppressed_alerts()
        unrouted = store.unrouted_alerts()
        info = store.info()
        now = utcnow()
        instances = store.instances(now - timedelta(minutes=2))
        leases = store.leases()
    finally:
        store.close()
    feeds = []
    for spec in loaded.config.feeds:
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
                "items_seen": st.items_seen if st else 0,
            }
        )
    return {
        "generated": iso(utcnow()),
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


def show_status(loaded: Loaded, as_json: bool) -> int:
    data = collect(loaded)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(render(data))
    return 0


def _ago(stamp: str | None, now: datetime) -> str:
    if not stamp:
        return "never"
    secs = (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(secs) >= size:
            return f"{secs / size:.0f}{unit} ago" if secs >= 0 else f"in {-secs / size:.0f}{unit}"
    return f"{secs:.0f}s ago" if secs >= 0 else f"in {-secs:.0f}s"


def render(data: dict[str, Any]) -> str:
    now = utcnow()
    feeds = data["feeds"]
    ok = sum(1 for f in feeds if f["consecutive_failures"] == 0 and f["last_success"])
    failing = [f for f in feeds if f["consecutive_failures"]]
    o = data["outbox"]
    lines = [
        f"feeds {len(feeds)}: {ok} ok, {len(failing)} failing, "
        f"{len(feeds) - ok - len(failing)} never polled",
        f"outbox: {o['pending']} pending, {o['held']} held for digest, "
        f"{o['review']} waiting for review, {o['sent']} sent, {o['dead']} dead; "
        f"{o['suppressed']} alerts suppressed by cooldown",
        "",
        f"{'FEED':<28} {'LAST SUCCESS':<13} {'FAILS':>5} {'SEEN':>6} {'NEXT POLL':<11} LAST ERROR",
    ]
    for f in sorted(feeds, key=lambda f: (-f["consecutive_failures"], f["name"])):
        lines.append(
            f"{f['name'][:28]:<28} {_ago(f['last_success'], now):<13} "
            f"{f['consecutive_failures']:>5} {f['items_seen']:>6} {_ago(f['next_poll'], now):<11} "
            f"{(f['last_error'] or '')[:60]}"
        )
    lines.extend(_pending_lines(data["pending"], now))
    for d in data["dead"]:
        lines.append(
            f"dead: {d['alert_id']} -> {d['channel']} after {d['attempts']} attempts: "
            f"{(d['error'] or '')[:80]}"
        )
    for i in data["instances"]:
        lines.append(
            f"instance {i['owner']} (host {i['host']}, pid {i['pid']}): started "
            f"{_ago(i['started'], now)}, last heartbeat {_ago(i['last_heartbeat'], now)}"
        )
    live = [x for x in data["leases"] if not x["expired"]]
    if live:
        lines.append(
            f"leases: {len(live)} held: "
            + ", ".join(f"{x['name']}@{x['owner'].split(':')[0]}" for x in live[:8])
        )
    for s in data["suppressed"][:5]:
        lines.append(f"suppressed: {s['title'][:60]} ({s['reason']})")
    if o.get("unrouted"):
        lines.append(f"unrouted: {o['unrouted']} alerts went to no channel")
    for u in data["unrouted"][:5]:
        lines.append(f"unrouted: {u['id']} {u['title'][:60]} ({u['why']})")
    return "\n".join(lines)


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


def _pending_lines(pending: list[dict[str, Any]], now: datetime) -> list[str]:
    """One line per delivery still to send (held ones wait for their digest)."""
    lines = []
    for q in pending[:20]:
        when = "at the digest" if q["status"] == "held" else _ago(q["next_attempt"], now)
        error = f"; last error: {q['last_error'][:80]}" if q["last_error"] else ""
        lines.append(
            f"{q['status']}: {q['alert_id']} {q['title'][:50]!r} -> {q['channel']}: "
            f"{q['attempts']} attempts, next {when}{error}"
        )
    if len(pending) > 20:
        lines.append(f"... {len(pending) - 20} more in status --json")
    return lines


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)
