"""The project's exceptions: few, carrying data and one decision bit (retryable)."""

from __future__ import annotations


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
