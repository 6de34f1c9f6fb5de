"""The language a feed declares, read alike by the lxml fast path and by feedparser (RSS
<language>, Atom xml:lang on the feed, entry or title, RDF and entry dc:language, JSON
Feed, HTTP Content-Language last), the per-feed `language` key that overrides it, and how
detection from the text then settles each item's `lang`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.channels import CHANNELS
from monitor.config.load import load_config
from monitor.errors import ConfigError
from monitor.match import language
from monitor.model import FeedSpec, Selectors
from monitor.reader.documents import parse_document
from monitor.reader.jsonfeed import parse_jsonfeed
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_fast, parse_slow

URL = "https://news.example.org/feed.xml"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
XML = {"content-type": "application/xml"}
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
# real published headlines (corpus-work r3/ar, items.tsv)
AR_1 = "مجزرة بلون الدم إرتكبتها مليشيا الدعم السريع بقرية ود النورة"
AR_2 = "أسوشيتد برس: قوات إريترية نفذت مجزرة مروّعة في تيغراي"


def declared(body: bytes, headers: dict[str, str] = XML, spec: FeedSpec | None = None) -> list:
    """Each item's declared language, the same from both parsers (the fast path must read
    the document: it is well-formed)."""
    spec = spec or FeedSpec("f", URL, 600)
    fast = parse_fast(body, headers, URL)
    assert fast is not None, "the fast path declined"
    slow = parse_slow(body, headers, URL)
    mine = [i.lang for i in normalize_entries(fast.entries, spec, URL, NOW)]
    assert mine == [i.lang for i in normalize_entries(slow.entries, spec, URL, NOW)]
    return mine


def rss(channel: str, *items: str, ns: str = "", root: str = "") -> bytes:
    body = "".join(f"<item><title>{t}</title><guid>{n}</guid></item>" for n, t in enumerate(items))
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {ns} {root}><channel>'
        f"<title>T</title><link>https://news.example.org/</link>{channel}{body}</channel></rss>"
    ).encode()


def test_rss_channel_language_with_region_is_each_items_primary_subtag() -> None:
    assert declared(rss("<language>ar-SA</language>", AR_1, AR_2)) == ["ar", "ar"]


def test_no_declaration_is_none_and_an_odd_one_is_ignored() -> None:
    assert declared(rss("", "x")) == [None]
    assert declared(rss("<language>arabic</language>", "x")) == [None]


def test_an_entrys_own_dc_language_beats_the_channels() -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0" ' + DC + "><channel><title>T</title>"
        "<language>en</language><item><title>a</title><guid>1</guid>"
        "<dc:language>pt</dc:language></item><item><title>b</title><guid>2</guid></item>"
        "</channel></rss>"
    ).encode()
    assert declared(body) == ["pt", "en"]


def test_atom_xml_lang_of_feed_entry_and_title() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru">'
        b"<title>T</title><id>urn:f</id><updated>2026-01-01T00:00:00Z</updated>"
        b'<entry xml:lang="uk"><title>a</title><id>urn:1</id></entry>'
        b'<entry><title xml:lang="pt-BR">b</title><id>urn:2</id></entry>'
        b"<entry><title>c</title><id>urn:3</id></entry>"
        b'<entry xml:lang=""><title>d</title><id>urn:4</id></entry></feed>'
    )
    # an empty xml:lang says "no language here": the feed's declaration is what is left
    assert declared(body) == ["uk", "pt", "ru", "ru"]


def test_rdf_dc_language() -> None:
    body = (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" ' + DC + '><channel rdf:about="https://x.org/">'
        "<title>T</title><link>https://x.org/</link><dc:language>pt-BR</dc:language></channel>"
        '<item rdf:about="https://x.org/1"><title>a</title><link>https://x.org/1</link></item>'
        "</rdf:RDF>"
    ).encode()
    assert declared(body) == ["pt"]


def test_content_language_header_comes_last() -> None:
    headers = {**XML, "content-language": "uk, ru"}
    assert declared(rss("", "x"), headers) == ["uk"]
    assert declared(rss("<language>ru</language>", "x"), headers) == ["ru"]


def test_json_feed_language() -> None:
    items = [{"id": "1", "title": AR_1}, {"id": "2", "title": "b", "language": "en"}]
    doc = {"version": "https://jsonfeed.org/version/1.1", "language": "ar", "items": items}
    parsed = parse_jsonfeed(json.dumps(doc).encode(), {}, URL)
    found = normalize_entries(parsed.entries, FeedSpec("f", URL, 600), URL, NOW)
    assert [i.lang for i in found] == ["ar", "en"]


def test_the_feeds_configured_language_beats_what_the_document_declares() -> None:
    spec = FeedSpec("f", URL, 600, language="pt")
    assert declared(rss("<language>en</language>", "x"), spec=spec) == ["pt"]


def test_detection_beats_a_wrong_declaration_when_sure() -> None:
    """An Arabic headline in a feed declaring English is Arabic."""
    assert language.detect(AR_1, "", "en") == "ar"
    assert language.detect("Massacre in Cabo Delgado", "", "pt") == "en"


def test_an_ambiguous_short_title_takes_the_declaration() -> None:
    """A title of names alone says too little: the feed's word is taken."""
    assert language.detect("Massacre: Cabo Delgado", "", "pt") == "pt"
    assert language.detect("Cabo Delgado", "", "pt") == "pt"


def write(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[[feeds]]\nname = "aljazeera"\nurl = "https://x.org/rss"\nlanguage = {value}\n'
        '[[channels]]\nname = "c"\ntype = "console"\n',
        encoding="utf-8",
    )
    return path


def test_config_language_is_checked_at_start(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '"AR"'), channel_types=CHANNELS)
    assert config.feeds[0].language == "ar"
    for bad in ('"arabic"', '"xx"', "12"):
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, bad), channel_types=CHANNELS)
        problems = "\n".join(caught.value.problems)
        assert "language" in problems and ("aljazeera" in problems or "12" in problems)


def test_a_page_without_a_feed_declares_by_its_lang_attribute_else_content_language() -> None:
    """type = "html": the lang in scope at each item (<html lang>, or one on the item)."""
    page = (
        '<html lang="ar"><body><ul><li><a href="/1">' + AR_1 + "</a></li>"
        '<li lang="en"><a href="/2">Statement</a></li></ul></body></html>'
    ).encode()
    spec = FeedSpec("p", URL, 600, type="html")
    for body, headers, expected in (
        (page, {}, ["ar", "en"]),
        (page.replace(b' lang="ar"', b""), {"Content-Language": "fr"}, ["fr", "en"]),
    ):
        parsed = parse_document(body, headers, URL, "html", Selectors(item="li"))
        assert [i.lang for i in normalize_entries(parsed.entries, spec, URL, NOW)] == expected
