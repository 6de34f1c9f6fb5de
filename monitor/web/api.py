"""EDGE: the JSON API under /api/v1/: alerts and their triage, silences, reviews, feeds and
the outbox. Bad input changes nothing: 400 with the field, 404 for what does not exist."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from monitor import report
from monitor.alerts import triage
from monitor.alerts.route import release_statuses
from monitor.errors import FieldError
from monitor.model import iso
from monitor.web import views
from monitor.web.app import Console, Refused, Who, json_answer, no_alert, route
from monitor.web.http import Request, Response

RECENT_SILENCES = timedelta(days=7)  # ended silences stay listed this long


def body(req: Request) -> dict[str, Any]:
    """The request's JSON object; FieldError("body") when it is not one."""
    try:
        data = json.loads(req.body.decode("utf-8")) if req.body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FieldError("body", f"not JSON ({exc})"[:200]) from None
    if not isinstance(data, dict):
        raise FieldError("body", "must be a JSON object")
    return data


def detail(console: Console, alert_id: str, status: int = 200) -> Response:
    """The alert with deliveries, notes and history; 404 when there is no such alert."""
    found = console.store.alert_detail(alert_id)
    if found is None:
        raise no_alert(alert_id)
    return json_answer(status, views.detail(found))


@route("GET", "/api/v1/alerts", "viewer", api=True)
def list_alerts(console: Console, req: Request, who: Who) -> Response:
    page = console.store.list_alerts(triage.filters(req.query))
    nxt = triage.encode_cursor(page.after) if page.after else None
    return json_answer(200, {"alerts": [views.alert(r) for r in page.rows], "next": nxt})


@route("GET", "/api/v1/alerts/{alert_id}", "viewer", api=True)
def one_alert(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    return detail(console, alert_id)


@route("POST", "/api/v1/alerts/{alert_id}/state", "analyst", api=True)
def set_state(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    data = body(req)
    state, note = triage.state(data.get("state")), triage.text(data, "note")
    if not console.store.set_state(alert_id, state, who.name, note, console.now()):
        raise no_alert(alert_id)
    return detail(console, alert_id)


def assignee(console: Console, name: object) -> str | None:
    """A known user's name, or None (empty or null) to unassign; FieldError otherwise."""
    if name is not None and not isinstance(name, str):
        raise FieldError("assignee", "must be a user's name, or null to unassign")
    if name and console.store.user(name) is None:
        raise FieldError("assignee", f'"{name[:60]}" is not a user (monitor user list)')
    return name or None


@route("POST", "/api/v1/alerts/{alert_id}/assign", "analyst", api=True)
def assign(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    name = assignee(console, body(req).get("assignee"))
    if not console.store.assign(alert_id, name, who.name, console.now()):
        raise no_alert(alert_id)
    return detail(console, alert_id)


@route("POST", "/api/v1/alerts/{alert_id}/notes", "analyst", api=True)
def add_note(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    text = triage.text(body(req), "text", required=True)
    if not console.store.add_note(alert_id, who.name, text, console.now()):
        raise no_alert(alert_id)
    return detail(console, alert_id, 201)


@route("POST", "/api/v1/silences", "analyst", api=True)
def create_silence(console: Console, req: Request, who: Who) -> Response:
    s = triage.silence(body(req), now=console.now(), actor=who.name, new_id=new_silence_id())
    console.store.add_silence(s)
    return json_answer(201, views.silence(s, console.now()))


def new_silence_id() -> str:
    return "s-" + secrets.token_hex(6)


@route("GET", "/api/v1/silences", "viewer", api=True)
def list_silences(console: Console, req: Request, who: Who) -> Response:
    now = console.now()
    found = console.store.silences(now, now - RECENT_SILENCES)
    return json_answer(200, {"silences": [views.silence(s, now) for s in found]})


@route("DELETE", "/api/v1/silences/{silence_id}", "analyst", api=True)
def expire_silence(console: Console, req: Request, who: Who, silence_id: str) -> Response:
    s = console.store.expire_silence(silence_id, who.name, console.now())
    if s is None:
        raise Refused(404, f"no silence {silence_id[:80]}")
    return json_answer(200, views.silence(s, console.now()))


@route("POST", "/api/v1/outbox/retry", "analyst", api=True)
def retry(console: Console, req: Request, who: Who) -> Response:
    data = body(req)
    dead = data.get("dead", False)
    if not isinstance(dead, bool):
        raise FieldError("dead", "must be true or false")
    n = console.store.retry(console.now(), include_dead=dead)
    return json_answer(200, {"due_now": n, "dead_included": dead, "at": iso(console.now())})


ROUTES = [list_alerts, one_alert, set_state, assign, add_note, create_silence,
          list_silences, expire_silence, retry]  # fmt: skip


@route("GET", "/api/v1/feeds", "viewer", api=True)
def feeds(console: Console, req: Request, who: Who) -> Response:
    data = report.collect(console.config(), console.store, console.now())
    return json_answer(200, {"feeds": data["feeds"], "generated": data["generated"]})


@route("GET", "/api/v1/outbox", "viewer", api=True)
def outbox(console: Console, req: Request, who: Who) -> Response:
    data = report.collect(console.config(), console.store, console.now())
    return json_answer(200, {k: data[k] for k in ("outbox", "pending", "dead", "unrouted")})


@route("GET", "/api/v1/reviews", "viewer", api=True)
def reviews(console: Console, req: Request, who: Who) -> Response:
    offset = req.query.get("offset", "0")
    if not offset.isdigit():
        raise FieldError("offset", "must be a whole number")
    waiting = console.store.waiting_reviews(triage.MAX_LIMIT, int(offset))
    return json_answer(200, {"reviews": [views.waiting(w) for w in waiting],
                             "waiting": console.store.waiting_count()})  # fmt: skip


def decide(console: Console, who: Who, alert_id: str, decision: str, note: str) -> tuple[str, ...]:
    """A review decision on the alert's waiting rows; an approved row goes as its channel
    sends this alert (now, or in its next digest). The channels decided: () when nothing
    waited (someone may have decided first); 404 for an unknown alert."""
    alert = console.store.load_alert(alert_id)
    if alert is None:
        raise no_alert(alert_id)
    released = release_statuses(console.config().channels, alert)
    return console.store.decide_review(alert_id, decision, who.name, note, console.now(), released)


@route("POST", "/api/v1/alerts/{alert_id}/review", "analyst", api=True)
def review(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    data = body(req)
    decision, note = triage.decision(data.get("decision")), triage.text(data, "note")
    if not decide(console, who, alert_id, decision, note):
        raise Refused(409, "this alert is not waiting for review (someone may have decided it)")
    return detail(console, alert_id)


ROUTES += [feeds, outbox, reviews, review]
