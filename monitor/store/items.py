"""Kept items: every new item written beside its seen row (one batch per poll), searched by
folded words and phrases on either engine's full-text index, newest seen first."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.model import Item
from monitor.model.search import ItemPage, ItemQuery, Kept
from monitor.store import Tx
from monitor.store.columns import searchable
from monitor.store.serialize import at, ts

_WORD = re.compile(r"[^\W_]+")  # letters and digits: what both engines' indexes call a word
KEPT = "id, key, feed, title, summary, link, published, seen, lang, countries, score, alert_id"
_INSERT = (
    "INSERT INTO items (feed, key, title, summary, link, published, seen, lang, countries, "
    "score, alert_id, search) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)


def words(text: str) -> list[str]:
    """The folded words of `text` (case and accents off), as the index stores them."""
    return _WORD.findall(searchable(text))


def record(
    tx: Tx,
    items: Sequence[Item],
    scores: Mapping[str, float],
    alert_ids: Mapping[str, str],
    now: datetime,
) -> None:
    """Keep the poll's new items in one executemany (the caller's transaction)."""
    if not items:
        return
    tx.xm(_INSERT, [_row(i, scores.get(i.key), alert_ids.get(i.key), now) for i in items])


def _row(item: Item, score: float | None, alert_id: str | None, now: datetime) -> list[Any]:
    text = " ".join(words(f"{item.title} {item.summary}"))
    rounded = None if score is None else round(score, 4)
    return [item.feed, item.key, item.title, item.summary, item.link, ts(item.published),
            ts(now), item.lang, " ".join(item.countries), rounded, alert_id, text]  # fmt: skip


def _match(dialect: str, terms: tuple[tuple[str, ...], ...]) -> tuple[str, list[Any]]:
    """The full-text condition: every word and phrase of `terms`. Terms are folded words
    (letters and digits only) and reach the engine as bound values, never as syntax."""
    if dialect == "sqlite":
        # each a quoted FTS5 string: a phrase of its words; strings side by side AND
        return "items_fts MATCH ?", [" ".join('"' + " ".join(t) + '"' for t in terms)]
    query = " && ".join(["phraseto_tsquery('simple', ?)"] * len(terms))
    return f"tsv @@ ({query})", [" ".join(t) for t in terms]


def _select(dialect: str, q: ItemQuery) -> tuple[str, list[Any]]:
    """The page's SELECT. On SQLite a query with words walks the FTS5 index from its newest
    row and stops after a page (a word in most items: 0.15 against 24 ms over 20,000, where
    `id IN (matches)` reads every match first); with a feed, which few matches may have, the
    items_feed index leads and the matches are read once as a set."""
    parts: list[str] = []
    params: list[Any] = []
    fts_first = dialect == "sqlite" and bool(q.terms) and not q.feed
    if q.terms:
        sql, values = _match(dialect, q.terms)
        if dialect == "sqlite" and not fts_first:
            sql = f"id IN (SELECT rowid FROM items_fts WHERE {sql})"
        parts.append(sql)
        params += values
    if q.feed:
        parts.append("feed = ?")
        params.append(q.feed)
    if q.country:
        parts.append("' ' || countries || ' ' LIKE ?")
        params.append(f"% {q.country} %")  # a code of letters only (checked by the caller)
    if q.lang:
        parts.append("lang = ?")
        params.append(q.lang)
    for sql, value in (("seen >= ?", q.since), ("seen < ?", q.until)):
        if value is not None:
            parts.append(sql)
            params.append(ts(value))
    order = "items_fts.rowid" if fts_first else "id"
    if q.after is not None:
        parts.append(f"{order} < ?")
        params.append(q.after)
    where = (" WHERE " + " AND ".join(parts)) if parts else ""
    source = "items_fts JOIN items ON items.id = items_fts.rowid" if fts_first else "items"
    sql = f"SELECT {KEPT} FROM {source}{where} ORDER BY {order} DESC LIMIT ?"
    return sql, [*params, q.limit + 1]


def kept(row: Sequence[Any]) -> Kept:
    return Kept(
        id=int(row[0]),
        key=row[1],
        feed=row[2],
        title=row[3],
        summary=row[4],
        link=row[5],
        published=at(row[6]),
        seen=at(row[7]),
        lang=row[8],
        countries=tuple(row[9].split()),
        score=None if row[10] is None else float(row[10]),
        alert_id=row[11],
    )


class ItemsSql:
    """The item search, mixed into SqlStore (which gives `_tx`; the engine its dialect)."""

    dialect = ""

    def _tx(self) -> Any:
        raise NotImplementedError

    def search_items(self, q: ItemQuery) -> ItemPage:
        """Kept items that match `q`, newest first (by id: the order they were first seen,
        which both indexes can walk backwards and stop after a page)."""
        sql, params = _select(self.dialect, q)
        with self._tx() as tx:
            rows = tx.q(sql, params)
        found = tuple(kept(r) for r in rows[: q.limit])
        return ItemPage(found, found[-1].id if len(rows) > q.limit else None)
