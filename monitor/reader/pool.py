"""EDGE: feed parsing in a small process pool, so a parse uses both cores and has a real deadline.

A thread cannot be killed; a process can. When a parse overruns its deadline (feedparser has
regexes that backtrack catastrophically on hostile input), the pool's workers are killed and a
fresh pool replaces it; parses that were caught in the kill are retried once in the new pool.

At most `workers` parses are submitted at a time, so a parse's deadline runs while it runs:
a parse queued behind a hostile one is not charged for the wait (and then failed with it).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

from monitor.errors import FetchError
from monitor.model import ParsedFeed
from monitor.reader.parse import parse_feed
from monitor.reader.procs import pid_alive


class ParsePool:
    """parse(body, headers, url) with a deadline; workers=0 parses in the calling thread."""

    def __init__(self, workers: int = 2, timeout: float = 20.0) -> None:
        self.workers = workers
        self.timeout = timeout
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self._pool = self._new_pool() if workers > 0 else None

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: never fork the multi-threaded daemon itself (locks held by other threads)
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["monitor.reader.parse"])  # a replacement pool starts warm
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_exit_with,
            initargs=(os.getpid(),),
        )

    def parse(self, body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
        if self.workers <= 0:
            return parse_feed(body, headers, url)
        with self._slots:
            return self._parse(body, headers, url)

    def _parse(self, body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
        for _attempt in range(2):
            pool = self._pool
            if pool is None:  # closed meanwhile (shutdown)
                raise FetchError("parser pool closed")
            try:
                future = pool.submit(parse_feed, body, dict(headers), url)
            except (BrokenProcessPool, RuntimeError):
                self._restart(pool)
                continue
            try:
                return future.result(timeout=self.timeout)
            except FutureTimeout:
                self._restart(pool)
                raise FetchError(f"parse exceeded its {self.timeout:g}s deadline") from None
            except BrokenProcessPool:
                self._restart(pool)  # killed because another parse overran: try again
        raise FetchError("parser pool failed twice")

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
