"""The lxml fast path on hostile documents: refused or left to feedparser, never a hang or a
network request; and which documents the pool parses in the calling thread."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from monitor.errors import FetchError
from monitor.model import ParsedFeed
from monitor.reader.fastparse import MAX_ENTRIES
from monitor.reader.parse import parse_fast, parse_feed
from monitor.reader.pool import INLINE_MAX_BYTES, ParsePool, inline_ok
from tests.test_fastparse import HEADERS, URL, rss


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 that records whether anything connected to it."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def nobody_connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


def test_entity_declarations_refused_before_lxml(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    laughs = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    for decl in (laughs, f'<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">'):
        body = f'<?xml version="1.0"?><!DOCTYPE rss [{decl}]><rss><channel><title>&x;</title>'
        with pytest.raises(FetchError, match="declares XML entities"):
            parse_fast((body + "</channel></rss>").encode(), HEADERS, URL)
    assert nobody_connected(listener)


def test_doctype_with_an_external_dtd_falls_back_without_a_request(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    doctype = f'<!DOCTYPE rss SYSTEM "http://127.0.0.1:{port}/rss.dtd">'
    for padding in ("", "<!--" + "x" * 10_000 + "-->"):  # past the quick look at the head
        body = rss("<item><title>x</title></item>").replace(
            b"?>", f"?>{padding}{doctype}".encode(), 1
        )
        assert parse_fast(body, HEADERS, URL) is None
        assert len(parse_feed(body, HEADERS, URL).entries) == 1
    assert nobody_connected(listener)


def bounded(work: object, *args: object) -> object:
    start = time.monotonic()
    out = work(*args)  # type: ignore[operator]
    assert time.monotonic() - start < 5.0
    return out


def test_deep_nesting_falls_back_quickly() -> None:
    deep = "<x>" * 100_000 + "</x>" * 100_000
    body = rss(f"<item><title>t</title>{deep}</item>")
    assert bounded(parse_fast, body, HEADERS, URL) is None  # libxml2's depth limit
    assert not inline_ok(body)  # and too many tags for the calling thread anyway


def test_huge_text_node_falls_back_quickly() -> None:
    body = rss("<item><title>t</title><description>" + "a" * (11 * 2**20) + "</description></item>")
    assert bounded(parse_fast, body, HEADERS, URL) is None  # over libxml2's 10 MB text limit
    assert not inline_ok(body) and len(body) > INLINE_MAX_BYTES


def test_more_entries_than_feedparsers_deadline_allows_are_left_to_it() -> None:
    """Every entry is kept, and the parse deadline bounds how many: the fast path declines
    a document with more than MAX_ENTRIES, so feedparser's deadline still decides."""
    many = "".join(f"<item><guid>{i}</guid></item>" for i in range(MAX_ENTRIES + 1))
    assert bounded(parse_fast, rss(many), HEADERS, URL) is None
    fewer = "".join(f"<item><guid>{i}</guid></item>" for i in range(1000))
    parsed = parse_fast(rss(fewer), HEADERS, URL)
    assert parsed is not None and len(parsed.entries) == 1000


def test_a_huge_author_feedparser_chokes_on_is_read_fast() -> None:
    """feedparser backtracks for minutes on a 1 MB <author> (feedparser#562); lxml does not."""
    body = rss(f"<item><title>t</title><author>{'a' * 2**20}</author></item>")
    parsed = bounded(parse_fast, body, HEADERS, URL)
    assert isinstance(parsed, ParsedFeed) and len(parsed.entries) == 1


def test_pool_parses_small_feeds_inline_and_the_rest_in_its_workers() -> None:
    pool = ParsePool(1, 20.0)
    try:
        small = rss("<item><title>inline</title></item>")
        assert pool.parse(small, HEADERS, URL).entries[0].title == "inline"
        assert not pool._pool._processes  # type: ignore[union-attr]  # no worker was needed
        broken = (
            b'<rss version="2.0"><channel><item><title>a & b</title>'
            b"<description>x<y</description></item></channel></rss>"
        )
        assert pool.parse(broken, HEADERS, URL).entries[0].title == "a & b"  # feedparser's
        assert pool._pool._processes  # type: ignore[union-attr]
    finally:
        pool.close()
