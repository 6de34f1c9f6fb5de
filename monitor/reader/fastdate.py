"""Feed dates as feedparser reads them, the two common shapes without its chain of parsers.

feedparser tries nine date parsers in turn, ~30 us a date; nearly every feed writes either
RFC 822 ("Tue, 18 Feb 2026 10:11:12 +0000") or W3C/ISO 8601 ("2026-02-18T10:11:12Z"). Those
two, in their strict shapes, are read by one regex each, with the result feedparser's own
parser gives (tests check they agree); anything else, and any impossible date, goes to
feedparser's `_parse_date`.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

from feedparser.datetimes import _parse_date

_MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_RFC822 = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?[ \t]+)?(\d\d?)[ \t]+([a-z]{3})[a-z]*[ \t]+"
    r"(\d{4})[ \t]+(\d\d):(\d\d)(?::(\d\d))?[ \t]+(?:([+-])(\d\d)(\d\d)|gmt|ut|utc|z)\Z",
    re.IGNORECASE,
)
# w3dtf (feedparser's first parser) keeps whole seconds and needs the offset's colon
_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d{1,9})?(?:[Zz]|([+-])(\d\d):(\d\d))\Z"
)


def parse_date(value: str) -> time.struct_time | None:
    """The UTC struct_time feedparser's _parse_date gives for `value` (stripped), or None."""
    found = _ISO.match(value)
    if found is not None:
        y, mo, d, h, mi, s, sign, oh, om = found.groups()
        month = int(mo)
    else:
        found = _RFC822.match(value)
        if found is None:
            return _slow(value)
        d, name, y, h, mi, s, sign, oh, om = found.groups()
        month = _MONTHS.get(name.lower(), 0)
        if not month:
            return _slow(value)
    year = int(y)
    if not 1900 <= year <= 9000:  # far years: feedparser's overflow rules
        return _slow(value)
    try:  # datetime refuses impossible days and times (and leap seconds) as feedparser's does
        stamp = datetime(year, month, int(d), int(h), int(mi), int(s or 0))
    except ValueError:
        return _slow(value)
    if sign is not None:
        offset = timedelta(hours=int(oh), minutes=int(om))
        stamp = stamp - offset if sign == "+" else stamp + offset
    return stamp.utctimetuple()  # feedparser's own last step


def _slow(value: str) -> time.struct_time | None:
    parsed: time.struct_time | None = _parse_date(value)
    return parsed
