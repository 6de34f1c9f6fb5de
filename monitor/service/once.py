"""`run --once`: poll every feed once, drain the outbox while rows come due, report."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import structlog

from monitor.model import FeedSpec
from monitor.service import housekeeping
from monitor.service.runtime import Runtime

log = structlog.get_logger("monitor.once")


@dataclass(frozen=True)
class OnceReport:
    feeds: int  # feeds this run polled
    left_to_others: int  # feeds another instance holds or polled during this run
    failed: int
    pending: int  # rows still queued here that no live instance is sending
    dead: int  # rows that went dead during this run

    @property
    def ok(self) -> bool:
        return not self.failed and self.pending == 0 and self.dead == 0


def run_once(rt: Runtime) -> OnceReport:
    """One cycle, then close the runtime."""
    try:
        rt.reclaim_dead_local_leases()
        outcomes, left = _poll_all(rt)
        failed = sum(1 for outcome in outcomes if outcome == "failed")
        housekeeping.expire_reviews(rt)  # a run from cron keeps review timeouts too
        dead_before = rt.store.outbox_counts()["dead"]
        while True:  # keep draining while rows become due in order
            last_drain = rt.now()
            if not rt.deliverer.drain().sent:
                break
        dead_now = rt.store.outbox_counts()["dead"] - dead_before
        if rt.capturer is not None:  # after delivery: evidence never delays an alert
            try:
                rt.capturer.run()
            except Exception:  # evidence is never what fails a run
                log.exception("evidence.failed_run")
        # rows another live instance has claimed are on their way: not "still queued" here
        pending = rt.store.pending_for(rt.instance.owner, rt.now(), before=last_drain)
        report = OnceReport(len(outcomes), left, failed, pending, dead_now)
        log.info(
            "once.done",
            feeds=report.feeds,
            left_to_others=left,
            failed=failed,
            pending=pending,
            dead=dead_now,
        )
        return report
    finally:
        rt.close()


def _poll_all(rt: Runtime) -> tuple[list[str], int]:
    """Each feed's outcome, and how many feeds were left to other instances."""
    started = rt.now()

    def poll(spec: FeedSpec) -> str | None:
        # keep only the outcome: a whole PollResult holds the feed's items, and a cycle
        # of cold feeds' worth kept to the end cost about 40 MB per 1,000 feeds.
        # not_since: a feed another instance polled during this run is done for this run
        polled = rt.poller.poll_claimed(spec, due_only=False, not_since=started)
        return None if polled is None else polled[0].outcome

    with ThreadPoolExecutor(rt.config.defaults.workers) as pool:
        polled = list(pool.map(poll, rt.config.feeds))
    outcomes = [p for p in polled if p is not None]
    return outcomes, len(polled) - len(outcomes)
