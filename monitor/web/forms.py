"""EDGE: what the pages' forms post (form-encoded, each with the session's csrf_token): triage
of one alert, reviews, silences and the outbox's retry. Each answers 303 back to its page
with what was done in `?done=`; bad input changes nothing and answers 400 naming the field."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from monitor.alerts import triage
from monitor.errors import FieldError
from monitor.web import screens
from monitor.web.api import assignee, decide, new_silence_id
from monitor.web.app import Console, Refused, Who, no_alert, redirect, route
from monitor.web.http import Request, Response
from monitor.web.pages import local

DONE = {"approve": "approved", "reject": "rejected"}


def _back(path: str, done: str) -> Response:
    return redirect(f"{path}?{urlencode({'done': done})}")


def _alert_path(alert_id: str) -> str:
    return "/alerts/" + quote(alert_id, safe="")


@route("POST", "/alerts/{alert_id}/state", "analyst", api=False)
def set_state(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    form = req.form()
    state, note = triage.state(form.get("state", "")), triage.text(form, "note")
    if not console.store.set_state(alert_id, state, who.name, note, console.now()):
        raise no_alert(alert_id)
    return _back(_alert_path(alert_id), state)


@route("POST", "/alerts/{alert_id}/assign", "analyst", api=False)
def assign(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    name = assignee(console, req.form().get("assignee", "").strip())
    if not console.store.assign(alert_id, name, who.name, console.now()):
        raise no_alert(alert_id)
    return _back(_alert_path(alert_id), f"assigned to {name}" if name else "unassigned")


@route("POST", "/alerts/{alert_id}/notes", "analyst", api=False)
def add_note(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    text = triage.text(req.form(), "text", required=True)
    if not console.store.add_note(alert_id, who.name, text, console.now()):
        raise no_alert(alert_id)
    return _back(_alert_path(alert_id), "note added")


@route("POST", "/alerts/{alert_id}/review", "analyst", api=False)
def review(console: Console, req: Request, who: Who, alert_id: str) -> Response:
    form = req.form()
    decision, note = triage.decision(form.get("decision", "")), triage.text(form, "note")
    decided = decide(console, who, alert_id, decision, note)
    done = f"{DONE[decision]} for {', '.join(decided)}" if decided else "nothing was waiting"
    return _back(local(form.get("next") or _alert_path(alert_id)), done)


def silence_body(form: dict[str, str]) -> dict[str, Any]:
    """The silence form (comma-separated lists) as the API's JSON body, for triage.silence."""
    lists = {k: [v.strip() for v in form.get(k, "").split(",") if v.strip()]
             for k in triage.MATCHER_KEYS[:4]}  # fmt: skip
    body: dict[str, Any] = {
        "matchers": {**lists, "text": form.get("text", "")},
        "reason": form.get("reason", ""),
    }
    if form.get("ends", "").strip():
        body["ends"] = form["ends"].strip()
    elif form.get("duration", "").strip():
        body["duration"] = form["duration"].strip()
    return body


@route("POST", "/silences", "analyst", api=False)
def create_silence(console: Console, req: Request, who: Who) -> Response:
    form = req.form()
    try:
        s = triage.silence(silence_body(form), now=console.now(), actor=who.name,
                           new_id=new_silence_id())  # fmt: skip
    except FieldError as exc:  # the form again, as it was typed, saying what to fix
        return screens.silences_page(console, who, form, 400, error=exc)
    console.store.add_silence(s)
    return _back("/silences", f"silence {s.id} created")


@route("POST", "/silences/{silence_id}/expire", "analyst", api=False)
def expire_silence(console: Console, req: Request, who: Who, silence_id: str) -> Response:
    if console.store.expire_silence(silence_id, who.name, console.now()) is None:
        raise Refused(404, f"no silence {silence_id[:80]}")
    return _back("/silences", f"silence {silence_id} expired")


@route("POST", "/outbox/retry", "analyst", api=False)
def retry(console: Console, req: Request, who: Who) -> Response:
    dead = req.form().get("dead", "") == "1"
    n = console.store.retry(console.now(), include_dead=dead)
    return _back("/outbox", f"{n} deliveries due now" + (" (dead ones included)" if dead else ""))


ROUTES = [set_state, assign, add_note, review, create_silence, expire_silence, retry]
