"""Benchmark of feed parsing: feedparser, the lxml fast path, and both through the process pool.

Over the real captures in ../shared/corpus/real-feeds, each parsed --copies times (10 by
default), in this one process unless said otherwise:

- feedparser: `parse_slow` (refuse_hostile, repair_utf8, feedparser) in this thread;
- fast: `parse_fast` in this thread (the one capture it declines is left out of its count);
- pool-all: every parse sent to a 2-worker ParsePool, the fast path run in the worker and
  the ParsedFeed pickled back (what the pool would do with a fast parser and no change);
- pool-inline: ParsePool.parse as shipped: the fast path in the calling thread, only
  feedparser's reading sent to the pool;
- pickle: dumps+loads of every fast ParsedFeed, the cost the pool adds per document.

Entries per second of wall time; feedparser and fast also per CPU-second of this process.

    .venv/bin/python bench/parse.py [--copies 10] [--corpus ../shared/corpus/real-feeds]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.model import ParsedFeed  # noqa: E402
from monitor.reader.parse import parse_fast, parse_slow  # noqa: E402
from monitor.reader.pool import ParsePool  # noqa: E402

HEADERS = {"content-type": "application/xml"}
URL = "http://example.org/feed.xml"
Doc = tuple[str, bytes]


def timed(docs: list[Doc], parse: Callable[[bytes], ParsedFeed | None]) -> dict[str, float]:
    entries = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for _name, body in docs:
        parsed = parse(body)
        entries += len(parsed.entries) if parsed is not None else 0
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "entries": entries,
        "seconds": round(wall, 3),
        "entries_per_s": round(entries / wall),
        "entries_per_cpu_s": round(entries / cpu) if cpu else 0,
    }


def pickled(docs: list[Doc]) -> dict[str, float]:
    feeds = [f for _n, b in docs if (f := parse_fast(b, HEADERS, URL)) is not None]
    start = time.perf_counter()
    size = 0
    for feed in feeds:
        blob = pickle.dumps(feed)
        size += len(blob)
        pickle.loads(blob)
    wall = time.perf_counter() - start
    return {"documents": len(feeds), "seconds": round(wall, 3), "bytes": size}


def through(pool: ParsePool, docs: list[Doc]) -> dict[str, float]:
    pool.parse(docs[0][1], HEADERS, URL)  # start the workers outside the timing
    return timed(docs, lambda b: pool.parse(b, HEADERS, URL))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=10)
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-feeds"
    ap.add_argument("--corpus", type=Path, default=default)
    args = ap.parse_args()
    files = sorted(p for p in args.corpus.glob("*.xml"))
    docs = [(p.name, p.read_bytes()) for p in files] * args.copies
    fast_docs = [d for d in docs if parse_fast(d[1], HEADERS, URL) is not None]
    out: dict[str, object] = {"files": len(files), "copies": args.copies}
    out["feedparser"] = timed(docs, lambda b: parse_slow(b, HEADERS, URL))
    out["fast"] = timed(fast_docs, lambda b: parse_fast(b, HEADERS, URL))
    out["pickle"] = pickled(fast_docs)
    for label, inline in (("pool-all", False), ("pool-inline", True)):
        pool = ParsePool(2, 60.0, inline_fast=inline)
        try:
            out[label] = through(pool, docs)
        finally:
            pool.close()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
