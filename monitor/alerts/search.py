"""The item search's requests, checked: the query text into folded words and "quoted
phrases", its filters and its cursor, from the API's, the page's or the CLI's. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from monitor.alerts.triage import limit, parse_time
from monitor.config.reader import parse_duration
from monitor.errors import FieldError
from monitor.model.search import MAX_ITEMS, ItemQuery
from monitor.store.items import words

Q_MAX = 200  # characters of a query: a few words and phrases, bounded for the index
TERMS_MAX = 12  # words and phrases in one query
_COUNTRY = re.compile(r"[A-Z]{2}")
_LANG = re.compile(r"[a-z]{2}")


def terms(text: str) -> tuple[tuple[str, ...], ...]:
    """Plain words (all must be there) and "quoted phrases" (their words in that order),
    folded as the index folds them; any other character is a separator, never syntax.
    FieldError("q") for a quote left open, a query of no word, or one too long."""
    if len(text) > Q_MAX:
        raise FieldError("q", f"longer than {Q_MAX} characters")
    if text.count('"') % 2:
        raise FieldError("q", 'a quote is not closed: write "a phrase" between two quotes')
    out: list[tuple[str, ...]] = []
    for i, part in enumerate(text.split('"')):
        found = words(part)
        if i % 2:  # inside quotes: one phrase
            out += [tuple(found)] if found else []
        else:
            out += [(w,) for w in found]
    if text.strip() and not out:
        raise FieldError("q", "no word to search for (letters or digits)")
    if len(out) > TERMS_MAX:
        raise FieldError("q", f"more than {TERMS_MAX} words and phrases")
    return tuple(dict.fromkeys(out))  # a word given twice is asked once


def query(params: Mapping[str, str], now: datetime | None = None) -> ItemQuery:
    """GET /api/v1/items' (and /search's) parameters -> ItemQuery; FieldError naming the bad
    one. Times are ISO 8601, or with `now` given a duration back from it ("30d")."""
    country = params.get("country", "").strip().upper()
    if country and not _COUNTRY.fullmatch(country):
        raise FieldError("country", f'"{country[:20]}" is not a two-letter ISO code, e.g. SD')
    lang = params.get("lang", "").strip().lower()
    if lang and not _LANG.fullmatch(lang):
        raise FieldError("lang", f'"{lang[:20]}" is not a two-letter ISO 639-1 code, e.g. ar')
    return ItemQuery(
        terms=terms(params.get("q", "").strip()),
        feed=params.get("feed", "").strip(),
        country=country,
        lang=lang,
        since=_time(params, "since", now),
        until=_time(params, "until", now),
        limit=limit(params.get("limit", ""), MAX_ITEMS),
        after=_cursor(params.get("cursor", "")),
    )


def _time(params: Mapping[str, str], name: str, now: datetime | None) -> datetime | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if now is not None and value[-1:].isalpha():  # "30d", "1h30m" (an ISO "...Z" falls through)
        try:
            return now - timedelta(seconds=parse_duration(value))
        except ValueError:
            pass  # not a duration: read it as a time, whose error says what to write
    return parse_time(value, name)


def _cursor(text: str) -> int | None:
    """The `next` a page gave: the id of its last item."""
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise FieldError("cursor", "not a cursor this server gave; start again without it")
    return int(text)
