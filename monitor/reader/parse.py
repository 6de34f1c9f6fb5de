"""Fetched bytes -> ParsedFeed: feedparser on io.BytesIO, never on a URL or an untrusted string."""

from __future__ import annotations

import calendar
import codecs
import io
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser
from feedparser.exceptions import CharacterEncodingOverride, NonXMLContentType

from monitor.errors import FetchError
from monitor.model import ParsedFeed, RawEntry
from monitor.reader import fastparse
from monitor.reader.cadence import declared

# A feed has no business declaring entities; declarations are how entity-expansion
# bombs and external-entity (XXE) reads work, so refuse them before feedparser sees them.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_BENIGN = (NonXMLContentType, CharacterEncodingOverride)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# C0 controls XML 1.0 forbids; in UTF-8 these bytes only ever stand for themselves
_XML_FORBIDDEN = bytes([*range(0, 9), 11, 12, *range(14, 32)])


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("cp1252", "replace"), err.end


codecs.register_error("monitor-cp1252", _cp1252_fallback)


def repair_utf8(body: bytes, headers: Mapping[str, str]) -> bytes:
    """A UTF-8 document with stray bytes (a Latin-1 name pasted in, NULs) -> clean UTF-8."""
    return _repaired(body, headers)[0]


def _repaired(body: bytes, headers: Mapping[str, str]) -> tuple[bytes, bool]:
    """`repair_utf8`, and whether the result is known to be UTF-8 (checked or repaired here:
    the fast path need not decode the whole body again to learn it).

    feedparser decodes a document that is not valid UTF-8 as windows-1252 *as a whole*, so
    one bad byte turns every accent of a French feed into mojibake ("GÃ©nÃ¨ve") and its rules
    stop matching. Only the invalid bytes are read as windows-1252 here; control characters
    that XML forbids are dropped so the strict parser can read the rest.
    """
    if body[:2] in _WIDE_BOMS[:2] or body[:4] == _WIDE_BOMS[2] or b"\x00<\x00" in body[:8]:
        return body, False  # UTF-16/32: NUL bytes are part of the text
    charset = _CHARSET.search(headers.get("content-type", ""))
    declared = _XML_ENCODING.match(body)
    for name in (charset and charset.group(1), declared and declared.group(1).decode()):
        if name and not _is_utf8(name):
            return body, False  # another encoding is declared: feedparser's business
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        body = body.decode("utf-8", "monitor-cp1252").encode("utf-8")
    return body.translate(None, _XML_FORBIDDEN), True  # ASCII bytes out: still UTF-8


def _is_utf8(name: str) -> bool:
    try:
        return codecs.lookup(name).name == "utf-8"
    except LookupError:
        return False


