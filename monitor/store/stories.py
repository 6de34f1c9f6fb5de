"""The story writes of one poll, inside its transaction: the rows the caller's decisions are
taken on (recent match alerts, candidates already recorded), then each placement applied
(alert row, sources, hits, outbox rows) and each corroboration marked once. The decisions
themselves are the caller's (`StoryDecisions`, see monitor/alerts/decide.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from monitor.model import Alert, AlertKind, Placement, Routed, Source
from monitor.store import SaveOutcome, StoryDecisions, Tx
from monitor.store.columns import console_columns, record_silenced, searchable
from monitor.store.serialize import alert_from_dict, alert_to_dict, at, ts

_CHUNK = 400  # ids per IN (...) list, well under every engine's parameter limit


def in_chunks(values: Sequence[str]) -> Iterator[tuple[str, list[str]]]:
    """(placeholders, chunk) for `... IN ({placeholders})` over values, _CHUNK at a time."""
    for start in range(0, len(values), _CHUNK):
        chunk = list(values[start : start + _CHUNK])
        yield ", ".join("?" * len(chunk)), chunk


class AlertCache:
    """Decoded alert bodies by id, shared by the threads of one store object.

    A body never changes once inserted, so each is decoded once instead of on every poll
    with a candidate (quadratic in alerts over a cold cycle). Polls, channel drains and the
    delivery of digests read it from their own threads: hence the lock."""

    def __init__(self) -> None:
        self._bodies: dict[str, Alert] = {}
        self._lock = threading.Lock()

    def recent(self, tx: Tx, since: float) -> list[Alert]:
        """Match alerts created since then, oldest first (bodies only: no sources)."""
        sql = "SELECT id FROM alerts WHERE kind = ? AND created >= ? ORDER BY created, id"
        ids = [r[0] for r in tx.q(sql, (AlertKind.MATCH, since))]
        bodies = self._bodies_of(tx, ids)
        with self._lock:
            if len(self._bodies) > 2 * len(ids) + 1000:  # drop what has left the window
                self._bodies = {i: self._bodies[i] for i in ids if i in self._bodies}
        return [bodies[i] for i in ids if i in bodies]

    def _bodies_of(self, tx: Tx, ids: Sequence[str]) -> dict[str, Alert]:
        with self._lock:
            found = {i: self._bodies[i] for i in ids if i in self._bodies}
        missing = [i for i in ids if i not in found]
        for marks, chunk in in_chunks(missing):
            for alert_id, body in tx.q(f"SELECT id, body FROM alerts WHERE id IN ({marks})", chunk):
                found[alert_id] = alert_from_dict(json.loads(body))
        with self._lock:
            self._bodies.update(found)
        return found

    def load(self, tx: Tx, alert_id: str) -> Alert | None:
        """One alert with every source it has."""
        body = self._bodies_of(tx, [alert_id]).get(alert_id)
        return None if body is None else with_sources(tx, body)


def load_alert(tx: Tx, alert_id: str) -> Alert | None:
    rows = tx.q("SELECT body FROM alerts WHERE id = ?", (alert_id,))
    return with_sources(tx, alert_from_dict(json.loads(rows[0][0]))) if rows else None


def with_sources(tx: Tx, alert: Alert) -> Alert:
    """The alert's sources from the sources table; rows written before the table was the only
    copy keep the sources of their body when the table has none."""
    rows = tx.q(
        "SELECT feed, title, link, published, item_key, lang FROM sources WHERE alert_id = ? "
        "ORDER BY added",
        (alert.id,),
    )
    if not rows:
        return alert
    return replace(alert, sources=tuple(Source(r[0], r[1], r[2], at(r[3]), *r[4:]) for r in rows))


def existing(tx: Tx, ids: Sequence[str]) -> set[str]:
    """Which of these alert ids are recorded already."""
    found: set[str] = set()
    for marks, chunk in in_chunks(ids):
        found.update(r[0] for r in tx.q(f"SELECT id FROM alerts WHERE id IN ({marks})", chunk))
    return found


def apply(
    tx: Tx,
    placement: Placement,
    stories: StoryDecisions,
    cache: AlertCache,
    now: datetime,
    out: SaveOutcome,
) -> None:
    """Write one placement: a new alert, or one more source of its story (then maybe the
    story's corroboration notice, right behind it in the outbox)."""
    alert = placement.alert.alert
    _record_hits(tx, alert, now)
    if placement.story is None:
        if alert.suppressed is not None:
            out.suppressed.append(alert.id)
        if insert_alert(tx, placement.alert, now):
            out.created.append(alert.id)
            note_unrouted(placement.alert, out)
        return
    assert placement.source is not None and alert.item is not None
    if _add_source(tx, placement.story, placement.source, now, alert.item.summary):
        out.attached.append(placement.story)
        _corroborate(tx, placement.story, stories, cache, now, out)


def _corroborate(
    tx: Tx,
    story_id: str,
    stories: StoryDecisions,
    cache: AlertCache,
    now: datetime,
    out: SaveOutcome,
) -> None:
    story = cache.load(tx, story_id)
    decided = stories.corroborate(story, now) if story else None
    if decided is None:
        return
    once = "UPDATE alerts SET corroborated = 1 WHERE id = ? AND corroborated = 0"
    if tx.x(once, (story_id,)) != 1:
        return  # already announced once (perhaps by another instance)
    if decided.notice and insert_alert(tx, decided.notice, now):
        out.corroborated.append(decided.notice.alert.id)
        note_unrouted(decided.notice, out)


def unrouted_why(routed: Routed) -> str | None:
    """Why a recorded alert goes to no channel; None when it goes somewhere, or when a
    cooldown holds it back (that is said by `suppressed`)."""
    alert = routed.alert
    if routed.send or routed.hold or routed.review or alert.suppressed is not None:
        return None
    if alert.matches and all(m.channels for m in alert.matches):
        hinted = ", ".join(sorted({c for m in alert.matches for c in m.channels}))
        return (
            f"its rules send it only to channels {hinted}, and none of them takes it "
            "(no such channel, or its filters refuse it)"
        )
    return "no channel's filters (kinds, min_severity, rules, tags, countries) let it through"


def note_unrouted(routed: Routed, out: SaveOutcome) -> None:
    why = unrouted_why(routed)
    if why is not None:
        out.unrouted[routed.alert.id] = why


def insert_alert(tx: Tx, routed: Routed, now: datetime) -> bool:
    """The alert once (its sources in the sources table only), with its outbox rows."""
    alert = routed.alert
    body = alert_to_dict(alert)
    del body["sources"]
    inserted = tx.x(
        "INSERT INTO alerts (id, kind, created, severity, rule_ids, countries, link, suppressed, "
        "body, unrouted, title, themes, tags, search, state, silence_id, lang) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (
            alert.id,
            alert.kind,
            ts(alert.created),
            int(alert.severity),
            " ".join(r.id for r in alert.rules),
            " ".join(alert.countries),
            alert.item.link if alert.item else None,
            alert.suppressed,
            json.dumps(body, ensure_ascii=False),
            unrouted_why(routed),
            *console_columns(alert),
            "new" if routed.silence is None else "silenced",
            routed.silence,
            alert.lang,
        ),
    )
    if inserted != 1:
        return False
    record_silenced(tx, routed, now)
    for source in alert.sources:
        own = alert.item and alert.item.key == source.item_key and alert.item.feed == source.feed
        _add_source(tx, alert.id, source, now, alert.item.summary if own and alert.item else None)
    _enqueue(tx, routed, now)
    return True


