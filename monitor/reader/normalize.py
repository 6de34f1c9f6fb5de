"""RawEntry -> Item: stable key, UTC time, absolute link, plain bounded text."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from monitor.model import FeedSpec, Item, RawEntry

MAX_TITLE = 400
MAX_SUMMARY = 1500
MAX_RAW = 200_000  # never feed more than this to the HTML stripper
FUTURE_SLACK = timedelta(hours=1)
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|mc_cid$|mc_eid$|ocid$|at_medium$|at_campaign$)")
_WS = re.compile(r"\s+")
_TAGLIKE = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_DROP_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "svg"}
_BLOCK = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


class _TextExtractor(HTMLParser):
    """Collects visible text; drops scripts, styles and every attribute (pixels, handlers)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT and self.skip:
            self.skip -= 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def plain_text(raw: str, limit: int) -> str:
    """HTML or text -> one line of visible text, entities decoded, bounded to limit chars."""
    text = raw[:MAX_RAW]
    for _ in range(2):  # twice: feeds that escape their HTML ship "&lt;p&gt;" as text
        if "<" not in text and "&" not in text:
            break
        text = _strip_html(text)
        if not _TAGLIKE.search(text):
            break
    return bound(clean(text), limit)


def _strip_html(text: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: fall back to a blunt strip
        return html.unescape(_TAGLIKE.sub(" ", text))
    return "".join(parser.parts)


def clean(text: str) -> str:
    """Drop control and format characters (NUL, bidi overrides), normalise, collapse spaces.

    Controls become spaces; invisible format characters (soft hyphen, zero-width space, BOM,
    bidi controls) are removed, so "geno\u00adcide" stays one word. ZWJ and ZWNJ are kept:
    they are part of how Persian, Indic scripts and emoji are spelt.
    """
    text = unicodedata.normalize("NFC", text)
    return _WS.sub(" ", "".join(_keep(ch) for ch in text)).strip()


def _keep(ch: str) -> str:
    category = unicodedata.category(ch)
    if category[0] != "C" or ch in "\t\n\u200c\u200d":
        return ch
    return "" if category == "Cf" else " "


def bound(text: str, limit: int) -> str:
    """Cut at a word boundary near limit and mark the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.7:
        cut = cut[:space]
    return cut.rstrip() + "…"


def canonical_link(link: str | None, base: str) -> str | None:
    """Absolute http(s) link without fragment or tracking parameters; None if unusable."""
    if not link:
        return None
    absolute = urljoin(base, clean(link)[:2000])
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
