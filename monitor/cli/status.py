"""`monitor status`: feed health and the outbox, as a table for people or JSON for scripts."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from monitor import report
from monitor.cli.common import Subparsers, add, config_path
from monitor.model import utcnow
from monitor.service import runtime
from monitor.service.runtime import Loaded, store_of


def register(sub: Subparsers) -> None:
    c = add(sub, "status", "show feed health and the outbox", cmd)
    c.add_argument("--json", action="store_true", help="one JSON object for scripts")


def cmd(args: argparse.Namespace) -> int:
    return show_status(runtime.load(config_path(args), read_only=True), as_json=args.json)


def collect(loaded: Loaded) -> dict[str, Any]:
    store = store_of(loaded.config, create=False)
    try:
        return report.collect(loaded.config, store, utcnow())
    finally:
        store.close()


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
        f"{'FEED':<28} {'LAST SUCCESS':<13} {'FAILS':>5} {'SEEN':>6} {'NEXT POLL':<11} "
        f"{'BECAUSE':<50} LAST ERROR",
    ]
    for f in sorted(feeds, key=lambda f: (-f["consecutive_failures"], f["name"])):
        lines.append(
            f"{f['name'][:28]:<28} {_ago(f['last_success'], now):<13} "
            f"{f['consecutive_failures']:>5} {f['items_seen']:>6} {_ago(f['next_poll'], now):<11} "
            f"{(f.get('next_poll_reason') or '')[:50]:<50} {(f['last_error'] or '')[:60]}"
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