def _enqueue(tx: Tx, routed: Routed, now: datetime) -> None:
    rows = [(c, "pending") for c in routed.send] + [(c, "held") for c in routed.hold]
    rows += [(c, "review") for c in routed.review]  # waits for decide_review (store/reviews.py)
    for channel, status in rows:
        tx.x(
            "INSERT INTO outbox (alert_id, channel, status, next_attempt, created) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (alert_id, channel) DO NOTHING",
            (routed.alert.id, channel, status, ts(now), ts(now)),
        )


def _add_source(
    tx: Tx, alert_id: str, s: Source, now: datetime, summary: str | None = None
) -> bool:
    sql = (
        "INSERT INTO sources (alert_id, feed, item_key, title, link, published, added, summary, "
        "lang) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    )
    values = (alert_id, s.feed, s.item_key, s.title, s.link, ts(s.published), ts(now),
              summary, s.lang)  # fmt: skip
    if tx.x(sql, values) != 1:
        return False
    # the list's `q` finds a story by any of its reports' titles
    tx.x(
        "UPDATE alerts SET search = search || ' ' || ? WHERE id = ?",
        (searchable(s.title), alert_id),
    )
    return True


def _record_hits(tx: Tx, alert: Alert, now: datetime) -> None:
    assert alert.item is not None
    for rule in alert.rules:
        for country in alert.countries or ("",):
            tx.x(
                "INSERT INTO hits (feed, item_key, created, rule_id, theme, country) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (alert.item.feed, alert.item.key, ts(now), rule.id, rule.theme, country),
            )
