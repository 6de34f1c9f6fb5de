"""The console's JSON shapes of alerts, deliveries, notes, history and silences: the API's
contract, and what the CSV and Atom exports flatten. Text is cleaned and bounded as in the
webhook payload (the same helpers); links only when http(s)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.channels import render
from monitor.channels.webhook import document
from monitor.model import iso
from monitor.model.console import DeliveryView, Detail, Event, Listed, Note, Silence
from monitor.store.reviews import Waiting


def _iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


def alert(row: Listed) -> dict[str, Any]:
    a = row.alert
    doc = document(a)
    return {
        "id": a.id,
        "kind": a.kind,
        "title": doc["title"],
        "severity": a.severity.label,
        "rules": [r["id"] for r in doc["rules"]],
        "themes": doc["themes"],
        "countries": doc["countries"],
        "lang": doc["lang"],
        "created": iso(a.created),
        "state": row.state,
        "assignee": row.assignee,
        "silence_id": row.silence_id,
        "updated": _iso(row.updated),
        "link": doc["item"]["link"] if doc["item"] else None,
        "summary": doc["item"]["summary"] if doc["item"] else doc["text"],
        "sources": [
            {k: s[k] for k in ("feed", "title", "link", "published", "lang")}
            for s in doc["sources"]
        ],
        "matches": doc["matches"],
    }


def detail(d: Detail) -> dict[str, Any]:
    return {
        **alert(d.listed),
        "deliveries": [delivery(x) for x in d.deliveries],
        "notes": [note(n) for n in d.notes],
        "history": [event(e) for e in d.history],
    }


def delivery(d: DeliveryView) -> dict[str, Any]:
    return {
        "channel": d.channel,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": render.line(d.last_error, 500) if d.last_error else None,
        "next_attempt": _iso(d.next_attempt),
        "sent_at": _iso(d.sent_at),
        "unreviewed": d.unreviewed,
        "silence_id": d.silence_id,
    }


def note(n: Note) -> dict[str, Any]:
    return {"author": n.author, "text": n.text, "created": iso(n.created)}


def event(e: Event) -> dict[str, Any]:
    return {"actor": e.actor, "action": e.action, "detail": e.detail, "at": iso(e.created)}


def silence(s: Silence, now: datetime) -> dict[str, Any]:
    m = s.matchers
    return {
        "id": s.id,
        "matchers": {
            "rule": list(m.rule),
            "country": list(m.country),
            "feed": list(m.feed),
            "channel": list(m.channel),
            "text": m.text,
        },
        "reason": s.reason,
        "created_by": s.created_by,
        "created": iso(s.created),
        "starts": iso(s.starts),
        "ends": iso(s.ends),
        "active": s.active(now),
        "expired_by": s.expired_by,
    }


def waiting(w: Waiting) -> dict[str, Any]:
    return {
        "id": w.alert_id,
        "title": render.line(w.title),
        "severity": w.severity.label,
        "kind": w.kind,
        "channels": list(w.channels),
        "since": iso(w.since),
    }
