"""Polite polling, decided: when a feed is polled next, from its interval and what its
publisher asks (RSS <ttl>, sy:updatePeriod/updateFrequency, Cache-Control, Expires). Pure.

next delay = min(max(interval, the publisher's wait), interval x polite_cap): never sooner
than the publisher allows, never later than the cap, so a feed that asks for a day off is
still read within polite_cap intervals (an atrocity report must not wait a day).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

from monitor.model import FeedSpec, as_utc

# A declared pace longer than this is a typo or a joke, not a schedule: ignored.
MAX_DECLARED = 30 * 86400.0
_PERIODS = {
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 30 * 86400.0,
    "yearly": 365 * 86400.0,
}
_DIRECTIVE = re.compile(r"\s*([A-Za-z-]+)\s*(?:=\s*\"?([^\",]*)\"?)?\s*(?:,|$)")


def declared(ttl: object, period: object, frequency: object) -> tuple[float | None, str]:
    """The pace a feed declares: (seconds between updates, "ttl" | "sy:updatePeriod"), or
    (None, "") when it declares none we can trust (non-numeric, not positive, over 30 days).
    With both, the longer wins: neither element allows polling sooner than it says."""
    hints = [h for h in (_ttl(ttl), _sy(period, frequency)) if h[0] is not None]
    return max(hints, key=lambda h: h[0] or 0.0) if hints else (None, "")


def _ttl(value: object) -> tuple[float | None, str]:
    minutes = _number(value)
    return _bounded(minutes * 60 if minutes is not None else None, "ttl")


def _sy(period: object, frequency: object) -> tuple[float | None, str]:
    if not isinstance(period, str) or period.strip().lower() not in _PERIODS:
        return None, ""
    times = 1.0 if frequency is None or str(frequency).strip() == "" else _number(frequency)
    if times is None or times < 1:
        return None, ""
    return _bounded(_PERIODS[period.strip().lower()] / times, "sy:updatePeriod")


def _bounded(seconds: float | None, source: str) -> tuple[float | None, str]:
    if seconds is None or not 0 < seconds <= MAX_DECLARED:
        return None, ""
    return seconds, source


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        n = float(str(value).strip())
    except ValueError:
        return None
    return n if math.isfinite(n) else None


def header_wait(headers: Mapping[str, str], now: datetime) -> tuple[float | None, str]:
    """How long the response says it stays fresh: (seconds, what said so), or (None, "").
    Cache-Control max-age (less Age) wins over Expires, as in HTTP caching; no-cache and
    no-store mean the publisher gives no hint at all."""
    directives = {
        m.group(1).lower(): m.group(2)
        for m in _DIRECTIVE.finditer(headers.get("cache-control", ""))
    }
    if "no-store" in directives or "no-cache" in directives:
        return None, ""
    max_age = _number(directives.get("max-age"))
    if max_age is not None and max_age >= 0 and max_age == int(max_age):
        age = _number(headers.get("age")) or 0.0
        return max(max_age - max(age, 0.0), 0.0), f"Cache-Control max-age={int(max_age)}"
    return _expires(headers, now)


def _expires(headers: Mapping[str, str], now: datetime) -> tuple[float | None, str]:
    """Expires counts from the response's own Date when it has one (clocks disagree)."""
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None, ""
    base = _http_date(headers.get("date")) or as_utc(now)
    wait = (expires - base).total_seconds()
    return (wait, f"Expires in {span(wait)}") if wait > 0 else (None, "")


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # "0", "-1" and other non-dates mean "already expired": no hint


def next_delay(
    spec: FeedSpec,
    refresh: float | None,
    refresh_source: str | None,
    headers: Mapping[str, str],
    now: datetime,
) -> tuple[float, str]:
    """Seconds to the next poll of a feed that answered, and why, for `monitor status`:
    e.g. "interval 10m", "publisher: Cache-Control max-age=1800",
    "publisher: <ttl> 60 min (capped at 4 × interval)"."""
    regular = (spec.interval, f"interval {span(spec.interval)}")
    if not spec.polite:
        return regular
    hints = [(refresh, _said(refresh, refresh_source)), header_wait(headers, now)]
    asked = [(s, text) for s, text in hints if s is not None]
    if not asked:
        return regular
    wait, said = max(asked, key=lambda h: h[0])
    if wait <= spec.interval:
        return regular
    ceiling = spec.interval * spec.polite_cap
    if wait > ceiling:
        return ceiling, f"publisher: {said} (capped at {spec.polite_cap:g} × interval)"
    return wait, f"publisher: {said}"


def _said(refresh: float | None, source: str | None) -> str:
    if refresh is None:
        return ""
    if source == "ttl":
        return f"<ttl> {refresh / 60:g} min"
    return f"{source or 'feed'} {span(refresh)}"


def span(seconds: float) -> str:
    """A duration as people write it: 45s, 10m, 1h30m, 2d."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            out += f"{s // size}{unit}"
            s %= size
    return out
