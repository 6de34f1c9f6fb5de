"""The console's requests, checked: list filters and their cursor, state changes, silences
from a JSON body, and which channels a silence keeps an alert from. Pure."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.config.reader import parse_duration
from monitor.errors import FieldError
from monitor.match.fold import fold
from monitor.model import Alert, Routed, Severity
from monitor.model.console import ALL_STATES, DECISIONS, STATES, Filters, Matchers, Silence

MAX_LIMIT = 50  # pages list at most 50 rows (the bound; the API keeps it too)
TEXT_MAX = 4000  # a note, a reason: enough for a paragraph, bounded for the store
MATCHER_KEYS = ("rule", "country", "feed", "channel", "text")


def parse_time(value: str, name: str) -> datetime:
    """An ISO 8601 time (a date alone is its midnight UTC); naive means UTC."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        shown = f'"{value[:40]}"'
        raise FieldError(name, f"{shown} is not an ISO 8601 time, e.g. 2026-05-01T12:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def encode_cursor(after: tuple[float, str]) -> str:
    return base64.urlsafe_b64encode(f"{after[0]!r} {after[1]}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        created, alert_id = raw.split(" ", 1)
        return float(created), alert_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise FieldError(
            "cursor", "not a cursor this server gave; start again without it"
        ) from None


def filters(query: Mapping[str, str]) -> Filters:
    """The alert list's query parameters -> Filters; FieldError naming the bad one."""
    states = tuple(s for s in query.get("state", "").split(",") if s)
    for s in states:
        if s not in ALL_STATES:
            raise FieldError("state", f'"{s[:40]}" is not one of {", ".join(ALL_STATES)}')
    return Filters(
        state=states,
        severity=_severity(query.get("severity", "")),
        rule=query.get("rule", "").strip(),
        country=query.get("country", "").strip().upper(),
        lang=_lang(query.get("lang", "")),
        tag=query.get("tag", "").strip(),
        q=query.get("q", "").strip()[:200],
        kind=query.get("kind", "").strip(),
        assignee=query.get("assignee", "").strip(),
        since=parse_time(query["since"], "since") if query.get("since") else None,
        until=parse_time(query["until"], "until") if query.get("until") else None,
        limit=limit(query.get("limit", "")),
        after=decode_cursor(query["cursor"]) if query.get("cursor") else None,
    )


def _lang(text: str) -> str:
    """An ISO 639-1 code ("AR" -> "ar"), or "" for any language."""
    code = text.strip().lower()
    if code and not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise FieldError("lang", f'"{code[:20]}" is not a two-letter ISO 639-1 code, e.g. ar')
    return code


def _severity(text: str) -> Severity | None:
    if not text:
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise FieldError("severity", str(exc)) from None


def limit(text: str, most: int = MAX_LIMIT) -> int:
    """A page size from a query string: `most` when empty, else a whole number 1..most."""
    if not text:
        return most
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise FieldError("limit", f'"{text[:20]}" must be a whole number from 1 to {most}')
    return int(text)


def state(value: object) -> str:
    """A state an analyst may set."""
    return _one_of(value, STATES, "state")


def decision(value: object) -> str:
    """A review decision: approve or reject."""
    return _one_of(value, DECISIONS, "decision")


def _one_of(value: object, allowed: Sequence[str], field: str) -> str:
    if value not in allowed:
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        raise FieldError(field, f"{shown[:60]} is not one of {', '.join(allowed)}")
    assert isinstance(value, str)
    return value


def text(body: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    """A bounded free-text field of a JSON body."""
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(name, "must be a string")
    if required and not value.strip():
        raise FieldError(name, "missing; write a few words")
    if len(value) > TEXT_MAX:
        raise FieldError(name, f"longer than {TEXT_MAX} characters")
    return value.strip()


def silence(body: Mapping[str, Any], *, now: datetime, actor: str, new_id: str) -> Silence:
    """POST /api/v1/silences' body -> a Silence starting now; FieldError naming the bad key."""
    raw = body.get("matchers")
    if not isinstance(raw, Mapping):
        raise FieldError("matchers", 'missing; give e.g. {"rule": ["genocide"]}')
    matchers = _matchers(raw)
    if matchers == Matchers():
        raise FieldError("matchers", "empty; a silence must name what it covers")
    return Silence(
        id=new_id,
        matchers=matchers,
        reason=text(body, "reason", required=True),
        created_by=actor,
        created=now,
        starts=now,
        ends=_ends(body, now),
    )


def _matchers(raw: Mapping[str, Any]) -> Matchers:
    for key in raw:
        if key not in MATCHER_KEYS:
            raise FieldError(f"matchers.{key}", f"unknown; use {', '.join(MATCHER_KEYS)}")
    lists = {k: _strings(raw.get(k, []), f"matchers.{k}") for k in MATCHER_KEYS[:4]}
    lists["country"] = tuple(c.upper() for c in lists["country"])
    phrase = raw.get("text", "")
    if not isinstance(phrase, str) or len(phrase) > 200:
        raise FieldError("matchers.text", "must be a string of at most 200 characters")
    return Matchers(**lists, text=phrase.strip())


def _strings(value: object, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise FieldError(name, "must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _ends(body: Mapping[str, Any], now: datetime) -> datetime:
    if "ends" in body:
        if not isinstance(body["ends"], str):
            raise FieldError("ends", "must be an ISO 8601 time")
        ends = parse_time(body["ends"], "ends")
    elif "duration" in body:
        try:
            ends = now + timedelta(seconds=parse_duration(body["duration"]))
        except ValueError as exc:
            raise FieldError("duration", str(exc)) from None
    else:
        raise FieldError("duration", 'missing; give "duration": "4h" or "ends": an ISO time')
    if ends <= now:
        raise FieldError("ends" if "ends" in body else "duration", "must end in the future")
    return ends


def covers(m: Matchers, alert: Alert) -> bool:
    """True when every key the matchers give (channel aside) holds for the alert."""
    if m.rule and not ({r.id for r in alert.rules} | set(alert.themes)) & set(m.rule):
        return False
    if m.country and not set(alert.countries) & set(m.country):
        return False
    feeds = {s.feed for s in alert.sources} | ({alert.item.feed} if alert.item else set())
    if m.feed and not feeds & set(m.feed):
        return False
    if m.text:
        said = f"{alert.title} {alert.item.summary if alert.item else ''} {alert.text}"
        return f" {fold(m.text)} " in f" {fold(said)} "
    return True


def apply(routed: Routed, silences: Sequence[Silence], now: datetime) -> Routed:
    """The routed alert with the channels an active silence covers taken off (recorded as
    silenced); the first silence that covers it names it."""
    for s in silences:
        if not s.active(now) or not covers(s.matchers, routed.alert):
            continue
        only = set(s.matchers.channel)  # empty: every channel
        routes = (*routed.send, *routed.hold, *routed.review)
        taken = tuple(n for n in routes if not only or n in only)
        if only and not taken:
            continue  # it silences only channels this alert does not go to
        return replace(
            routed,
            send=tuple(n for n in routed.send if n not in taken),
            hold=tuple(n for n in routed.hold if n not in taken),
            review=tuple(n for n in routed.review if n not in taken),
            silenced=taken,
            silence=s.id,
        )
    return routed
