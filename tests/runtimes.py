"""monitor's composition root run in-process: a Runtime built from a config file for one
test, closed after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from monitor.model import FeedSpec, PollResult, utcnow
from monitor.service.runtime import Runtime, build, load


@contextmanager
def runtime_of(
    config: Path, *, now: Callable[[], datetime] = utcnow, parse_workers: int = 0
) -> Iterator[Runtime]:
    """The runtime `monitor run` would build from config (no parse pool unless asked)."""
    rt = build(load(config), now=now, parse_workers=parse_workers)
    try:
        yield rt
    finally:
        rt.close()


def poll(rt: Runtime, spec: FeedSpec | None = None) -> PollResult:
    """One poll of spec (the config's first feed by default), as the daemon runs it."""
    return rt.poller.poll(spec or rt.config.feeds[0])[0]
