"""EDGE: feed parsing in a small process pool, so a parse uses both cores and has a real deadline.

A thread cannot be killed; a process can. When a parse overruns its deadline (feedparser has
regexes that backtrack catastrophically on hostile input), the pool's workers are killed and a
fresh pool replaces it; parses that were caught in the kill are retried once in the new pool.

At most `workers` parses are submitted at a time, so a parse's deadline runs while it runs:
a parse queued behind a hostile one is not charged for the wait (and then failed with it).

The fast path (lxml) runs in the calling thread when the document is small enough to need
no deadline (bench/README.md, "Parse where it is cheapest"): it parses a feed in less time
than the pool takes to pickle the result back. Only feedparser's reading, and any document
over the inline bounds, go to the pool.

Sources without feeds (`parse_as`): a page read with CSS selectors always parses in the pool,
under the deadline (the selectors run over an untrusted tree of any shape); a JSON Feed is
read inline within the size bound (json reads in linear time), else in the pool.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any

from monitor.errors import FetchError
from monitor.model import ParsedFeed, Selectors
from monitor.reader.article import main_text
from monitor.reader.documents import parse_document, read_as
from monitor.reader.parse import parse_fast, parse_feed, parse_slow
from monitor.reader.procs import pid_alive

Parser = Callable[[bytes, Mapping[str, str], str], ParsedFeed]

# Inline bounds: the fast path's cost is linear in the body and in its elements (no
# backtracking anywhere, libxml2's depth and text limits); within these it takes a fraction
# of a second (measured: 100,000 empty elements 0.5 s on a loaded machine; the 1 MB real
# capture, 12,000 tags, 0.1 s), far inside any parse deadline. Larger documents parse in
# the pool, fast path first, under the deadline.
INLINE_MAX_BYTES = 4 * 2**20
INLINE_MAX_TAGS = 50_000  # "<" bytes: elements, and HTML tags in CDATA (counted too: cheap)


def inline_ok(body: bytes) -> bool:
    """True when the fast path may run in the calling thread: a small document."""
    return len(body) <= INLINE_MAX_BYTES and body.count(b"<") <= INLINE_MAX_TAGS


class ParsePool:
    """parse(body, headers, url) with a deadline; workers=0 parses in the calling thread.

    inline_fast=False sends every parse to the pool (the benchmark's A/B).
    """

    def __init__(self, workers: int = 2, timeout: float = 20.0, inline_fast: bool = True) -> None:
        self.workers = workers
        self.timeout = timeout
        self.inline_fast = inline_fast
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self._pool = self._new_pool() if workers > 0 else None

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: never fork the multi-threaded daemon itself (locks held by other threads)
        ctx = multiprocessing.get_context("forkserver")
        # a replacement pool starts warm
        ctx.set_forkserver_preload(["monitor.reader.parse", "monitor.reader.documents"])
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_exit_with,
            initargs=(os.getpid(),),
        )

    def parse(self, body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
        """A feed of the default type "rss": RSS, Atom, RDF, or a JSON Feed it recognises."""
        if read_as("rss", body, headers) != "rss":
            return self.parse_as("jsonfeed", None, body, headers, url)
        if self.workers <= 0:
            return parse_feed(body, headers, url)
        work = parse_feed
        if self.inline_fast and inline_ok(body):
            fast = parse_fast(body, headers, url)
            if fast is not None:
                return fast
            work = parse_slow  # the fast path declined: do not try it again in the worker
        with self._slots:
            return self._parse(work, body, headers, url)

    def parse_as(
        self,
        kind: str,
        selectors: Selectors | None,
        body: bytes,
        headers: Mapping[str, str],
        url: str,
    ) -> ParsedFeed:
        """A feed of any type (monitor.model.sources.FEED_TYPES), under the same deadline."""
        if kind == "rss":
            return self.parse(body, headers, url)
        work = partial(parse_document, kind=kind, selectors=selectors)
        if self.workers <= 0 or (kind == "jsonfeed" and len(body) <= INLINE_MAX_BYTES):
            return work(body, headers, url)
        with self._slots:
            return self._parse(work, body, headers, url)

    def extract(self, body: bytes, url: str | None) -> str:
        """An article page's main text (monitor.reader.article) under the parse deadline:
        the extractor's cost grows with a page's size and shape (measured: a flat 2 MB page
        2.8 s, a 1.7 MB table 5 s), so an untrusted page must not hold a poll or the
        capture thread for longer than a parse may. Raises FetchError when it overruns."""
        if self.workers <= 0:
            return main_text(body, url)
        with self._slots:
            text: str = self._run("article extraction", main_text, body, url)
            return text

    def _parse(self, work: Parser, body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
        parsed: ParsedFeed = self._run("parse", work, body, dict(headers), url)
        return parsed

    def _run(self, what: str, work: Callable[..., Any], *args: Any) -> Any:
        for _attempt in range(2):
            pool = self._pool
            if pool is None:  # closed meanwhile (shutdown)
                raise FetchError("parser pool closed")
            try:
                future = pool.submit(work, *args)
            except (BrokenProcessPool, RuntimeError):
                self._restart(pool)
                continue
            try:
                return future.result(timeout=self.timeout)
            except FutureTimeout:
                self._restart(pool)
                raise FetchError(f"{what} exceeded its {self.timeout:g}s deadline") from None
            except BrokenProcessPool:
                self._restart(pool)  # killed because another parse overran: try again
        raise FetchError(f"{what}: parser pool failed twice")

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not broken:
                return  # another thread already replaced it
            for proc in list(getattr(broken, "_processes", {}).values()):
                proc.kill()
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    proc.kill()
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


def _exit_with(owner: int) -> None:
    """In a worker: exit when the daemon that owns the pool is gone.

    A worker holds both ends of its own call queue, so it never sees EOF when the daemon is
    killed (SIGKILL, OOM); without this, each kill leaves a forkserver and its workers behind.
    """

    def watch() -> None:
        while pid_alive(owner):
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-owner", daemon=True).start()
