"""The scheduler's jobs: one per feed, plus delivery, housekeeping, heartbeat and digests.

Every job catches its own errors (the feed is the failure boundary) and reads the live
bundle once, so a reload between two jobs is seen whole by the next one.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from apscheduler.events import JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.model import FeedSpec
from monitor.service import housekeeping
from monitor.service.runtime import Runtime

log = structlog.get_logger("monitor.daemon")
# Seconds between two looks for review holds that timed out: a timeout is kept to the minute
# (hours, typically), and every instance may look (each row is released once).
REVIEW_CHECK = 60.0


def guard(what: str, fn: Callable[[], object]) -> Callable[[], None]:
    """fn, with any exception logged as `<what>.failed` instead of raised."""

    def run() -> None:
        try:
            fn()
        except Exception:
            log.exception(f"{what}.failed")

    return run


class Jobs:
    """Adds, runs and reschedules the jobs of one daemon on its scheduler."""

    def __init__(
        self, rt: Runtime, scheduler: BackgroundScheduler, stopping: threading.Event
    ) -> None:
        self.rt = rt
        self.scheduler = scheduler
        self.stopping = stopping
        self.running: dict[str, float] = {}  # feed -> monotonic start of its poll in flight
        self.rng = random.Random()
        self.store_lost: str | None = None  # why the state file is not ours any more, once said

    # -- feeds -------------------------------------------------------------------------
    def schedule_feeds(self) -> None:
        states = self.rt.store.feed_states()
        now = self.rt.now()
        for spec in self.rt.config.feeds:
            first = states[spec.name].next_poll if spec.name in states else None
            # spread the first polls so a start does not hit every server in the same second
            start = max(first or now, now) + timedelta(
                seconds=self.rng.uniform(0, min(5.0, spec.interval))
            )
            self.add_feed(spec, start)
            log.info(
                "feed.scheduled",
                feed=spec.name,
                url=spec.url,
                interval=spec.interval,
                tags=list(spec.tags),
                first_poll=start.isoformat(),
            )

    def add_feed(self, spec: FeedSpec, start: datetime) -> None:
        self.scheduler.add_job(
            self.poll,
            IntervalTrigger(seconds=spec.interval, jitter=spec.jitter or None),
            args=[spec.name],
            id=f"feed:{spec.name}",
            name=spec.name,
            next_run_time=start,
            misfire_grace_time=int(max(spec.interval, 60)),
            replace_existing=True,
        )

    def sync_feeds(self, old: dict[str, FeedSpec]) -> None:
        """After a reload: drop removed feeds' jobs, (re)start new and changed ones."""
        new = self.rt.config.feeds_by_name
        for name in old.keys() - new.keys():
            job = self.scheduler.get_job(f"feed:{name}")
            if job:
                job.remove()
        now = self.rt.now()
        for name, spec in new.items():
            if name not in old or old[name] != spec:
                self.add_feed(spec, now + timedelta(seconds=self.rng.uniform(0, 5)))

    def poll(self, name: str) -> None:
        spec = self.rt.config.feeds_by_name.get(name)
        if spec is None or self.stopping.is_set():
            return
        self.running[name] = self.rt.mono()
        try:
            polled = self.rt.poller.poll_claimed(spec)
            if polled is not None and not self.stopping.is_set():  # None: not due, or leased
                self._reschedule(spec, polled[0].state.next_poll)
        except Exception:  # the feed is the failure boundary; log and keep the schedule
            log.exception("feed.job_crashed", feed=name)
        finally:
            self.running.pop(name, None)

    def _reschedule(self, spec: FeedSpec, next_poll: datetime | None) -> None:
        """Backoff, Retry-After and a publisher's wait (polite polling) move a feed's next run
        later; the interval trigger never runs it sooner than next_poll anyway, since the
        claim refuses a feed not yet due (claim_state with due_only)."""
        job = self.scheduler.get_job(f"feed:{spec.name}")
        if job is None or next_poll is None or job.next_run_time is None:
            return
        if next_poll > job.next_run_time + timedelta(seconds=1):
            job.modify(next_run_time=next_poll)

    def on_skipped(self, event: JobEvent) -> None:
        """A feed's job fired while its previous run was still going: say so, never silently."""
        if event.job_id.startswith("feed:"):
            name = event.job_id.removeprefix("feed:")
            started = self.running.get(name)
            running = round(self.rt.mono() - started, 1) if started else None
            log.warning(
                "feed.poll_skipped",
                feed=name,
                reason="previous poll still running",
                running_for=running,
            )

    # -- service jobs ------------------------------------------------------------------
    def schedule_service(self, heartbeat: float) -> None:
        now = self.rt.now()
        self.scheduler.add_job(
            guard("housekeeping", self.housekeeping),
            IntervalTrigger(hours=1),
            id="housekeeping",
            executor="service",
            next_run_time=now + timedelta(seconds=30),
        )
        self.scheduler.add_job(
            self.heartbeat,
            IntervalTrigger(seconds=heartbeat),
            id="heartbeat",
            executor="service",
            next_run_time=now,
        )
        self.scheduler.add_job(
            guard("review", self.reviews),
            IntervalTrigger(seconds=REVIEW_CHECK),
            id="reviews",
            executor="service",
            next_run_time=now + timedelta(seconds=REVIEW_CHECK),
        )
        self.schedule_digests()

    def reviews(self) -> None:
        """Release critical alerts whose review timed out; wake delivery when there were any."""
        if housekeeping.expire_reviews(self.rt):
            self.rt.wake.set()

    def housekeeping(self) -> None:
        try:
            housekeeping.run(self.rt)
        finally:
            self.rt.wake.set()

    def heartbeat(self) -> None:
        """Tell other instances sharing the store (and `monitor status`) that we are alive."""
        self.check_hung()
        self.check_store()
        i = self.rt.instance
        guard("heartbeat", lambda: self.rt.store.heartbeat(
            i.owner, i.host, i.pid, i.started, self.rt.now()
        ))()  # fmt: skip

    def check_store(self) -> None:
        """A state file deleted or replaced under us is said loudly, once (its writes would be
        lost at the next start; the store refuses them, and /healthz answers 503 meanwhile)."""
        lost = self.rt.store.replaced()
        if lost and lost != self.store_lost:
            log.error("store.replaced", problem=lost)
        elif self.store_lost and not lost:
            log.info("store.restored", why="the file at [state] path is the one opened again")
        self.store_lost = lost

    def check_hung(self) -> None:
        """Fetch and parse have hard deadlines, so a poll running far past them is a bug or a
        stuck store: report it loudly (a thread cannot be killed; the next run is skipped)."""
        d = self.rt.config.defaults
        bound = 2 * (d.total_timeout + d.parse_timeout) + 60
        now = self.rt.mono()
        for name, started in list(self.running.items()):
            if now - started > bound:
                log.error(
                    "feed.poll_hung", feed=name, running_for=round(now - started), bound=bound
                )

    def schedule_digests(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        for c in self.rt.config.channels:
            if c.digest:
                self.scheduler.add_job(
                    self.digest,
                    CronTrigger.from_crontab(c.digest, timezone=c.timezone),
                    args=[c.name],
                    id=f"digest:{c.name}",
                    executor="service",
                    replace_existing=True,
                )

    def digest(self, channel: str) -> None:
        # Instances sharing a store all fire this cron job; the first to record the period
        # sends, the others skip (held rows not sent now stay held for the next digest).
        period = self.rt.now().strftime("%Y-%m-%dT%H:%M")
        if self.rt.store.job_once(f"digest:{channel}", period):
            guard("digest", lambda: housekeeping.send_digest(self.rt, channel))()
