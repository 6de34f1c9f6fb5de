"""Alerts inside the poll transaction: story clustering, cooldown, sources, corroboration,
outbox rows. Every function takes the open transaction, so each decision and its write
are one atomic step (see dedup.py for the pure decisions)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime

from monitor.alerts import stories as dedup
from monitor.model import Alert, AlertKind, Source
from monitor.store import Router, SaveOutcome, StoryPolicy, Tx
from monitor.store.serialize import alert_from_dict, alert_to_dict, from_ts, ts


class StoryCache:
    """Decoded recent stories by alert id, shared by the threads of one store object.

    An alert's body never changes once inserted, so each is decoded and folded once instead
    of on every poll with a candidate (quadratic in alerts over a cold cycle). Polls whose
    alerts fire different rules run side by side (the story locks are per rule), so the
    cache has a lock of its own."""

    def __init__(self) -> None:
        self._refs: dict[str, dedup.StoryRef] = {}
        self._lock = threading.Lock()

    def recent(self, tx: Tx, since: float) -> list[dedup.StoryRef]:
        """Match alerts of the story window, oldest first."""
        ids = [
            r[0]
            for r in tx.q(
                "SELECT id FROM alerts WHERE kind = ? AND created >= ? ORDER BY created",
                (AlertKind.MATCH, since),
            )
        ]
        with self._lock:
            missing = [i for i in ids if i not in self._refs]
        decoded = {}
        for start in range(0, len(missing), 400):
            chunk = missing[start : start + 400]
            marks = ", ".join("?" * len(chunk))
            for alert_id, body in tx.q(f"SELECT id, body FROM alerts WHERE id IN ({marks})", chunk):
                decoded[alert_id] = dedup.story_ref(alert_from_dict(json.loads(body)))
        with self._lock:
            self._refs.update(decoded)
            if len(self._refs) > 2 * len(ids) + 1000:  # drop what has left the window
                keep = set(ids)
                self._refs = {i: ref for i, ref in self._refs.items() if i in keep}
            return [self._refs[i] for i in ids if i in self._refs]


def load_alert(tx: Tx, alert_id: str) -> Alert | None:
    rows = tx.q("SELECT body FROM alerts WHERE id = ?", (alert_id,))
    if not rows:
        return None
    alert = alert_from_dict(json.loads(rows[0][0]))
    sources = tx.q(
        "SELECT feed, title, link, published, item_key FROM sources WHERE alert_id = ? "
        "ORDER BY added",
        (alert_id,),
    )
    if sources:
        found = tuple(Source(r[0], r[1], r[2], from_ts(r[3]), r[4]) for r in sources)  # type: ignore[arg-type]
        alert = _with_sources(alert, found)
    return alert


def _with_sources(alert: Alert, sources: tuple[Source, ...]) -> Alert:

    return replace(alert, sources=sources)


def place(
    tx: Tx,
    alert: Alert,
    recent: list[dedup.StoryRef],
    router: Router,
    policy: StoryPolicy,
    now: datetime,
    out: SaveOutcome,
) -> None:
    """Attach the candidate to a recent story, or record it as a new (maybe suppressed) alert."""
    _record_hits(tx, alert, now)
    story = dedup.find_story(alert, recent, policy.similarity, policy.window)
    if story is None and not _alert_exists(tx, alert.id):
        reason = dedup.cooldown_reason(alert, recent)
        if reason:
            from dataclasses import replace

            alert = replace(alert, suppressed=reason)
            out.suppressed.append(alert.id)
        if insert_alert(tx, alert, router, now):
            out.created.append(alert.id)
            recent.append(dedup.story_ref(alert))
        return
    story_id = story.id if story else alert.id
    assert alert.item is not None
    if _add_source(tx, story_id, dedup.source_of(alert.item), now):
        out.attached.append(story_id)
        _maybe_corroborate(tx, story_id, router, policy, now, out)


def _alert_exists(tx: Tx, alert_id: str) -> bool:
    return bool(tx.q("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)))


def insert_alert(tx: Tx, alert: Alert, router: Router, now: datetime) -> bool:
    body = json.dumps(alert_to_dict(alert), ensure_ascii=False)
    inserted = tx.x(
        "INSERT INTO alerts (id, kind, created, severity, rule_ids, countries, link, suppressed, "
        "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (
            alert.id,
            alert.kind,
            ts(alert.created),
            int(alert.severity),
            " ".join(r.id for r in alert.rules),
            " ".join(alert.countries),
            alert.item.link if alert.item else None,
            alert.suppressed,
            body,
        ),
    )
    if inserted != 1:
        return False
    for source in alert.sources:
        _add_source(tx, alert.id, source, now)
    if alert.suppressed is None:
        _enqueue(tx, alert, router, now)
    return True


def _enqueue(tx: Tx, alert: Alert, router: Router, now: datetime) -> None:
    send, hold = router(alert)
    for channel, status in [(c, "pending") for c in send] + [(c, "held") for c in hold]:
        tx.x(
            "INSERT INTO outbox (alert_id, channel, status, next_attempt, created) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (alert_id, channel) DO NOTHING",
            (alert.id, channel, status, ts(now), ts(now)),
        )


def _add_source(tx: Tx, alert_id: str, s: Source, now: datetime) -> bool:
    return (
        tx.x(
            "INSERT INTO sources (alert_id, feed, item_key, title, link, published, added) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (alert_id, s.feed, s.item_key, s.title, s.link, ts(s.published), ts(now)),
        )
        == 1
    )


def _maybe_corroborate(
    tx: Tx, story_id: str, router: Router, policy: StoryPolicy, now: datetime, out: SaveOutcome
) -> None:
    if policy.corroboration <= 0:
        return
    feeds = tx.q("SELECT COUNT(DISTINCT feed) FROM sources WHERE alert_id = ?", (story_id,))
    if int(feeds[0][0]) < policy.corroboration:
        return
    if (
        tx.x("UPDATE alerts SET corroborated = 1 WHERE id = ? AND corroborated = 0", (story_id,))
        != 1
    ):
        return  # already announced once
    story = load_alert(tx, story_id)
    if story is None or story.suppressed:
        return
    notice = dedup.corroboration_alert(story, story.sources, now)
    if insert_alert(tx, notice, router, now):
        out.corroborated.append(notice.id)


def _record_hits(tx: Tx, alert: Alert, now: datetime) -> None:
    assert alert.item is not None
    countries = alert.countries or ("",)
    for rule in alert.rules:
        for country in countries:
            tx.x(
                "INSERT INTO hits (feed, item_key, created, rule_id, theme, country) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (alert.item.feed, alert.item.key, ts(now), rule.id, rule.theme, country),
            )
