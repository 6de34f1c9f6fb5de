"""EDGE: the service: APScheduler jobs per feed, delivery, housekeeping; signals, reload."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.errors import ConfigError
from monitor.model import FeedSpec, Fetched, PollResult
from monitor.service import housekeeping, metrics, runtime
from monitor.service.metrics import Metrics
from monitor.service.runtime import Runtime
from monitor.store import SaveOutcome

log = structlog.get_logger("monitor.daemon")
STOP_GRACE = 30.0  # seconds in-flight polls get to finish after SIGTERM
HEARTBEAT = 15.0  # seconds between instance heartbeats


class Daemon:
    """Owns the scheduler; every job catches its own errors so the service stays up."""

    def __init__(
        self, rt: Runtime, config_path: Path, rules_override: list[Path] | None = None
    ) -> None:
        self.rt = rt
        self.config_path = config_path
        self.rules_override = rules_override
        self.stopping = threading.Event()
        self.wake_delivery = threading.Event()
        workers = rt.config.defaults.workers
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(workers), "service": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        self._running: dict[str, float] = {}  # feed -> monotonic start of its poll in flight
        self._delivery_thread = threading.Thread(
            target=self._delivery_loop, name="delivery", daemon=True
        )
        self.metrics = Metrics()
        self._metrics_server: Any = None
        rt.poller.on_poll = self._after_poll
        rt.deliverer.on_outcome = self.metrics.delivery

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        freed = self.rt.reclaim_dead_local_leases()
        if freed:
            log.info("leases.reclaimed", count=freed, why="their process on this host is gone")
        listen = self.rt.config.metrics_listen
        if listen:  # first: a port already taken is a configuration error, before any poll
            try:
                self._metrics_server = metrics.serve(listen, self.metrics, self.healthy)
            except OSError as exc:
                raise ConfigError(
                    [
                        f"{self.rt.config.file}: metrics.listen: cannot listen on "
                        f"{listen} ({exc.strerror or exc}); pick a free port"
                    ]
                ) from None
        self._schedule_feeds()
        self._schedule_service_jobs()
        self.scheduler.start()
        self._delivery_thread.start()
        log.info(
            "daemon.started",
            feeds=len(self.rt.config.feeds),
            rules=len(self.rt.loaded.rules),
            channels=[c.name for c in self.rt.config.channels],
            store=self.rt.store.info(),
        )

    def healthy(self) -> bool:
        """200 on /healthz: the scheduler runs and the state store accepts writes."""
        return (
            bool(self.scheduler.running) and not self.stopping.is_set() and self.rt.store.writable()
        )

    def run_forever(self) -> None:
        self._install_signals()
        try:
            self.start()
        except BaseException:
            self.rt.close()
            raise
        while not self.stopping.wait(1.0):
            pass
        self.shutdown()

    def shutdown(self) -> None:
        """No new polls; in-flight work finishes within STOP_GRACE; state stays consistent."""
        log.info("daemon.stopping")
        self.stopping.set()
        self.rt.deliverer.stop.set()
        self.wake_delivery.set()
        self.scheduler.pause()
        # Let polls in flight finish before APScheduler's shutdown: it holds its job-store
        # lock while it waits for running jobs, and a job that then touches the scheduler
        # (rescheduling its feed) would wait for that lock for ever.
        deadline = time.monotonic() + STOP_GRACE
        while self._running and time.monotonic() < deadline:
            time.sleep(0.05)
        done = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
        done.start()
        done.join(max(1.0, deadline - time.monotonic()))
        self._delivery_thread.join(STOP_GRACE)
        self._guard("release", lambda: self.rt.store.release_all(self.rt.instance.owner))()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        self.rt.close()
        log.info("daemon.stopped", clean=not done.is_alive())

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self._on_hup)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=self.reload, name="reload", daemon=True).start()

    # -- jobs --------------------------------------------------------------------------
    def _schedule_feeds(self) -> None:
        states = self.rt.store.feed_states()
        now = self.rt.poller.now()
        for spec in self.rt.config.feeds:
            first = states[spec.name].next_poll if spec.name in states else None
            # spread the first polls so a start does not hit every server in the same second
            start = max(first or now, now) + timedelta(
                seconds=random.uniform(0, min(5.0, spec.interval))
            )
            self._add_feed_job(spec, start)
            log.info(
                "feed.scheduled",
                feed=spec.name,
                url=spec.url,
                interval=spec.interval,
                tags=list(spec.tags),
                first_poll=start.isoformat(),
            )

    def _add_feed_job(self, spec: FeedSpec, start: datetime) -> None:
        self.scheduler.add_job(
            self._poll_job,
            IntervalTrigger(seconds=spec.interval, jitter=spec.jitter or None),
            args=[spec.name],
            id=f"feed:{spec.name}",
            name=spec.name,
            next_run_time=start,
            misfire_grace_time=int(max(spec.interval, 60)),
            replace_existing=True,
        )

    def _schedule_service_jobs(self) -> None:
        self.scheduler.add_job(
            self._housekeeping_job,
            IntervalTrigger(hours=1),
            id="housekeeping",
            executor="service",
            next_run_time=self.rt.poller.now() + timedelta(seconds=30),
        )
        self.scheduler.add_job(
            self._heartbeat_job,
            IntervalTrigger(seconds=HEARTBEAT),
            id="heartbeat",
            executor="service",
            next_run_time=self.rt.poller.now(),
        )
        self._schedule_digests()

    def _on_skipped(self, event: JobEvent) -> None:
        """A feed's job fired while its previous run was still going: say so, never silently."""
        if event.job_id.startswith("feed:"):
            name = event.job_id.removeprefix("feed:")
            started = self._running.get(name)
            running = round(time.monotonic() - started, 1) if started else None
            log.warning(
                "feed.poll_skipped",
                feed=name,
                reason="previous poll still running",
                running_for=running,
            )

    def _check_hung(self) -> None:
        """Fetch and parse have hard deadlines, so a poll running far past them is a bug or a
        stuck store: report it loudly (a thread cannot be killed; the next run is skipped)."""
        d = self.rt.config.defaults
        bound = 2 * (d.total_timeout + d.parse_timeout) + 60
        now = time.monotonic()
        for name, started in list(self._running.items()):
            if now - started > bound:
                log.error(
                    "feed.poll_hung", feed=name, running_for=round(now - started), bound=bound
                )

    def _heartbeat_job(self) -> None:
        """Tell other instances sharing the store (and `monitor status`) that we are alive."""
        self._check_hung()
        i = self.rt.instance
        self._guard(
            "heartbeat",
            lambda: self.rt.store.heartbeat(
                i.owner, i.host, i.pid, i.started, self.rt.poller.now()
            ),
        )()

    def _schedule_digests(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        for c in self.rt.config.channels:
            if c.digest:
                self.scheduler.add_job(
                    self._digest_job,
                    CronTrigger.from_crontab(c.digest, timezone=c.timezone),
                    args=[c.name],
                    id=f"digest:{c.name}",
                    executor="service",
                    replace_existing=True,
                )

    def _digest_job(self, channel: str) -> None:
        # Instances sharing a store all fire this cron job; the first to record the period
        # sends, the others skip (held rows not sent now stay held for the next digest).
        period = self.rt.poller.now().strftime("%Y-%m-%dT%H:%M")
        if self.rt.store.job_once(f"digest:{channel}", period):
            self._guard("digest", lambda: housekeeping.send_digest(self.rt, channel))()

    def _poll_job(self, name: str) -> None:
        spec = self.rt.config.feeds_by_name.get(name)
        if spec is None or self.stopping.is_set():
            return
        self._running[name] = time.monotonic()
        try:
            polled = self.rt.poller.poll_claimed(spec)
            if polled is not None and not self.stopping.is_set():  # None: not due, or leased
                self._reschedule(spec, polled[0].state.next_poll)
        except Exception:  # the feed is the failure boundary; log and keep the schedule
            log.exception("feed.job_crashed", feed=name)
        finally:
            self._running.pop(name, None)

    def _reschedule(self, spec: FeedSpec, next_poll: datetime | None) -> None:
        """Backoff moves a feed's next run; a success keeps the regular interval."""
        job = self.scheduler.get_job(f"feed:{spec.name}")
        if job is None or next_poll is None or job.next_run_time is None:
            return
        if next_poll > job.next_run_time + timedelta(seconds=1):
            job.modify(next_run_time=next_poll)

    def _after_poll(self, result: PollResult, saved: SaveOutcome, fetched: Fetched) -> None:
        self.metrics.poll(result, saved, fetched)
        if saved.created or saved.corroborated:
            self.wake_delivery.set()

    def _delivery_loop(self) -> None:
        interval = self.rt.config.alerts.delivery_interval
        while not self.stopping.is_set():
            self.wake_delivery.wait(interval)
            self.wake_delivery.clear()
            if self.stopping.is_set():
                break
            self._guard("delivery", self._drain)()

    def _drain(self) -> None:
        self.rt.deliverer.drain()
        self.metrics.outbox_counts(self.rt.store.outbox_counts())

    def _housekeeping_job(self) -> None:
        self._guard("housekeeping", lambda: housekeeping.run(self.rt))()
        self.wake_delivery.set()

    def _guard(self, what: str, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception(f"{what}.failed")

        return run

    # -- reload ------------------------------------------------------------------------
    def reload(self) -> bool:
        """Build and validate everything first; on any error the old config stays in force."""
        try:
            loaded = runtime.load(self.config_path, self.rules_override)
            channels = runtime.make_channels(loaded.config, self.rt.session)
        except ConfigError as exc:
            log.error("config.reload_failed", problems=exc.problems[:20], kept="previous config")
            return False
        except Exception as exc:
            log.error(
                "config.reload_failed", error=f"{type(exc).__name__}: {exc}", kept="previous config"
            )
            return False
        old = self.rt.config.feeds_by_name
        self.rt.swap(loaded, channels)
        self._sync_feed_jobs(old)
        self._schedule_digests()
        log.info("config.reloaded", feeds=len(loaded.config.feeds), rules=len(loaded.rules))
        return True

    def _sync_feed_jobs(self, old: dict[str, FeedSpec]) -> None:
        new = self.rt.config.feeds_by_name
        for name in old.keys() - new.keys():
            job = self.scheduler.get_job(f"feed:{name}")
            if job:
                job.remove()
        now = self.rt.poller.now()
        for name, spec in new.items():
            if name not in old or old[name] != spec:
                self._add_feed_job(spec, now + timedelta(seconds=random.uniform(0, 5)))
