"""Frozen dataclasses passed between the stages, and the one reading of the wall clock
(`utcnow`, the default wherever a caller injects no clock); imports nothing of the project."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.model.outbox import Delivery as Delivery
from monitor.model.outbox import DeliveryResult as DeliveryResult
from monitor.model.severity import SEVERITY_NAMES as SEVERITY_NAMES
from monitor.model.severity import Severity as Severity
from monitor.model.sources import Selectors as Selectors


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken as UTC (never as the host's local time)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as every output of the project writes times."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class FeedSpec:
    """One configured feed."""

    name: str
    url: str
    interval: float  # seconds between polls
    tags: tuple[str, ...] = ()
    jitter: float = 0.0  # seconds of random delay added to each poll
    silent_after: float | None = None  # seconds without a new item that mean "source down"
    polite: bool = True  # honour the publisher's pace (monitor.reader.cadence)
    polite_cap: float = 4.0  # ... but poll at least every polite_cap intervals
    type: str = "rss"  # one of FEED_TYPES: how the fetched document is read
    selectors: Selectors | None = None  # type "html" only
    fetch_articles: bool = False  # a teaser feed: each new item's article is matched too
    language: str | None = None  # ISO 639-1: the feed's language, when it declares none or wrongly


@dataclass(frozen=True)
class FeedState:
    """What the store remembers of one feed between polls."""

    name: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    next_poll: datetime | None = None
    items_seen: int = 0
    last_new_item: datetime | None = None
    down_alerted: bool = False
    silent_alerted: bool = False
    next_poll_reason: str | None = None  # why next_poll is when it is, for `monitor status`
    # the pace the feed last declared (ParsedFeed.refresh): a 304 has no body to say it again
    declared_refresh: float | None = None
    declared_source: str | None = None

    @property
    def first_poll(self) -> bool:
        """True until a poll of this feed has succeeded once."""
        return self.last_success is None


@dataclass(frozen=True)
class Fetched:
    """The outcome of one HTTP fetch. A 304 has body None; a failure has error set."""

    feed: str
    url: str  # final URL after redirects
    status: int | None
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    elapsed: float = 0.0
    error: str | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header

    @property
    def not_modified(self) -> bool:
        return self.status == 304 and self.error is None


@dataclass(frozen=True)
class RawEntry:
    """One feed entry as the parser saw it, before normalisation."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime | None  # UTC, None when absent or unparseable
    authors: tuple[str, ...] = ()
    language: str | None = None  # as declared: the entry's own, else the feed's (parse.py)


@dataclass(frozen=True)
class ParsedFeed:
    """Entries of one document plus what the parser said about it."""

    entries: tuple[RawEntry, ...]
    bozo: str | None = None  # parser complaint, kept when entries survived it
    is_feed: bool = True  # False for an HTML page or other non-feed document
    # what the feed itself says of its pace (RSS <ttl>, sy:updatePeriod/updateFrequency):
    # seconds between updates and which element said so; None when it says nothing
    refresh: float | None = None
    refresh_source: str = ""


@dataclass(frozen=True)
class Item:
    """A normalised entry: plain bounded text, absolute link, UTC time, stable key."""

    key: str
    feed: str
    title: str
    summary: str
    link: str | None
    published: datetime
    tags: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2 codes, filled by the matcher
    date_estimated: bool = False  # True when the feed gave no usable date
    lang: str | None = None  # ISO 639-1: declared (normalize), then detected (pipeline.tag)


@dataclass(frozen=True)
class TermHit:
    """One matched term, explained."""

    term: str  # the rule's term as written
    text: str  # the text in the item that matched it
    field: str  # "title" or "summary"
    score: float  # 100 for exact, rapidfuzz score otherwise
    snippet: str = ""  # a short window of the original text around the hit
    group: str = "any"  # any | all[i] | near | weights


