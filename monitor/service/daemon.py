"""EDGE: the service's life: start, the delivery loop, /healthz, signals, reload, stop."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.errors import ConfigError
from monitor.service import console, metrics, runtime
from monitor.service.jobs import Jobs, guard
from monitor.service.runtime import Runtime

log = structlog.get_logger("monitor.daemon")
STOP_GRACE = 30.0  # seconds in-flight polls get to finish after SIGTERM
HEARTBEAT = 15.0  # seconds between instance heartbeats
EVIDENCE_EVERY = 30.0  # seconds between looks for evidence due (a new alert wakes it at once)


class Daemon:
    """Owns the scheduler; every job catches its own errors so the service stays up."""

    def __init__(
        self,
        rt: Runtime,
        config_path: Path,
        rules_override: list[Path] | None = None,
        *,
        heartbeat: float = HEARTBEAT,
        stop_grace: float = STOP_GRACE,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self.rt = rt
        self.config_path = config_path
        self.rules_override = rules_override
        self.heartbeat = heartbeat
        self.stop_grace = stop_grace
        self.sleep = sleep
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(rt.config.defaults.workers),
                "service": ThreadPoolExecutor(2),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.jobs = Jobs(rt, self.scheduler, self.stopping)
        self.scheduler.add_listener(self.jobs.on_skipped, EVENT_JOB_MAX_INSTANCES)
        self._delivery_thread = threading.Thread(
            target=self._delivery_loop, name="delivery", daemon=True
        )
        self._evidence_thread = threading.Thread(
            target=self._evidence_loop, name="evidence", daemon=True
        )
        self._metrics_server: Any = None
        self._console_server: Any = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        freed = self.rt.reclaim_dead_local_leases()
        if freed:
            log.info("leases.reclaimed", count=freed, why="their process on this host is gone")
        self._serve_metrics()  # first: a port already taken is a configuration error
        self._serve_console()
        self.jobs.schedule_feeds()
        self.jobs.schedule_service(self.heartbeat)
        self.scheduler.start()
        self._delivery_thread.start()
        self._evidence_thread.start()
        log.info(
            "daemon.started",
            feeds=len(self.rt.config.feeds),
            rules=len(self.rt.bundle.rules),
            channels=[c.name for c in self.rt.config.channels],
            store=self.rt.store.info(),
        )

    def _serve_metrics(self) -> None:
        listen = self.rt.config.metrics_listen
        if not listen:
            return
        try:
            self._metrics_server = metrics.serve(listen, self.rt.metrics, self.problem)
        except OSError as exc:
            raise ConfigError(
                [
                    f"{self.rt.config.file}: metrics.listen: cannot listen on "
                    f"{listen} ({exc.strerror or exc}); pick a free port"
                ]
            ) from None

    def _serve_console(self) -> None:
        if self.rt.config.web.listen:
            self._console_server = console.serve(
                self.rt.config, self.rt.store, lambda: self.rt.config
            )

    def healthy(self) -> bool:
        """200 on /healthz: the scheduler runs and the state store accepts writes."""
        return self.problem() is None

    def problem(self) -> str | None:
        """What /healthz answers 503 with; None while healthy. The store is probed with real
        writes (a full disk fails them) and checked to be the configured file still."""
        if self.stopping.is_set() or not self.scheduler.running:
            return "stopping" if self.stopping.is_set() else "scheduler not running"
        store = self.rt.store.replaced() or self.rt.store.write_problem()
        return f"state store cannot write: {store}" if store else None

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
        """No new polls; in-flight work finishes within stop_grace; state stays consistent."""
        log.info("daemon.stopping")
        self.stopping.set()
        self.rt.deliverer.stop.set()
        self.rt.wake.set()
        self.rt.evidence_wake.set()
        self.scheduler.pause()
        # Let polls in flight finish before APScheduler's shutdown: it holds its job-store
        # lock while it waits for running jobs, and a job that then touches the scheduler
        # (rescheduling its feed) would wait for that lock for ever.
        deadline = self.rt.mono() + self.stop_grace
        while self.jobs.running and self.rt.mono() < deadline:
            self.sleep(0.05)
        done = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, daemon=True)
        done.start()
        done.join(max(1.0, deadline - self.rt.mono()))
        self._delivery_thread.join(self.stop_grace)
        # a page fetch in flight ends by its own deadline; its row's claim then lapses
        self._evidence_thread.join(max(1.0, deadline - self.rt.mono()))
        self.rt.deliverer.join(max(1.0, deadline - self.rt.mono()))
        guard("release", lambda: self.rt.store.release_all(self.rt.instance.owner))()
        for server in (self._metrics_server, self._console_server):
            if server is not None:
                server.shutdown()
                server.server_close()
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

    # -- delivery ----------------------------------------------------------------------
    def _delivery_loop(self) -> None:
        """Starts each channel's drain on its own (deliver.Deliverer.kick): a slow receiver
        holds up only its own channel, never this loop nor another channel."""
        interval = self.rt.config.alerts.delivery_interval
        while not self.stopping.is_set():
            self.rt.wake.wait(interval)
            self.rt.wake.clear()
            if self.stopping.is_set():
                break
            guard("delivery", self._drain)()

    def _evidence_loop(self) -> None:
        """Evidence capture on a thread of its own: no page, however slow, holds up a
        delivery, a poll or a heartbeat."""
        capturer = self.rt.capturer
        while capturer is not None and not self.stopping.is_set():
            guard("evidence", capturer.run)()
            self.rt.evidence_wake.wait(EVIDENCE_EVERY)
            self.rt.evidence_wake.clear()

    def _drain(self) -> None:
        self.rt.deliverer.kick(self._drained)
        self._drained(None)  # the gauges follow the outbox even when nothing is due

    def _drained(self, report: object) -> None:
        self.rt.metrics.outbox_counts(self.rt.store.outbox_counts())

    # -- reload ------------------------------------------------------------------------
    def reload(self) -> bool:
        """Build and validate everything first; on any error the old bundle stays in force.
        On success one reference swap installs the new one."""
        try:
            loaded = runtime.load(self.config_path, self.rules_override)
            bundle = self.rt.rebuild(loaded)
        except ConfigError as exc:
            log.error("config.reload_failed", problems=exc.problems[:20], kept="previous config")
            return False
        except Exception as exc:
            log.error(
                "config.reload_failed", error=f"{type(exc).__name__}: {exc}", kept="previous config"
            )
            return False
        old = self.rt.live.swap(bundle)
        removed = sorted(set(old.rules.ids) - set(bundle.rules.ids))
        if removed:  # a rule gone by mistake (a file deleted, a bad merge) must not go unseen
            log.warning("rules.removed", ids=removed[:50], count=len(removed))
        self.jobs.sync_feeds(old.config.feeds_by_name)
        self.jobs.schedule_digests()
        log.info("config.reloaded", feeds=len(bundle.config.feeds), rules=len(bundle.rules))
        return True
