"""The console's SQL: the alert list (filters, keyset pages), one alert's deliveries, notes
and history, triage writes with their history, silences, items marked missed and the
columns the list filters on (filled when an alert is recorded, backfilled by migration 6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from monitor.model import Source
from monitor.model.console import (
    DeliveryView,
    Detail,
    Event,
    Filters,
    Listed,
    Matchers,
    Note,
    Page,
    Silence,
)
from monitor.store import Tx
from monitor.store.columns import console_columns, event, searchable
from monitor.store.serialize import alert_from_dict, at, from_ts, ts
from monitor.store.stories import in_chunks

LISTED = "id, body, state, assignee, silence_id, updated, created"


def backfill(tx: Tx) -> None:
    """Fill the list's columns of alerts recorded before migration 6."""
    for alert_id, body in tx.q("SELECT id, body FROM alerts"):
        title, themes, tags, search = console_columns(alert_from_dict(json.loads(body)))
        tx.x(
            "UPDATE alerts SET title = ?, themes = ?, tags = ?, search = ? WHERE id = ?",
            (title, themes, tags, search, alert_id),
        )


def backfill_lang(tx: Tx) -> None:
    """Fill alerts.lang of alerts recorded before migration 10: their item's, in the body."""
    for alert_id, body in tx.q("SELECT id, body FROM alerts"):
        item = json.loads(body).get("item") or {}
        if item.get("lang"):
            tx.x("UPDATE alerts SET lang = ? WHERE id = ?", (item["lang"], alert_id))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(value: str) -> str:
    """A LIKE pattern for a space-separated column holding `value` as one word."""
    return f"% {_escape(value)} %"


def _where(f: Filters) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        parts.append(sql)
        params.extend(values)

    if f.state:
        add(f"state IN ({', '.join('?' * len(f.state))})", *f.state)
    if f.severity is not None:
        add("severity >= ?", int(f.severity))
    if f.rule:
        add(
            "(' ' || rule_ids || ' ' LIKE ? ESCAPE '\\' "
            "OR ' ' || themes || ' ' LIKE ? ESCAPE '\\')",
            _like(f.rule),
            _like(f.rule),
        )
    if f.country:
        add("' ' || countries || ' ' LIKE ? ESCAPE '\\'", _like(f.country))
    if f.lang:
        add("lang = ?", f.lang)
    if f.tag:
        add("' ' || tags || ' ' LIKE ? ESCAPE '\\'", _like(f.tag))
    if f.q:
        add("search LIKE ? ESCAPE '\\'", f"%{_escape(searchable(f.q))}%")
    if f.kind:
        add("kind = ?", f.kind)
    if f.assignee:
        add("assignee = ?", f.assignee)
    if f.since:
        add("created >= ?", ts(f.since))
    if f.until:
        add("created < ?", ts(f.until))
    if f.after:
        # `created <= ?` makes it a range on alerts_created: a page costs the same at any
        # depth (the bare OR read the index from the newest row down: 55 ms at row 99,900)
        add("created <= ? AND (created < ? OR id < ?)", f.after[0], f.after[0], f.after[1])
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


