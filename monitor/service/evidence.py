"""EDGE: evidence capture, off the delivery path. Each source of a new alert is queued; its
page is fetched through the feeds' edge, its main text extracted and its bytes hashed and
kept; a failure is recorded and retried with backoff until max_attempts; a configured web
archive is asked once to save the page. Runs in its own thread (daemon) or after delivery
(run --once): a slow or hostile page never holds up an alert."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests
import structlog

from monitor.config.sections import EvidenceConfig
from monitor.errors import FetchError
from monitor.model import iso
from monitor.model.evidence import CAPTURED, FAILED, PENDING, Capture, EvidenceTask
from monitor.reader.article import main_text, sha256
from monitor.reader.fetch import FetchPolicy
from monitor.reader.page import Page, ask_archive, fetch_page
from monitor.store import EvidenceStore

log = structlog.get_logger("monitor.evidence")
WINDOW = timedelta(days=2)  # sources added longer ago are not queued (capture switched on late)
BATCH = 8  # rows claimed at a time
PARALLEL = 4  # pages fetched at once
BACKOFF = 60.0  # seconds before the first retry; doubled per failure
MAX_BACKOFF = 6 * 3600.0


def retry_delay(attempts: int) -> float:
    """Seconds before attempt attempts + 1: 1 min, 2 min, 4 min, ... capped at 6 h."""
    return min(BACKOFF * float(2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def capture_of(page: Page, extract: Callable[[bytes, str | None], str] = main_text) -> Capture:
    """What is kept of one fetch: the page's bytes, their hash and main text, or the error.
    A page whose text cannot be extracted in time is still kept (bytes and hash), text None."""
    if page.body is None:
        return Capture(page.fetched_at, page.status, page.final_url, page.content_type or None,
                       None, None, None, None, page.error)  # fmt: skip
    try:
        text: str | None = extract(page.body, page.final_url)
    except FetchError as exc:
        log.warning("evidence.no_text", link=page.final_url, error=exc.reason)
        text = None
    return Capture(page.fetched_at, page.status, page.final_url, page.content_type or None,
                   page.size, sha256(page.body), text, page.body, None)  # fmt: skip


def outcome(
    task: EvidenceTask, capture: Capture, cfg: EvidenceConfig, now: datetime
) -> tuple[str, datetime]:
    """The row's state after this attempt, and when it is next due (if it is retried)."""
    if capture.error is None:
        return CAPTURED, now
    attempts = task.attempts + 1
    if attempts >= cfg.max_attempts:
        return FAILED, now
    return PENDING, now + timedelta(seconds=retry_delay(attempts))


@dataclass
class Capturer:
    """One instance's evidence work: queue, claim, fetch, record. `origin` gives a feed's
    configured URL (which decides whether its links may reach private addresses)."""

    store: EvidenceStore
    session: requests.Session
    policy: FetchPolicy
    settings: Callable[[], EvidenceConfig]
    origin: Callable[[str], str | None]
    now: Callable[[], datetime]
    owner: str = "local"
    on_outcome: Callable[[str], None] = field(default=lambda outcome: None)
    rounds: int = 10  # batches per run at most, so a run ends and the loop can stop
    extract: Callable[[bytes, str | None], str] = main_text  # the daemon's: under a deadline

    def run(self) -> int:
        """Capture what is due now; how many rows were attempted."""
        cfg = self.settings()
        if not cfg.capture:
            return 0
        self.store.queue_evidence(self.now() - WINDOW, self.now())
        lease = 2 * self.policy.total_timeout + 30.0  # a page, then the archive
        done = 0
        for _ in range(self.rounds):
            tasks = self.store.claim_evidence(self.owner, self.now(), lease, BATCH)
            if not tasks:
                break
            with ThreadPoolExecutor(min(PARALLEL, len(tasks))) as pool:
                list(pool.map(lambda t: self.capture(t, cfg), tasks))
            done += len(tasks)
        return done

    def capture(self, task: EvidenceTask, cfg: EvidenceConfig) -> None:
        """One attempt at one row; never raises (a page is the failure boundary)."""
        try:
            self._capture(task, cfg)
        except Exception:
            log.exception("evidence.crashed", alert=task.alert_id, link=task.link)

    def _capture(self, task: EvidenceTask, cfg: EvidenceConfig) -> None:
        page = fetch_page(self.session, task.link, self.policy, origin=self.origin(task.feed),
                          wall=self.now)  # fmt: skip
        capture = capture_of(page, self.extract)
        state, due = outcome(task, capture, cfg, self.now())
        self.store.record_evidence(task, capture, state, due)
        self.on_outcome(state)
        bound = log.bind(alert=task.alert_id, link=task.link, status=capture.status)
        if state == CAPTURED:
            bound.info("evidence.captured", sha256=capture.sha256, size=capture.size)
        else:
            retry = iso(due) if state == PENDING else None
            bound.warning("evidence.failed", error=capture.error, attempts=task.attempts + 1,
                          next_attempt=retry)  # fmt: skip
        if cfg.archive and not task.archived:
            answer = ask_archive(self.session, cfg.archive, task.link, self.policy, self.now)
            self.store.record_archive(task, answer)
            log.info("evidence.archived", alert=task.alert_id, link=task.link,
                     status=answer.status, copy=answer.url, error=answer.error)  # fmt: skip
