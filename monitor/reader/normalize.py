"""RawEntry -> Item: stable key, UTC time, absolute link, plain bounded text, and the
language declared for it (the feed's config, else the document's) in `Item.lang`, which
pipeline.tag then refines from the text."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from monitor.match.language import declared
from monitor.model import FeedSpec, Item, RawEntry
from monitor.reader.htmltext import MAX_RAW as MAX_RAW  # re-exported: their home was here
from monitor.reader.htmltext import bound as bound
from monitor.reader.htmltext import clean, plain_text

MAX_TITLE = 400
MAX_SUMMARY = 1500
FUTURE_SLACK = timedelta(hours=1)
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|mc_cid$|mc_eid$|ocid$|at_medium$|at_campaign$)")


# An absolute link with an ASCII host, without parameters or user, its query (if any) of
# name=value pairs that parse_qsl and urlencode give back unchanged (unreserved characters
# only), any fragment: the common case, which urljoin, urlsplit and urlunsplit give back as
# it is but for the host's case, "/" for no path, the fragment and tracking parameters
# dropped. The path may hold any character but spaces (urllib leaves a non-ASCII path as it
# is: Chinese, Arabic and Cyrillic news sites write their slugs so).
_PLAIN_LINK = re.compile(
    r"(https?)://([-A-Za-z0-9.:]+)(/[^?#;\s\[\]]*)?"
    r"(?:\?((?:[-A-Za-z0-9_.~]+=[-A-Za-z0-9_.~]*)(?:&[-A-Za-z0-9_.~]+=[-A-Za-z0-9_.~]*)*))?"
    r"(?:#.*)?",
    re.S,
)


def canonical_link(link: str | None, base: str) -> str | None:
    """Absolute http(s) link without fragment or tracking parameters; None if unusable."""
    if not link:
        return None
    cleaned = clean(link)[:2000]
    plain = _PLAIN_LINK.fullmatch(cleaned)
    if plain is not None:
        scheme, host, path, query = plain.groups()
        if query:
            pairs = query.split("&")
            query = "&".join(p for p in pairs if not _TRACKING.match(p, 0, p.index("=")))
        return f"{scheme}://{host.lower()}{path or '/'}{'?' if query else ''}{query or ''}"
    return _canonical_link(cleaned, base)


def _canonical_link(link: str, base: str) -> str | None:
    absolute = urljoin(base, link)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)
        ]
    )
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", query, ""))


def normalize_entries(
    entries: Sequence[RawEntry], spec: FeedSpec, base_url: str, now: datetime
) -> tuple[Item, ...]:
    """Normalise one feed's entries; duplicate keys within one document are dropped."""
    guid_counts = Counter(e.guid for e in entries if e.guid)
    items: dict[str, Item] = {}
    for entry in entries:
        # A GUID shared by several entries (some feeds repeat one for every entry) identifies
        # none of them: those entries fall back to their link. Entries with a GUID of their
        # own keep it, so one duplicate does not re-key (and re-announce) the whole feed.
        use_guid = entry.guid is not None and guid_counts[entry.guid] == 1
        item = normalize_entry(entry, spec, base_url, now, use_guid=use_guid)
        items.setdefault(item.key, item)
    return tuple(items.values())


def normalize_entry(
    entry: RawEntry, spec: FeedSpec, base_url: str, now: datetime, *, use_guid: bool = True
) -> Item:
    title = plain_text(entry.title, MAX_TITLE)
    summary = plain_text(entry.summary, MAX_SUMMARY)
    link = canonical_link(entry.link, base_url)
    published, estimated = _published(entry.published, now)
    guid = clean(entry.guid)[:1000] if entry.guid else None
    return Item(
        key=item_key(guid if use_guid else None, link, title, summary),
        feed=spec.name,
        title=title or (summary[:120] if summary else "(untitled)"),
        summary=summary,
        link=link,
        published=published,
        tags=spec.tags,
        date_estimated=estimated,
        # the config's word beats the document's: it is there for feeds that declare wrongly
        lang=spec.language or declared(entry.language),
    )


def item_key(guid: str | None, link: str | None, title: str, summary: str) -> str:
    """Stable identity of an entry within its feed: GUID, else link, else a content hash."""
    if guid:
        return "g:" + (guid if len(guid) <= 200 else _digest(guid))
    if link:
        return "l:" + (link if len(link) <= 200 else _digest(link))
    return "h:" + _digest(title + "\n" + summary)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _published(when: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """Missing dates become now; dates in the future (bad clocks, typos) are clamped to now."""
    if when is None:
        return now, True
    if when > now + FUTURE_SLACK:
        return now, True
    return when, False
