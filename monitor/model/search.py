"""Frozen dataclasses of the item search: the checked query, one kept item, one page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# A page lists at most this many items (the console's bound, the API's too).
MAX_ITEMS = 50


@dataclass(frozen=True)
class ItemQuery:
    """What to look for among kept items; every part given must hold (AND).

    `terms` are folded words and phrases: ("abyei",) is a word, ("mass", "grave") a phrase
    whose words must stand in that order. Times bound the first-seen time; `after` is the
    id of the last item already shown (pages go from the newest seen to the oldest)."""

    terms: tuple[tuple[str, ...], ...] = ()
    feed: str = ""
    country: str = ""
    lang: str = ""  # ISO 639-1: only items in this language
    since: datetime | None = None
    until: datetime | None = None
    limit: int = MAX_ITEMS
    after: int | None = None


@dataclass(frozen=True)
class Kept:
    """One item as the store keeps it: what the feed said and what the screen made of it."""

    id: int
    key: str
    feed: str
    title: str
    summary: str
    link: str | None
    published: datetime
    seen: datetime
    lang: str | None  # None until language detection fills it
    countries: tuple[str, ...]
    score: float | None  # the relevance model's probability; None when it did not run
    alert_id: str | None  # the alert (story) it went to, if it alerted


@dataclass(frozen=True)
class ItemPage:
    rows: tuple[Kept, ...]
    after: int | None = None  # where the next page starts; None at the end
