"""The one hand-moved clock of the tests: time passes when a test says so, never by sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.factories import T0


class FakeClock:
    """Pass the clock itself where code takes `now: Callable[[], datetime]`. `monotonic()`
    counts the seconds advanced since it was made, for code that measures intervals."""

    def __init__(self, start: datetime = T0) -> None:
        self._start = start
        self._elapsed = timedelta(0)

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        return self._start + self._elapsed

    def monotonic(self) -> float:
        return self._elapsed.total_seconds()

    def advance(self, seconds: float) -> None:
        self._forward(timedelta(seconds=seconds))

    def advance_to(self, moment: datetime) -> None:
        self._forward(moment - self.now())

    def _forward(self, step: timedelta) -> None:
        if step < timedelta(0):  # a monotonic reading cannot fall
            raise ValueError(f"the clock moves forward only, not by {step}")
        self._elapsed += step
