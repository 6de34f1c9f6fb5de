"""Evidence of an alert: each source's article page as it was fetched (hashed, its main text
kept, the raw HTML within the size cap), and what a web archive answered when asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PENDING, CAPTURED, FAILED = "pending", "captured", "failed"  # FAILED: no attempts left


@dataclass(frozen=True)
class ArchiveAnswer:
    status: int | None
    url: str | None  # the archived copy (Content-Location or Location), when given
    error: str | None
    at: datetime


@dataclass(frozen=True)
class Capture:
    """One attempt at a source's page: a page read (sha256 set) or an error."""

    fetched_at: datetime
    status: int | None = None  # HTTP status, when a server answered
    final_url: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None  # of the raw bytes as served (after Content-Encoding)
    text: str | None = None
    raw: bytes | None = None
    error: str | None = None


@dataclass(frozen=True)
class EvidenceTask:
    """A source page due to be fetched (claimed by one instance)."""

    alert_id: str
    link: str
    feed: str
    attempts: int
    archived: bool  # the archive was asked already (it is asked once)


@dataclass(frozen=True)
class Evidence:
    """One (alert, source link) row as the console and exports read it."""

    alert_id: str
    link: str
    feed: str
    state: str  # pending | captured | failed
    attempts: int
    capture: Capture | None  # the last attempt; None before the first
    archive: ArchiveAnswer | None