@dataclass(frozen=True)
class Match:
    """One rule that fired on one item, with every term that made it fire."""

    rule_id: str
    title: str
    severity: Severity
    description: str
    score: float
    hits: tuple[TermHit, ...]
    theme: str = ""
    channels: tuple[str, ...] = ()  # routing hint: only these channels (empty = all)
    route_tags: tuple[str, ...] = ()
    cooldown: float = 0.0  # seconds; 0 = none
    probability: float | None = None  # the relevance model's, when it ran


@dataclass(frozen=True, slots=True)  # slots: thousands are kept with the window's reports
class Source:
    """One report of a story: the feed and item that carried it."""

    feed: str
    title: str
    link: str | None
    published: datetime
    item_key: str
    lang: str | None = None  # ISO 639-1 of the item, as Item.lang


# A report filed under a story, as the store reads it: story id, source, summary, rules,
# countries, and the themes of those rules (as they were when the report was filed)
FiledReport = tuple[str, Source, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class RuleRef:
    """What an alert says of a rule that fired."""

    id: str
    title: str
    severity: Severity
    description: str
    theme: str = ""


class AlertKind:
    """The kinds of alert; plain strings so they store and serialise as-is."""

    MATCH = "match"
    CORROBORATION = "corroboration"
    ESCALATION = "escalation"
    SOURCE_DOWN = "source_down"
    SOURCE_BACK = "source_back"
    TEST = "test"


@dataclass(frozen=True)
class Alert:
    """One alert for one story, ready to be routed and delivered."""

    id: str
    kind: str
    created: datetime
    severity: Severity
    title: str  # headline of the alert (item title, or a health/escalation line)
    rules: tuple[RuleRef, ...] = ()
    item: Item | None = None
    matches: tuple[Match, ...] = ()
    countries: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    text: str = ""  # extra explanation (escalation counts, feed error, ...)
    data: dict[str, Any] = field(default_factory=dict)
    suppressed: str | None = None  # why an alert was recorded but not sent (cooldown)
    lang: str | None = None  # ISO 639-1: its first (primary) item's language

    @property
    def themes(self) -> tuple[str, ...]:
        return tuple(sorted({r.theme for r in self.rules if r.theme}))


# (alert) -> names of the channels to send it to now, to hold it for a digest, for review
Router = Callable[[Alert], tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]


@dataclass(frozen=True)
class Routed:
    """An alert with the channels it goes to: sent now, held for a digest, or held for review."""

    alert: Alert
    send: tuple[str, ...] = ()
    hold: tuple[str, ...] = ()
    review: tuple[str, ...] = ()  # held until a person approves it (store/reviews.py)
    silenced: tuple[str, ...] = ()  # channels a silence keeps it from (recorded, not sent)
    silence: str | None = None  # the silence's id


@dataclass(frozen=True)
class Placement:
    """Where a candidate alert goes: a new story (story None), or one more source of `story`."""

    alert: Routed  # the candidate; suppressed (and sent nowhere) when a cooldown holds it
    story: str | None = None
    source: Source | None = None  # what the candidate adds to `story`


@dataclass(frozen=True)
class Corroboration:
    """A story enough independent feeds report: marked once, announced by `notice` (if any)."""

    story: str
    notice: Routed | None


@dataclass(frozen=True)
class PollResult:
    """Everything one poll decided; the store writes it in one transaction."""

    feed: str
    outcome: str  # fetched | not_modified | unchanged | failed
    state: FeedState
    items: tuple[Item, ...] = ()  # new items, to record as seen
    alerts: tuple[Alert, ...] = ()  # candidate alerts for new items within the backfill window
    error: str | None = None
    entries: int = 0
    bozo: str | None = None
    notices: tuple[Routed, ...] = ()  # feed-health alerts (source down, back, heard again)
    # the relevance model's probability for new items it screened, by item key (kept with
    # the item for search); items recorded without screening (backfill) have none
    scores: Mapping[str, float] = field(default_factory=dict)
