"""Benchmark of feed parsing: feedparser, the lxml fast path, and both through the process pool.

Over the real captures in ../shared/corpus/real-feeds, each parsed --copies times (10 by
default), in this one process unless said otherwise:

- feedparser: `parse_slow` (refuse_hostile, repair_utf8, feedparser) in this thread;
- fast: `parse_fast` in this thread (any capture it declines is left out of its count;
  since the second round of issue 13 it reads all 31);
(the pool figures are over the documents the fast path reads, so that feedparser's reading
of any it declines does not blur the comparison)

- pool-all: every parse sent to a 2-worker ParsePool, the fast path run in the worker and
  the ParsedFeed pickled back (what the pool would do with a fast parser and no change);
- pool-inline: ParsePool.parse as shipped: the fast path in the calling thread, only
  feedparser's reading sent to the pool;
- pickle: dumps+loads of every fast ParsedFeed, the cost the pool adds per document.

Entries per second of wall time and per CPU-second of this process; for the pool also the
workers' CPU and entries per CPU-second of all processes together.

    .venv/bin/python bench/parse.py [--copies 10] [--corpus ../shared/corpus/real-feeds]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.model import ParsedFeed
from monitor.reader.parse import parse_fast, parse_slow
from monitor.reader.pool import ParsePool

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
    """Timed through the pool, with the workers' CPU (from /proc) added to this process's."""
    for _name, body in docs[:31]:  # start the workers outside the timing
        pool._pool.submit(parse_slow, body, HEADERS, URL).result()  # type: ignore[union-attr]
    before = worker_cpu(pool)
    out = timed(docs, lambda b: pool.parse(b, HEADERS, URL))
    workers = worker_cpu(pool) - before
    out["worker_cpu_s"] = round(workers, 3)
    total = out["entries"] / out["entries_per_cpu_s"] + workers
    out["entries_per_total_cpu_s"] = round(out["entries"] / total)
    return out


def worker_cpu(pool: ParsePool) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in list(pool._pool._processes):  # type: ignore[union-attr]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


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
            out[label] = through(pool, fast_docs)
        finally:
            pool.close()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
