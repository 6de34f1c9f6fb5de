"""A date as a web page writes it -> UTC datetime: ISO 8601 and RFC 822 (a `datetime`
attribute), day-first numeric dates, and dates with English, French or Spanish month names.

Pages print dates for people ("12 March 2024", "1er mars 2024", "12 de marzo de 2024",
"March 12, 2024", "12/03/2024"), so this reads the first date it finds in the text. A
numeric date is read day first, as the UN, the ICC and French and Spanish pages write it,
unless only month first makes sense ("03/25/2024"). A date without a time is midnight UTC.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

_MONTHS = {
    # English
    **dict.fromkeys(("january", "jan"), 1),
    **dict.fromkeys(("february", "feb"), 2),
    **dict.fromkeys(("march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    "may": 5,
    **dict.fromkeys(("june", "jun"), 6),
    **dict.fromkeys(("july", "jul"), 7),
    **dict.fromkeys(("august", "aug"), 8),
    **dict.fromkeys(("september", "sep", "sept"), 9),
    **dict.fromkeys(("october", "oct"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("december", "dec"), 12),
    # French (accents are folded away before lookup)
    **dict.fromkeys(("janvier", "janv"), 1),
    **dict.fromkeys(("fevrier", "fevr", "fev"), 2),
    "mars": 3,
    **dict.fromkeys(("avril", "avr"), 4),
    "mai": 5,
    "juin": 6,
    **dict.fromkeys(("juillet", "juil"), 7),
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    # Spanish
    **dict.fromkeys(("enero", "ene"), 1),
    "febrero": 2,
    "marzo": 3,
    **dict.fromkeys(("abril", "abr"), 4),
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    **dict.fromkeys(("agosto", "ago"), 8),
    **dict.fromkeys(("septiembre", "setiembre", "set"), 9),
    "octubre": 10,
    "noviembre": 11,
    **dict.fromkeys(("diciembre", "dic"), 12),
}
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?!\d)")
_DAY_MONTH = re.compile(
    r"(?<!\d)(\d{1,2})(?:er|st|nd|rd|th|o)?\s+(?:de\s+)?([a-z]{3,10})\.?,?\s+(?:de\s+)?(\d{4})"
)
_MONTH_DAY = re.compile(r"\b([a-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
MAX_TEXT = 300  # a date is short; a long text is searched only at its start


def parse_page_date(text: str | None) -> datetime | None:
    """The first date in text as aware UTC, or None when there is none (or it is impossible)."""
    if not text:
        return None
    value = " ".join(text.split())[:MAX_TEXT]
    whole = _whole(value)
    if whole is not None:
        return whole
    folded = _fold(value)
    for find in (_iso_date, _named, _numeric):
        found = find(folded)
        if found is not None:
            return found
    return None


def _whole(value: str) -> datetime | None:
    """The value as one ISO 8601 or RFC 822 timestamp (a datetime attribute), with its time."""
    for read in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            moment = read(value.replace("Z", "+00:00") if read is datetime.fromisoformat else value)
        except (ValueError, TypeError, IndexError):
            continue
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return moment if 1990 <= moment.year <= 2200 else None
    return None


def _fold(value: str) -> str:
    """Lower case without accents: "Février" -> "fevrier", "1º" -> "1o"."""
    decomposed = unicodedata.normalize("NFKD", value.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _iso_date(text: str) -> datetime | None:
    m = _ISO_DATE.search(text)
    return _day(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _named(text: str) -> datetime | None:
    """The earliest date written with a month name, day first or month first."""
    found: list[tuple[int, datetime]] = []
    for m in _DAY_MONTH.finditer(text):
        month = _MONTHS.get(m.group(2))
        when = _day(int(m.group(3)), month, int(m.group(1))) if month else None
        if when is not None:
            found.append((m.start(), when))
            break
    for m in _MONTH_DAY.finditer(text):
        month = _MONTHS.get(m.group(1))
        when = _day(int(m.group(3)), month, int(m.group(2))) if month else None
        if when is not None:
            found.append((m.start(), when))
            break
    return min(found)[1] if found else None


def _numeric(text: str) -> datetime | None:
    m = _NUMERIC.search(text)
    if m is None:
        return None
    first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if second > 12 >= first:  # only month first makes sense: 03/25/2024
        first, second = second, first
    return _day(year, second, first)


def _day(year: int, month: int | None, day: int) -> datetime | None:
    if month is None or not 1990 <= year <= 2200:
        return None
    try:
        return datetime.combine(date(year, month, day), datetime.min.time(), UTC)
    except ValueError:
        return None
