"""normalize: stable keys, repeated GUIDs, absolute links, dates, plain bounded text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.model import FeedSpec, RawEntry
from monitor.reader.normalize import (
    MAX_SUMMARY,
    MAX_TITLE,
    canonical_link,
    normalize_entries,
    plain_text,
)
from monitor.reader.parse import parse_feed
from tests.feedfiles import item, rss

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SPEC = FeedSpec("f", "http://news.example.org/feed/rss.xml", 600, ("un",))
BASE = "http://news.example.org/feed/rss.xml"


def items_of(body: bytes, base: str = BASE):  # type: ignore[no-untyped-def]
    return normalize_entries(parse_feed(body, {}, base).entries, SPEC, base, NOW)


def raw(title: str, guid: str | None = None, link: str | None = None) -> RawEntry:
    return RawEntry(guid, link, title, "", NOW)


def test_same_guid_on_every_entry_keeps_items_distinct():
    """A feed repeating one GUID for every entry still yields one item per entry."""
    body = rss(*(item(f"Story {i}", guid="same", link=f"/story/{i}") for i in range(5)))
    got = items_of(body)
    assert len(got) == 5 and len({i.key for i in got}) == 5
    assert all(i.key.startswith("l:") for i in got)


def test_one_duplicate_guid_does_not_rekey_the_feed():
    """Entries with a GUID of their own keep it when two others share one."""
    entries = [raw("a", "g1", "/a"), raw("b", "g2", "/b"), raw("c", "dup", "/c")]
    before = {i.key for i in normalize_entries(entries, SPEC, BASE, NOW)}
    after = normalize_entries([*entries, raw("d", "dup", "/d")], SPEC, BASE, NOW)
    assert {"g:g1", "g:g2"} <= before & {i.key for i in after}


def test_entries_without_guid_keyed_by_link_else_content():
    """No GUID: the canonical link is the key; no link either: a hash of the text."""
    body = rss(
        item("Linked", link="/a?utm_source=x&id=3#top"),
        item("Unlinked one", description="first"),
        item("Unlinked two", description="second"),
    )
    keys = [i.key for i in items_of(body)]
    assert keys[0] == "l:http://news.example.org/a?id=3"
    assert keys[1].startswith("h:") and keys[2].startswith("h:") and keys[1] != keys[2]


def test_keys_are_stable_across_polls():
    """The same document normalised twice (another day) gives the same keys."""
    body = rss(item("A", link="/a"), item("B", description="x"), item("C", guid="c"))
    first = [i.key for i in items_of(body)]
    later = normalize_entries(parse_feed(body, {}, BASE).entries, SPEC, BASE, NOW + timedelta(1))
    assert first == [i.key for i in later]


def test_relative_links_made_absolute_against_the_final_url():
    """Relative links resolve against the feed's (post-redirect) URL; junk links are dropped."""
    body = rss(
        item("rel", guid="1", link="../news/1.html"),
        item("root", guid="2", link="/news/2"),
        item("proto", guid="3", link="//cdn.example.net/3"),
        item("js", guid="4", link="javascript:alert(1)"),
    )
    links = [i.link for i in items_of(body)]
    assert links == [
        "http://news.example.org/news/1.html",
        "http://news.example.org/news/2",
        "http://cdn.example.net/3",
        None,
    ]


def test_canonical_link_drops_fragment_and_tracking_and_lowercases_host():
    """Tracking parameters and fragments do not make two links different."""
    assert canonical_link("HTTPS://Example.ORG/x?fbclid=1&b=2&utm_medium=m#f", BASE) == (
        "https://example.org/x?b=2"
    )


def test_bad_missing_and_future_dates():
    """Unparseable or missing dates become now (estimated); future ones are clamped to now."""
    body = rss(
        item("good", guid="1", date="Mon, 02 Mar 2026 10:00:00 +0200"),
        item("bad", guid="2", date="the 32nd of Smarch"),
        item("none", guid="3", date=None),
        item("future", guid="4", date="Mon, 02 Mar 2099 10:00:00 GMT"),
        item("ancient", guid="5", date="Mon, 02 Mar 1970 10:00:00 GMT"),
    )
    got = {i.title: (i.published, i.date_estimated) for i in items_of(body)}
    assert got["good"] == (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), False)
    for title in ("bad", "none", "future", "ancient"):
        assert got[title] == (NOW, True), title


def test_plain_text_strips_markup_scripts_and_pixels():
    """Scripts, styles and tracking <img> vanish; entities decode; whitespace collapses."""
    html = (
        "<p>Fighting&nbsp;in <b>El&nbsp;Fasher</b></p><script>steal()</script>"
        '<style>p{}</style><img src="https://t.example/pixel.gif?u=1" width="1" height="1">'
        "<iframe src=x>frame</iframe>\n\n  &amp; more"
    )
    assert plain_text(html, 500) == "Fighting in El Fasher & more"


def test_plain_text_double_escaped_html():
    """Feeds that escape their HTML twice still come out as plain text."""
    assert plain_text("&lt;p&gt;Hello &lt;script&gt;x()&lt;/script&gt;world&lt;/p&gt;", 99) == (
        "Hello world"
    )


def test_control_and_format_characters():
    """NUL and controls become spaces; soft hyphens and bidi overrides vanish; ZWNJ stays."""
    assert plain_text("geno\u00adcide\x00in\u202e the\u200b \u06a9\u200c\u0647", 99) == (
        "genocide in the \u06a9\u200c\u0647"
    )


def test_titles_and_summaries_are_bounded():
    """A 1 MB title and summary are cut to their limits with an ellipsis."""
    entry = RawEntry("g", None, "word " * 200_000, "<p>" + "x" * 1_000_000, NOW)
    (got,) = normalize_entries([entry], SPEC, BASE, NOW)
    assert len(got.title) <= MAX_TITLE and got.title.endswith("…")
    assert len(got.summary) <= MAX_SUMMARY


def test_untitled_entry_gets_a_title():
    """An entry with no title borrows its summary, or says (untitled)."""
    got = normalize_entries([raw(""), RawEntry(None, None, "", "Body text", NOW)], SPEC, BASE, NOW)
    assert [i.title for i in got] == ["(untitled)", "Body text"]