class ConsoleSql:
    """The console's reads and writes, mixed into SqlStore (which gives `_tx`)."""

    def _tx(self) -> Any:
        raise NotImplementedError

    # -- reading ---------------------------------------------------------------
    def list_alerts(self, f: Filters) -> Page:
        """Newest first, `f.limit` rows after `f.after`; `after` of the page for the next."""
        where, params = _where(f)
        sql = f"SELECT {LISTED} FROM alerts{where} ORDER BY created DESC, id DESC LIMIT ?"
        with self._tx() as tx:
            rows = tx.q(sql, [*params, f.limit + 1])
            listed = listed_rows(tx, rows[: f.limit])
        more = len(rows) > f.limit
        last = rows[f.limit - 1] if more else None
        return Page(tuple(listed), (float(last[6]), str(last[0])) if last else None)

    def alert_detail(self, alert_id: str) -> Detail | None:
        with self._tx() as tx:
            rows = tx.q(f"SELECT {LISTED} FROM alerts WHERE id = ?", (alert_id,))
            if not rows:
                return None
            deliveries = tx.q(
                "SELECT id, channel, status, attempts, last_error, next_attempt, sent_at, "
                "unreviewed, silence_id FROM outbox WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            )
            notes = tx.q(
                "SELECT author, text, created FROM notes WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            )
            history = tx.q(
                "SELECT actor, action, detail, created FROM history WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            )
            listed = listed_rows(tx, rows)[0]
        return Detail(
            listed,
            tuple(_delivery_view(r) for r in deliveries),
            tuple(Note(r[0], r[1], at(r[2])) for r in notes),
            tuple(Event(r[0], r[1], r[2], at(r[3])) for r in history),
        )

    # -- triage ----------------------------------------------------------------
    def set_state(self, alert_id: str, state: str, actor: str, note: str, now: datetime) -> bool:
        with self._tx() as tx:
            old = tx.q("SELECT state FROM alerts WHERE id = ?", (alert_id,))
            if not old:
                return False
            tx.x(
                "UPDATE alerts SET state = ?, updated = ? WHERE id = ?", (state, ts(now), alert_id)
            )
            event(tx, alert_id, actor, "state", f"{old[0][0]} -> {state}", now)
            if note:
                _note(tx, alert_id, actor, note, now)
        return True

    def assign(self, alert_id: str, assignee: str | None, actor: str, now: datetime) -> bool:
        with self._tx() as tx:
            n = tx.x(
                "UPDATE alerts SET assignee = ?, updated = ? WHERE id = ?",
                (assignee, ts(now), alert_id),
            )
            if n:
                event(tx, alert_id, actor, "assign", assignee or "(nobody)", now)
        return bool(n == 1)

    def add_note(self, alert_id: str, author: str, text: str, now: datetime) -> bool:
        with self._tx() as tx:
            if not tx.q("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)):
                return False
            _note(tx, alert_id, author, text, now)
        return True

    # -- silences ----------------------------------------------------------------
    def add_silence(self, s: Silence) -> None:
        with self._tx() as tx:
            tx.x(
                "INSERT INTO silences (id, matchers, reason, created_by, created, starts, ends) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (s.id, json.dumps(_matchers_dict(s.matchers)), s.reason, s.created_by,
                 ts(s.created), ts(s.starts), ts(s.ends)),
            )  # fmt: skip

    def silences(self, now: datetime, since: datetime) -> list[Silence]:
        """Active ones first (ending soonest first), then those ended since `since`."""
        with self._tx() as tx:
            rows = tx.q(
                f"SELECT {_SILENCE} FROM silences WHERE ends >= ? ORDER BY ends", (ts(since),)
            )
        found = [_silence(r) for r in rows]
        return [s for s in found if s.active(now)] + [s for s in found if not s.active(now)]

    def active_silences(self, now: datetime) -> list[Silence]:
        with self._tx() as tx:
            rows = tx.q(
                f"SELECT {_SILENCE} FROM silences WHERE starts <= ? AND ends > ? ORDER BY created",
                (ts(now), ts(now)),
            )
        return [_silence(r) for r in rows]

    def silence(self, silence_id: str) -> Silence | None:
        with self._tx() as tx:
            rows = tx.q(f"SELECT {_SILENCE} FROM silences WHERE id = ?", (silence_id,))
        return _silence(rows[0]) if rows else None

    def expire_silence(self, silence_id: str, actor: str, now: datetime) -> Silence | None:
        """End it now (kept, for the list of recent ones); None when unknown."""
        with self._tx() as tx:
            tx.x(
                "UPDATE silences SET ends = ?, expired_by = ? WHERE id = ? AND ends > ?",
                (ts(now), actor, silence_id, ts(now)),
            )
            rows = tx.q(f"SELECT {_SILENCE} FROM silences WHERE id = ?", (silence_id,))
        return _silence(rows[0]) if rows else None


_SILENCE = "id, matchers, reason, created_by, created, starts, ends, expired_by"


def _matchers_dict(m: Matchers) -> dict[str, Any]:
    return {"rule": list(m.rule), "country": list(m.country), "feed": list(m.feed),
            "channel": list(m.channel), "text": m.text}  # fmt: skip


def _silence(r: Sequence[Any]) -> Silence:
    d = json.loads(r[1])
    lists = [tuple(d.get(k, ())) for k in ("rule", "country", "feed", "channel")]
    m = Matchers(lists[0], lists[1], lists[2], lists[3], d.get("text", ""))
    return Silence(r[0], m, r[2], r[3], at(r[4]), at(r[5]), at(r[6]), r[7])


def _note(tx: Tx, alert_id: str, author: str, text: str, now: datetime) -> None:
    tx.x(
        "INSERT INTO notes (alert_id, author, text, created) VALUES (?, ?, ?, ?)",
        (alert_id, author, text, ts(now)),
    )
    event(tx, alert_id, author, "note", text[:200], now)


def _delivery_view(r: Sequence[Any]) -> DeliveryView:
    next_attempt = from_ts(r[5]) if r[2] in ("pending", "review") else None
    return DeliveryView(int(r[0]), r[1], r[2], int(r[3]), r[4], next_attempt, from_ts(r[6]),
                        bool(r[7]), r[8])  # fmt: skip


def listed_rows(tx: Tx, rows: Sequence[Sequence[Any]]) -> list[Listed]:
    """Rows of LISTED -> alerts with every source, in the rows' order."""
    sources: dict[str, list[Source]] = {}
    for marks, chunk in in_chunks([r[0] for r in rows]):
        for alert_id, feed, title, link, published, key, lang in tx.q(
            "SELECT alert_id, feed, title, link, published, item_key, lang FROM sources "
            f"WHERE alert_id IN ({marks}) ORDER BY added",
            chunk,
        ):
            source = Source(feed, title, link, at(published), key, lang)
            sources.setdefault(alert_id, []).append(source)
    out = []
    for alert_id, body, state, assignee, silence_id, updated, _ in rows:
        alert = alert_from_dict(json.loads(body))
        if alert_id in sources:
            alert = replace(alert, sources=tuple(sources[alert_id]))
        out.append(Listed(alert, state, assignee, silence_id, from_ts(updated)))
    return out
