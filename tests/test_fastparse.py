"""The lxml fast path: what it reads, that it reads it as feedparser does, what it leaves to
feedparser, and that hostile documents are refused or fall back without a hang or a request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from feedparser.urls import _urljoin
from hypothesis import given
from hypothesis import strategies as st

from monitor.model import FeedSpec, Item, ParsedFeed
from monitor.reader.fastxml import join
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_fast, parse_feed, parse_slow

URL = "https://news.example.org/feeds/world.xml"
HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}
NOW = datetime(2030, 1, 1, tzinfo=UTC)
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
CONTENT = 'xmlns:content="http://purl.org/rss/1.0/modules/content/"'


def normalised(parsed: ParsedFeed) -> tuple[Item, ...]:
    return normalize_entries(parsed.entries, FeedSpec("f", URL, 600), URL, NOW)


def fast_as_feedparser(body: bytes, headers: dict[str, str] = HEADERS) -> tuple[Item, ...]:
    """The fast path reads the document, and its items are feedparser's."""
    fast = parse_fast(body, headers, URL)
    assert fast is not None, "the fast path declined"
    items = normalised(fast)
    assert items == normalised(parse_slow(body, headers, URL))
    return items


def rss(items: str, ns: str = "", channel: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {ns}><channel>'
        f"<title>World</title><link>https://news.example.org/</link>{channel}{items}"
        "</channel></rss>"
    ).encode()


def test_rss_cdata_escaped_html_and_content_encoded() -> None:
    body = rss(
        "<item><title><![CDATA[ Shelling in <b>Kharkiv</b> ]]></title>"
        "<link>https://news.example.org/a?id=1&amp;utm_source=rss</link>"
        "<description>&lt;p&gt;Civilians &amp;amp; aid workers killed&lt;/p&gt;</description>"
        "<pubDate>Mon, 02 Mar 2026 10:00:00 +0100</pubDate><guid>https://news.example.org/a</guid>"
        "</item><item><title>Only full text</title><link>https://news.example.org/b</link>"
        "<content:encoded><![CDATA[<p>Full <em>story</em> of the siege</p>]]></content:encoded>"
        "</item>",
        ns=CONTENT,
    )
    a, b = fast_as_feedparser(body)
    assert (a.title, a.summary) == ("Shelling in Kharkiv", "Civilians & aid workers killed")
    assert a.link == "https://news.example.org/a?id=1" and a.key == "g:https://news.example.org/a"
    assert a.published == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert b.summary == "Full story of the siege"


def test_description_wins_over_content_encoded_either_order() -> None:
    body = rss(
        "<item><title>x</title><content:encoded>full</content:encoded>"
        "<description>short</description></item>"
        "<item><title>y</title><description>short</description>"
        "<content:encoded>full</content:encoded></item>",
        ns=CONTENT,
    )
    assert [i.summary for i in fast_as_feedparser(body)] == ["short", "short"]


def test_missing_dates_iso_dates_in_pubdate_and_dc_date() -> None:
    body = rss(
        "<item><title>undated</title><link>https://news.example.org/u</link></item>"
        "<item><title>iso</title><pubDate>2026-02-18T07:30:00Z</pubDate></item>"
        "<item><title>dc</title><dc:date>2026-02-18T08:30:00+01:00</dc:date></item>",
        ns=DC,
    )
    undated, iso, dc = fast_as_feedparser(body)
    assert undated.date_estimated and undated.published == NOW
    assert iso.published == dc.published == datetime(2026, 2, 18, 7, 30, tzinfo=UTC)


def test_repeated_guids_and_relative_permalinks() -> None:
    body = rss(
        "".join(
            f"<item><title>t{i}</title><guid>same</guid><link>/story/{i}</link></item>"
            for i in range(3)
        )
        + "<item><title>p</title><guid>/permalink/9</guid></item>"
    )
    items = fast_as_feedparser(body)
    assert [i.key for i in items[:3]] == [f"l:https://news.example.org/story/{i}" for i in range(3)]
    assert items[3].link == "https://news.example.org/permalink/9"


def test_namespaced_junk_is_walked_past() -> None:
    body = rss(
        '<item><title>real</title><x:title xmlns:x="urn:junk">junk</x:title>'
        '<post-id xmlns="com-wordpress:feed-additions:1">7</post-id>'
        '<media:group xmlns:media="http://search.yahoo.com/mrss/"><media:title>m</media:title>'
        "</media:group><link>https://news.example.org/r</link></item>"
    )
    (only,) = fast_as_feedparser(body)
    assert only.title == "real"


def test_rdf() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns="http://purl.org/rss/1.0/" {DC}><channel rdf:about="https://n.example/">'
        "<title>n</title><link>https://n.example/</link></channel>"
        '<item rdf:about="https://n.example/1"><title>Refugees cross</title>'
        "<link>https://n.example/1</link><dc:date>2026-02-18T08:00:00Z</dc:date></item>"
        "</rdf:RDF>"
    ).encode()
    (only,) = fast_as_feedparser(body)
    assert only.key == "g:https://n.example/1" and only.title == "Refugees cross"


