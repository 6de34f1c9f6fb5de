"""EDGE: an alert's evidence in the console: each source's page as captured (JSON), its
extracted text (plain text, never markup: page text is untrusted), and the whole as a zip
(raw HTML and text per source, manifest.json with hashes, times and statuses)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from monitor.model import Alert, iso
from monitor.model.evidence import Evidence
from monitor.store import EvidenceStore
from monitor.web.app import Console, Refused, Who, json_answer, no_alert, route
from monitor.web.http import Request, Response

EXCERPT = 300  # characters of a page's text shown on the alert page


def view(e: Evidence) -> dict[str, Any]:
    """One source's evidence as the API gives it."""
    c, a = e.capture, e.archive
    archive = None
    if a is not None:
        archive = {"status": a.status, "url": a.url, "error": a.error, "at": iso(a.at)}
    return {
        "link": e.link,
        "feed": e.feed,
        "state": e.state,
        "attempts": e.attempts,
        "final_url": c.final_url if c else None,
        "status": c.status if c else None,
        "fetched_at": iso(c.fetched_at) if c else None,
        "sha256": c.sha256 if c else None,
        "size": c.size if c else None,
        "content_type": c.content_type if c else None,
        "text": c.text if c else None,
        "error": c.error if c else None,
        "archive": archive,
    }


def shown(rows: list[Evidence]) -> list[dict[str, Any]]:
    """The alert page's evidence: the API view with an excerpt of the text."""
    out = []
    for n, e in enumerate(rows, 1):
        v = view(e)
        text = v["text"] or ""
        v["n"] = n
        v["excerpt"] = text[:EXCERPT] + ("…" if len(text) > EXCERPT else "")
        out.append(v)
    return out


def _alert(console: Console, alert_id: str) -> Alert:
    alert = console.store.load_alert(alert_id)
    if alert is None:
        raise no_alert(alert_id)
    return alert


@route("GET", "/api/v1/alerts/{alert_id}/evidence", "viewer", api=True)
def evidence_json(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    _alert(console, alert_id)
    return json_answer(200, [view(e) for e in console.store.evidence(alert_id)])


@route("GET", "/alerts/{alert_id}/evidence/{n}.txt", "viewer", api=False)
def evidence_text(console: Console, req: Request, who: Who, alert_id: str, n: str) -> Response:
    _alert(console, alert_id)
    rows = console.store.evidence(alert_id)
    found = rows[int(n) - 1].capture if n.isdigit() and 1 <= int(n) <= len(rows) else None
    if found is None or found.text is None:
        raise Refused(404, f"no captured source {n[:10]} of alert {alert_id[:80]}")
    return Response(200, found.text.encode("utf-8"), "text/plain; charset=utf-8")


@route("GET", "/api/v1/alerts/{alert_id}/evidence.zip", "viewer", api=True)
def evidence_zip(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    alert = _alert(console, alert_id)
    body = bundle(console.store, alert, console.store.evidence(alert_id), console.now())
    name = f"evidence-{''.join(ch for ch in alert_id if ch.isalnum() or ch in '-_')[:60]}.zip"
    headers = [("Content-Disposition", f'attachment; filename="{name}"')]
    return Response(200, body, "application/zip", headers)


def bundle(store: EvidenceStore, alert: Alert, rows: list[Evidence], now: datetime) -> bytes:
    """The zip: sources/NN/page.html (the bytes as served) and sources/NN/text.txt for each
    captured source, and manifest.json. Names come from the source's number, never from
    the page or its URL."""
    out = io.BytesIO()
    entries = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, e in enumerate(rows, 1):
            entry = view(e) | {"html": None, "text": None}
            raw = store.evidence_raw(alert.id, e.link)
            if raw is not None:
                entry["html"] = f"sources/{n:02d}/page.html"
                z.writestr(entry["html"], raw)
            if e.capture is not None and e.capture.text is not None:
                entry["text"] = f"sources/{n:02d}/text.txt"
                z.writestr(entry["text"], e.capture.text.encode("utf-8"))
            entries.append(entry)
        z.writestr("manifest.json", json.dumps(manifest(alert, entries, now), indent=1))
    return out.getvalue()


def manifest(alert: Alert, sources: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "alert": {
            "id": alert.id,
            "title": alert.title,
            "created": iso(alert.created),
            "rules": [{"id": r.id, "title": r.title} for r in alert.rules],
        },
        "exported_at": iso(now),
        "sources": sources,
    }


ROUTES = [evidence_json, evidence_text, evidence_zip]
