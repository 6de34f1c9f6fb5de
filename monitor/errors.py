"""The project's exceptions: few, carrying data and one decision bit (retryable), and the
one reading of the Retry-After hint they carry (feeds and channels both meet it)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


class MonitorError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(MonitorError):
    """Configuration or rule files are invalid; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class FetchError(MonitorError):
    """A feed could not be fetched or parsed."""

    def __init__(
        self, reason: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(reason)


class DeliveryError(MonitorError):
    """A channel refused or failed a delivery. retryable=False sends the row dead at once."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(reason)


class StoreError(MonitorError):
    """The state store cannot be used (e.g. its schema is newer than this program)."""


class FieldError(MonitorError):
    """A request to the console names a bad value; `field` says which (the API's 400)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header value: delta-seconds or an HTTP-date
    (counted from now, never negative); None when absent or unreadable."""
    text = (value or "").strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max((_utc(moment) - _utc(now)).total_seconds(), 0.0)


def _utc(moment: datetime) -> datetime:
    # An HTTP-date in "-0000" parses without a zone: it is UTC all the same.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
