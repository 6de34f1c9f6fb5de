"""EDGE: the console's pages (alerts, one alert, silences, reviews, feeds, outbox): what each
GET shows, read from the store and shaped by views.py. The forms they post are forms.py."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from monitor import report
from monitor.alerts import triage
from monitor.errors import FieldError
from monitor.model import SEVERITY_NAMES
from monitor.model.console import ALL_STATES, STATES, Page
from monitor.web import auth, evidence, views
from monitor.web.api import RECENT_SILENCES
from monitor.web.app import Console, Route, Who, no_alert, route
from monitor.web.http import Request, Response
from monitor.web.pages import page

LIST_FILTERS = ("state", "severity", "rule", "q", "country", "lang", "tag", "since", "until")
SILENCE_FIELDS = ("rule", "country", "feed", "channel", "text", "duration", "ends", "reason")
Parts = list[tuple[str, bool]]


def highlight(text: str, words: Iterable[str]) -> Parts:
    """`text` cut into (piece, is_hit) parts, the hits being every case-insensitive
    occurrence of one of `words`. The template escapes each piece and wraps hits in <mark>:
    feed text never becomes markup, only our own tag goes around it."""
    found = sorted({w for w in words if w.strip()}, key=len, reverse=True)  # longest first
    if not text or not found:
        return [(text, False)] if text else []
    pattern = re.compile("|".join(re.escape(w) for w in found), re.IGNORECASE)
    parts: Parts = []
    at = 0
    for m in pattern.finditer(text):
        if m.start() > at:
            parts.append((text[at : m.start()], False))
        parts.append((m.group(), True))
        at = m.end()
    if at < len(text):
        parts.append((text[at:], False))
    return parts


def _explained(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail view with each term's snippet cut into highlighted parts."""
    for m in detail["matches"]:
        words = [t["text"] for t in m["terms"]]
        for t in m["terms"]:
            t["parts"] = highlight(t["snippet"], [t["text"], *words])
    return detail


def _writer(who: Who) -> bool:
    return auth.allows(who.role, "analyst")


def _next_url(query: Mapping[str, str], page_: Page) -> str | None:
    if page_.after is None:
        return None
    kept = {k: query[k] for k in LIST_FILTERS if query.get(k)}
    return "/?" + urlencode({**kept, "cursor": triage.encode_cursor(page_.after)})


@route("GET", "/", "viewer", api=False)
def alert_list(console: Console, req: Request, who: Who) -> Response:
    shown = {k: req.query.get(k, "") for k in LIST_FILTERS}
    try:
        found = console.store.list_alerts(triage.filters(req.query))
    except FieldError as exc:
        return page("alerts.html", who, 400, error=exc, filters=shown, rows=[], next_url=None,
                    states=ALL_STATES, severities=SEVERITY_NAMES, first=True)  # fmt: skip
    rows = [views.alert(r) for r in found.rows]
    return page("alerts.html", who, error=None, filters=shown, rows=rows,
                next_url=_next_url(req.query, found), states=ALL_STATES,
                severities=SEVERITY_NAMES, first="cursor" not in req.query)  # fmt: skip


@route("GET", "/alerts/{alert_id}", "viewer", api=False)
def alert_page(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    found = console.store.alert_detail(alert_id)
    if found is None:
        raise no_alert(alert_id)
    a = _explained(views.detail(found))
    silence_like = "/silences?" + urlencode(
        {k: ",".join(v) for k, v in (("rule", a["rules"]), ("country", a["countries"])) if v}
    )
    return page("alert.html", who, a=a, done=req.query.get("done", ""), states=STATES,
                users=[u.name for u in console.store.users()], writer=_writer(who),
                waiting=any(d["status"] == "review" for d in a["deliveries"]),
                silence_like=silence_like,
                evidence=evidence.shown(console.store.evidence(alert_id)))  # fmt: skip


def silences_page(
    console: Console, who: Who, given: Mapping[str, str], status: int = 200, **extra: Any
) -> Response:
    """The silences page, its form filled from `given` (the query, or a refused post)."""
    now = console.now()
    found = console.store.silences(now, now - RECENT_SILENCES)
    form = {k: given.get(k, "") for k in SILENCE_FIELDS}
    if not form["duration"] and not form["ends"]:
        form["duration"] = "4h"
    return page("silences.html", who, status, silences=[views.silence(s, now) for s in found],
                form=form, writer=_writer(who), **{"done": "", "error": None, **extra})  # fmt: skip


@route("GET", "/silences", "viewer", api=False)
def silences(console: Console, req: Request, who: Who) -> Response:
    return silences_page(console, who, req.query, done=req.query.get("done", ""))


@route("GET", "/reviews", "viewer", api=False)
def reviews(console: Console, req: Request, who: Who) -> Response:
    waiting = console.store.waiting_reviews(limit=50, offset=0)
    total = console.store.waiting_count()
    return page("reviews.html", who, waiting=waiting, total=total, writer=_writer(who),
                done=req.query.get("done", ""))  # fmt: skip


@route("GET", "/feeds", "viewer", api=False)
def feeds(console: Console, req: Request, who: Who) -> Response:
    data = report.collect(console.config(), console.store, console.now())
    return page("feeds.html", who, feeds=data["feeds"], generated=data["generated"])


@route("GET", "/outbox", "viewer", api=False)
def outbox(console: Console, req: Request, who: Who) -> Response:
    data = report.collect(console.config(), console.store, console.now())
    return page("outbox.html", who, counts=data["outbox"], pending=data["pending"],
                dead=data["dead"], writer=_writer(who), done=req.query.get("done", ""),
                generated=data["generated"])  # fmt: skip


ROUTES: list[Route] = [alert_list, alert_page, silences, reviews, feeds, outbox]
