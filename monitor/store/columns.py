"""The columns the console's list filters on, filled when an alert is recorded, and the
history line and silenced outbox rows written beside it."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from monitor.model import Alert, Routed
from monitor.store import Tx
from monitor.store.serialize import ts

# the combining marks NFKD leaves after a base letter: Latin, Greek and Cyrillic accents,
# their extensions and supplements, Arabic harakat and the superscript alef
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
                    "\u064b-\u065f\u0670]+")  # fmt: skip


def searchable(text: str) -> str:
    """Case and accents folded, so `q` finds "Génocide" as "genocide" on either engine (one
    regex over the decomposed text: a generator per character cost 0.35 ms an alert)."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))


def console_columns(alert: Alert) -> tuple[str, str, str, str]:
    """(title, themes, tags, search) of an alert as the list filters read them."""
    item = alert.item
    tags = sorted(set(item.tags if item else ()) | {t for m in alert.matches for t in m.route_tags})
    said = [
        alert.title,
        item.summary if item else "",
        alert.text,
        *(s.title for s in alert.sources),
    ]
    return alert.title, " ".join(alert.themes), " ".join(tags), searchable(" ".join(said))[:20000]


def record_silenced(tx: Tx, routed: Routed, now: datetime) -> None:
    """A silenced alert's outbox rows, kept as `silenced`, and its history line (its state and
    the silence's id are in the alert's own row)."""
    if routed.silence is None:
        return
    alert_id = routed.alert.id
    for channel in routed.silenced:
        tx.x(
            "INSERT INTO outbox (alert_id, channel, status, next_attempt, created, silence_id) "
            "VALUES (?, ?, 'silenced', ?, ?, ?) ON CONFLICT (alert_id, channel) DO NOTHING",
            (alert_id, channel, ts(now), ts(now), routed.silence),
        )
    shown = ", ".join(routed.silenced) or "no channel"
    event(tx, alert_id, "monitor", "silenced", f"by silence {routed.silence} ({shown})", now)


def event(tx: Tx, alert_id: str, actor: str, action: str, detail: str, now: datetime) -> None:
    tx.x(
        "INSERT INTO history (alert_id, actor, action, detail, created) VALUES (?, ?, ?, ?, ?)",
        (alert_id, actor, action, detail, ts(now)),
    )
