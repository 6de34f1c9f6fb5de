"""The outbox's frozen rows: one alert bound for one channel, and what a channel answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Delivery:
    """One outbox row: an alert bound for one channel."""

    id: int
    alert_id: str
    channel: str
    status: str  # pending | held | review | sent | dead | rejected
    attempts: int
    next_attempt: datetime
    created: datetime
    last_error: str | None = None
    unreviewed: bool = False  # released by a review timeout: sent marked "not reviewed"


@dataclass(frozen=True)
class DeliveryResult:
    """What a channel said when it accepted a payload."""

    detail: str = ""