def refuse_hostile(body: bytes) -> None:
    """Raise FetchError for documents that declare XML entities (in any common encoding)."""
    head = body
    if body[:2] in _UTF16_BOMS or body[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        try:
            head = body.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            head = body.replace(b"\x00", b"")
    if _ENTITY_DECL.search(head):
        raise FetchError(
            "document declares XML entities (refused: entity expansion or XXE)", retryable=True
        )


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse one document: the fast path when it can read it, else feedparser.

    Raises FetchError for hostile documents; otherwise returns a value.
    """
    fast = parse_fast(body, headers, url)
    return fast if fast is not None else parse_slow(body, headers, url)


def parse_fast(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed | None:
    """The lxml fast path, or None when only feedparser can read the document faithfully.

    Cheap enough for the calling thread: lxml parses in linear time with libxml2's depth
    and text-size limits, the body is capped by fetch, and nothing here backtracks.
    """
    body, response_headers, utf8 = _prepared(body, headers, url)
    doc = fastparse.read(body, response_headers, url, utf8)
    if doc is None:
        return None
    language = doc.language or http_language(response_headers)
    return ParsedFeed(
        entries=tuple(_entry(e, language) for e in doc.entries),
        refresh=doc.refresh,
        refresh_source=doc.refresh_source,
    )


def _prepared(
    body: bytes, headers: Mapping[str, str], url: str
) -> tuple[bytes, dict[str, str], bool]:
    """Hostile documents refused before any parser; stray bytes repaired; headers lower-cased;
    whether the body is known to be UTF-8."""
    refuse_hostile(body)
    response_headers = {k.lower(): v for k, v in headers.items()}
    body, utf8 = _repaired(body, response_headers)
    response_headers.setdefault("content-location", url)
    response_headers.pop("content-encoding", None)  # the body is already decoded
    return body, response_headers, utf8


def parse_slow(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """feedparser on the whole document (in the pool: its regexes can backtrack)."""
    body, response_headers, _ = _prepared(body, headers, url)
    # the HTTP Content-Language is taken last, after what the document says (feedparser
    # would put it under every entry's own xml:lang)
    served_language = http_language(response_headers)
    response_headers.pop("content-language", None)
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers=response_headers,
            sanitize_html=False,  # we strip all markup ourselves; sanitising costs 40% of parse
            resolve_relative_uris=False,
        )
    except (ValueError, OverflowError, RecursionError, LookupError, TypeError) as exc:
        # e.g. "&#99999999999;" makes feedparser's loose parser raise OverflowError
        raise FetchError(f"parser failed: {type(exc).__name__}: {exc}"[:300]) from None
    # Every entry is kept: nothing is dropped without a word. The cost is bounded all the
    # same: the body size cap bounds the document, and the parse deadline (which feedparser
    # reaches long before normalising and matching what it returned would) bounds how many
    # entries a parse can return at all (measured: ~20,000 entries take 6 s to parse and
    # 4.5 s to normalise and match).
    channel = parsed.get("feed") or {}
    language = _str_or_none(channel.get("language")) or served_language
    entries = tuple(_entry(e, language) for e in parsed.entries)
    bozo = _bozo(parsed)
    refresh, source = declared(
        channel.get("ttl"), channel.get("sy_updateperiod"), channel.get("sy_updatefrequency")
    )
    return ParsedFeed(
        entries=entries,
        bozo=bozo,
        is_feed=bool(parsed.get("version")) or bool(entries),
        refresh=refresh,
        refresh_source=source,
    )


def _entry(e: Mapping[str, Any], feed_language: str | None) -> RawEntry:
    return RawEntry(
        guid=_str_or_none(e.get("id")),
        link=_link(e),
        title=str(e.get("title", "") or ""),
        summary=_summary(e),
        published=_when(e),
        authors=tuple(str(a.get("name", ""))[:200] for a in e.get("authors", []) if a.get("name")),
        language=_language(e) or feed_language,
    )


def _language(e: Mapping[str, Any]) -> str | None:
    """The entry's own declaration: its <language> / <dc:language>, else the xml:lang in
    scope at its title (Atom's entry or title xml:lang, or one the whole feed carries)."""
    own = e.get("language") or (e.get("title_detail") or {}).get("language")
    return str(own)[:40] if own else None


def http_language(headers: Mapping[str, str]) -> str | None:
    """The first language of a Content-Language header ("ar, en" -> "ar"); `headers` with
    lower-case names."""
    first = headers.get("content-language", "").split(",")[0].strip()
    return first[:40] or None


def _link(e: Mapping[str, Any]) -> str | None:
    link = e.get("link")
    if link:
        return str(link)
    for candidate in e.get("links", []):
        if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
            return str(candidate["href"])
    return None


def _summary(e: Mapping[str, Any]) -> str:
    summary = e.get("summary")
    if summary:
        return str(summary)
    for content in e.get("content", []) or []:
        if content.get("value"):
            return str(content["value"])
    return ""


def _when(e: Mapping[str, Any]) -> datetime | None:
    """feedparser's *_parsed fields are UTC struct_times; reject impossible ones."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # `in` first: FeedParserDict.get("updated_parsed") falls back to published_parsed
        # with a DeprecationWarning (feedparser issue 310)
        value = e[key] if key in e else None  # noqa: SIM401 (see above: .get is the trap)
        if isinstance(value, time.struct_time) and 1990 <= value.tm_year <= 2200:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _bozo(parsed: Mapping[str, Any]) -> str | None:
    """feedparser's complaint, None when there is none or it is only about the HTTP headers.

    A feed served as text/plain or text/html (NonXMLContentType), or whose declared charset
    was wrong (CharacterEncodingOverride), was still read as XML: an empty one is a quiet
    feed, not a broken one.
    """
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if isinstance(exc, _BENIGN):
        return None
    return f"{type(exc).__name__}: {exc}"[:300] if exc is not None else "malformed document"


def _str_or_none(value: object) -> str | None:
    return str(value) if value else None
