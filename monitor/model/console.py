"""Frozen dataclasses of the analysts' console: triage states, silences, notes, history,
and the filters and rows of the alert list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.model import Alert, Severity

# What an analyst may set; `silenced` is set only by a silence when the alert is recorded.
STATES = ("new", "acknowledged", "resolved", "false_positive")
SILENCED = "silenced"
ALL_STATES = (*STATES, SILENCED)
DECISIONS = ("approve", "reject")  # what a person decides of an alert held for review


@dataclass(frozen=True)
class Matchers:
    """What a silence covers: the keys AND together, the values of one key OR."""

    rule: tuple[str, ...] = ()  # rule ids or themes
    country: tuple[str, ...] = ()  # ISO 3166-1 alpha-2
    feed: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()  # empty: every channel
    text: str = ""  # a phrase of the title or summary, compared folded


@dataclass(frozen=True)
class Silence:
    """A silence: from `starts` to `ends`, alerts it covers are recorded but not sent."""

    id: str
    matchers: Matchers
    reason: str
    created_by: str
    created: datetime
    starts: datetime
    ends: datetime
    expired_by: str | None = None  # who ended it early (DELETE), if anyone

    def active(self, now: datetime) -> bool:
        return self.starts <= now < self.ends


@dataclass(frozen=True)
class Note:
    author: str
    text: str
    created: datetime


@dataclass(frozen=True)
class Event:
    """One line of an alert's history: who did what, when."""

    actor: str
    action: str  # state, assign, note, silenced, review.approve, review.reject, ...
    detail: str
    created: datetime


@dataclass(frozen=True)
class Filters:
    """The alert list's filters, already checked (see monitor/alerts/triage.py)."""

    state: tuple[str, ...] = ()
    severity: Severity | None = None  # minimum
    rule: str = ""  # a rule id or a theme
    country: str = ""
    lang: str = ""  # ISO 639-1
    tag: str = ""
    q: str = ""
    kind: str = ""
    assignee: str = ""
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    after: tuple[float, str] | None = None  # (created, id) of the last row already shown


@dataclass(frozen=True)
class Listed:
    """An alert as the console lists it: the alert with its sources, and its triage."""

    alert: Alert
    state: str = "new"
    assignee: str | None = None
    silence_id: str | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class Page:
    rows: tuple[Listed, ...]
    after: tuple[float, str] | None = None  # where the next page starts; None at the end


@dataclass(frozen=True)
class DeliveryView:
    """One outbox row of an alert, as its page and the API show it."""

    id: int
    channel: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt: datetime | None
    sent_at: datetime | None
    unreviewed: bool = False
    silence_id: str | None = None


@dataclass(frozen=True)
class Missed:
    """An item an analyst says should have alerted: a label for retraining."""

    feed: str
    item_key: str
    title: str
    summary: str = ""
    link: str | None = None
    note: str = ""
    marked_by: str = ""
    created: datetime | None = None


@dataclass(frozen=True)
class Detail:
    """Everything the alert page shows."""

    listed: Listed
    deliveries: tuple[DeliveryView, ...] = ()
    notes: tuple[Note, ...] = ()
    history: tuple[Event, ...] = field(default_factory=tuple)