def test_atom_alternate_link_xml_base_and_html_title() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        b'xml:base="https://atom.example/base/"><title>a</title><id>urn:feed</id>'
        b'<entry xml:base="sub/"><id>urn:e1</id>'
        b'<title type="html">&lt;b&gt;Mass&lt;/b&gt; grave</title>'
        b'<link rel="enclosure" href="/x.mp3"/><link href="e1.html"/>'
        b'<link rel="self" href="/self"/><updated>2026-02-18T08:00:00Z</updated>'
        b"<summary>found near the river</summary><content>long text</content></entry></feed>"
    )
    (only,) = fast_as_feedparser(body, {"content-type": "application/atom+xml"})
    assert only.title == "Mass grave" and only.summary == "found near the river"
    assert only.link == "https://atom.example/base/sub/e1.html" and only.key == "g:urn:e1"


def test_atom_xhtml_text_constructs() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:x</id><title type="xhtml">'
        b'<div xmlns="http://www.w3.org/1999/xhtml">Forced <b>displacement</b></div></title>'
        b'<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>one</p>'
        b"<p>two &amp; three</p></div></summary></entry></feed>"
    )
    (only,) = fast_as_feedparser(body, {"content-type": "application/atom+xml"})
    assert (only.title, only.summary) == ("Forced displacement", "one two & three")


def test_atom_source_elements_are_not_the_entrys() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Entry title</title>'
        b"<source><title>Source feed</title><id>urn:src</id><link href='https://src.example/'/>"
        b"<updated>2001-01-01T00:00:00Z</updated></source><title>Second title</title>"
        b"<id>urn:e</id><updated>2026-02-18T08:00:00Z</updated></entry></feed>"
    )
    (only,) = fast_as_feedparser(body, {"content-type": "application/atom+xml"})
    assert only.key == "g:urn:e" and only.link is None
    assert only.published == datetime(2026, 2, 18, 8, tzinfo=UTC)


def test_unknown_and_broken_documents_fall_back() -> None:
    base64 = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>i</id>'
        b'<content type="application/octet-stream">aGVsbG8=</content></entry></feed>'
    )
    for body in (base64, b"<html><body>not a feed</body></html>", b"<rss><channel><item>"):
        assert parse_fast(body, HEADERS, URL) is None
        parse_feed(body, HEADERS, URL)  # feedparser reads it: a value, no exception


def test_declared_one_byte_charsets_read_as_feedparser_reads_them() -> None:
    body = rss("<item><title>Génocide</title></item>").replace(b"utf-8", b"iso-8859-1")
    latin1 = body.replace("é".encode(), b"\xe9")
    cyrillic = rss("<item><title>Геноцид</title></item>").replace(b"utf-8", b"windows-1251")
    cyrillic = cyrillic.replace("Геноцид".encode(), "Геноцид".encode("cp1251"))
    for doc, title in ((latin1, "Génocide"), (cyrillic, "Геноцид")):
        fast = parse_fast(doc, {"content-type": "application/xml"}, URL)
        slow = parse_slow(doc, {"content-type": "application/xml"}, URL)
        assert fast is not None and normalised(fast)[0].title == title
        assert normalised(fast) == normalised(slow)


def test_bare_ampersands_are_read_as_feedparser_reads_them() -> None:
    doc = rss("<item><title>Q & A</title><link>http://e.org/?a=1&b=2</link></item>")
    fast = parse_fast(doc, {"content-type": "application/xml"}, URL)
    assert fast is not None and normalised(fast)[0].title == "Q & A"
    assert normalised(fast) == normalised(parse_slow(doc, {"content-type": "application/xml"}, URL))
    # ...but not where feedparser's loose parser reads the rest unlike the strict one
    for odd in ("<description>&nbsp;x</description>", "<description><![CDATA[x]]></description>"):
        doc = rss(f"<item><title>Q & A</title>{odd}</item>")
        assert parse_fast(doc, {"content-type": "application/xml"}, URL) is None


@pytest.mark.parametrize(
    ("channel", "refresh", "source"),
    [
        ("<ttl>60</ttl>", 3600.0, "ttl"),
        (
            '<sy:updatePeriod xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">hourly'
            '</sy:updatePeriod><sy:updateFrequency xmlns:sy="http://purl.org/rss/1.0/modules/'
            'syndication/">2</sy:updateFrequency>',
            1800.0,
            "sy:updatePeriod",
        ),
        ("<ttl>soon</ttl>", None, ""),
        ("<ttl>99999999</ttl>", None, ""),
        ("", None, ""),
    ],
)
def test_declared_refresh(channel: str, refresh: float | None, source: str) -> None:
    parsed = parse_fast(rss("<item><title>x</title></item>", channel=channel), HEADERS, URL)
    assert parsed is not None and (parsed.refresh, parsed.refresh_source) == (refresh, source)


@given(
    st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "/", "", "http:///"]),
    st.text(alphabet="ab/.?#;:@[]% \t&=é-", max_size=30),
    st.sampled_from(["https://news.example.org/a/b", "http://news.example.org/", ""]),
)
def test_the_quick_url_join_is_feedparsers(scheme: str, rest: str, base: str) -> None:
    assert join(base, scheme + rest) == _urljoin(base, scheme + rest)
