"""htmltext, links: the fast paths give what the old ones gave, on real feeds and generated input.

The reference is the algorithm normalize.py used before issue 13 (html.parser for every
fragment, a Python call per character for control and format characters), copied here.
There is no listed difference: every item of the real captures comes out identical.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.reader import htmltext, normalize
from monitor.reader.htmltext import MAX_RAW, TAGLIKE, bound, clean, plain_text
from monitor.reader.normalize import MAX_SUMMARY, MAX_TITLE, canonical_link
from monitor.reader.parse import parse_feed

REAL_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-feeds"
_WS = re.compile(r"\s+")


def old_clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return _WS.sub(" ", "".join(_keep(ch) for ch in text)).strip()


def _keep(ch: str) -> str:
    category = unicodedata.category(ch)
    if category[0] != "C" or ch in "\t\n\u200c\u200d":
        return ch
    return "" if category == "Cf" else " "


def old_plain_text(raw: str, limit: int) -> str:
    text = raw[:MAX_RAW]
    for _ in range(2):
        if "<" not in text and "&" not in text:
            break
        text = htmltext._parser_strip(text)
        if not TAGLIKE.search(text):
            break
    return bound(old_clean(text), limit)


@pytest.mark.skipif(not REAL_FEEDS.is_dir(), reason="../shared/corpus/real-feeds is absent")
def test_every_real_feed_item_reads_as_before() -> None:
    texts = 0
    fast = 0
    for path in sorted(REAL_FEEDS.glob("*.xml")):
        parsed = parse_feed(path.read_bytes(), {}, path.as_uri())
        for entry in parsed.entries:
            for raw, limit in ((entry.title, MAX_TITLE), (entry.summary, MAX_SUMMARY)):
                assert plain_text(raw, limit) == old_plain_text(raw, limit), (path.name, raw)
                texts += 1
                fast += htmltext._fast_strip(raw[:MAX_RAW]) is not None
            if entry.link:
                assert clean(entry.link) == old_clean(entry.link)
                slow = normalize._canonical_link(clean(entry.link)[:2000], path.as_uri())
                assert canonical_link(entry.link, path.as_uri()) == slow
    assert texts > 2000
    assert fast > 0.95 * texts  # the fast path is the common case, not the exception


_PIECES = st.sampled_from(
    [
        "<p>", "</p>", "<br/>", "<br />", "<b>", "</b>", "<div class=\"x\">", "</div >",
        "<a href='/q?a=1&amp;b=2'>", "<a href=x>", "<img src=\"a>b\" alt=''/>", "</a>",
        "<script>", "</script>", "<style>p{}</style>", "<iframe src=x>", "</iframe>",
        "<!-- c -->", "<!--", "-->", "<![CDATA[x]]>", "<!DOCTYPE html>", "<?pi?>", "<o:p>",
        "&amp;", "&lt;", "&gt;", "&#233;", "&#x41;", "&nbsp;", "&bogus;", "&", "&am", "p;",
        "<", ">", "\"", "'", "=", "/", " ", "\n", "\t", "a", "Génocide", "\u00ad", "\u200b",
        "\u202e", "\x00", "\x85", "\u200d", "&lt;p&gt;", "<a b=c=d>", "<a b=\"c\"d>", "</p a>",
        "<P CLASS=Y>", "<h1\n>", "<li", "<svg><p>x</p></svg>",
    ]
)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(_PIECES, max_size=25).map("".join))
def test_fast_path_agrees_with_html_parser_on_generated_markup(markup: str) -> None:
    fast = htmltext._fast_strip(markup)
    if fast is not None:  # "<br/>" is one space here, two (start and end tag) there
        assert _WS.sub(" ", fast) == _WS.sub(" ", htmltext._parser_strip(markup))
    assert plain_text(markup, MAX_SUMMARY) == old_plain_text(markup, MAX_SUMMARY)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=60))
def test_clean_is_the_per_character_clean(text: str) -> None:
    assert clean(text) == old_clean(text)


_URL_PIECES = st.sampled_from(
    ["http", "https", "HTTP", "://", ":", "/", "//", "a", "B.org", "-", ".", "8080", "?", "q=1",
     "&", "utm_source=x", "#", "frag", ";p", "@", "u", "[::1]", "%20", " ", "\\", "é", "..",
     "=", "fbclid=1", "fbclid", "gclid=", "a=~b_c.d-e", "+", "%2F", "&&", "格林", "\u3000",
     "\u00a0", "\uff1a", "\u2028", "ä", "\u0301", "\t", "\ufb01", "Ж"]
)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(_URL_PIECES, min_size=1, max_size=12).map("".join))
def test_plain_links_take_the_short_way_to_the_same_link(link: str) -> None:
    try:
        slow = normalize._canonical_link(clean(link)[:2000], "https://base.example/feed")
    except ValueError:  # urlsplit refuses some hosts ("[x"): the short way must not take them
        assert normalize._PLAIN_LINK.fullmatch(clean(link)) is None
        return
    assert canonical_link(link, "https://base.example/feed") == slow


_TEXT_PIECES = st.sampled_from(
    ["word", "Жовтень", " ", "  ", "\n", "e", "\u0301", "\u0327", "\u00ad", "\u200b", "\x00",
     "\u1100", "\u1161", "&amp;", "<p>", "\u00a0", "\ufeff", "\u2028"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_TEXT_PIECES, min_size=20, max_size=200).map("".join), st.integers(4, 30))
def test_a_long_text_cleaned_only_as_far_as_it_is_kept_reads_as_before(
    text: str, limit: int
) -> None:
    assert plain_text(text, limit) == old_plain_text(text, limit)


def test_controls_and_bidi_are_gone_and_zwj_stays() -> None:
    assert clean("a\x00b\u202ec\u00add\u200de\x85f") == "a bcd\u200de f"
    assert plain_text("<p>geno&shy;cide</p><script>x</script>", 100) == "genocide"
    assert html.unescape("&shy;") == "\u00ad"
