"""EDGE: the article pages of a teaser feed's new items (`fetch_articles = true`), fetched
through the feeds' edge a few at a time within one total deadline, as text for the pure
pipeline. A page that fails is logged and counted; its item is matched on the feed's text."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

import requests
import structlog

from monitor.errors import FetchError
from monitor.model import FeedSpec, Item
from monitor.reader.article import main_text
from monitor.reader.fetch import FetchPolicy
from monitor.reader.page import fetch_page

log = structlog.get_logger("monitor.poll")
PARALLEL = 4  # article pages of one poll fetched at once (the per-host limit still holds)


@dataclass
class ArticleFetcher:
    """`slot(url)` is the poller's per-host semaphore; `on_article(feed, outcome)` counts."""

    session: requests.Session
    policy: FetchPolicy
    slot: Callable[[str], threading.BoundedSemaphore]
    now: Callable[[], datetime]
    on_article: Callable[[str, str], None] = field(default=lambda feed, outcome: None)
    mono: Callable[[], float] = time.monotonic
    # the page's main text; the daemon gives its parse pool's, which has a deadline
    extract: Callable[[bytes, str | None], str] = main_text

    def for_feed(self, spec: FeedSpec) -> Callable[[Sequence[Item]], Mapping[str, str]]:
        """What pipeline.process calls with the items it will match: their text by key."""
        return lambda items: self.fetch(spec, items)

    def fetch(self, spec: FeedSpec, items: Sequence[Item]) -> dict[str, str]:
        """Every page started within one total_timeout of the first; each ends by what is
        left of it, so a poll is never held longer than that by its articles."""
        if not items:
            return {}
        end = self.mono() + self.policy.total_timeout
        with ThreadPoolExecutor(min(PARALLEL, len(items))) as pool:
            texts = list(pool.map(lambda i: self._one(spec, i, end), items))
        return {i.key: t for i, t in zip(items, texts, strict=True) if t}

    def _one(self, spec: FeedSpec, item: Item, end: float) -> str:
        link = item.link or ""
        with self.slot(link):
            left = end - self.mono()
            if left <= 0:
                return self._failed(spec, link, "not started within the poll's deadline")
            policy = replace(self.policy, total_timeout=min(self.policy.total_timeout, left))
            page = fetch_page(self.session, link, policy, origin=spec.url, wall=self.now)
        if page.body is None:
            return self._failed(spec, link, page.error or "no page")
        try:
            text = self.extract(page.body, page.final_url)
        except FetchError as exc:
            return self._failed(spec, link, exc.reason)
        self.on_article(spec.name, "fetched" if text else "empty")
        return text

    def _failed(self, spec: FeedSpec, link: str, error: str) -> str:
        log.warning("article.failed", feed=spec.name, link=link, error=error,
                    matched_on="the feed's title and summary")  # fmt: skip
        self.on_article(spec.name, "failed")
        return ""
