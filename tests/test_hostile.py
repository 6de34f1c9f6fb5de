"""Hostile and broken input (issue 5), each served from 127.0.0.1."""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3

from monitor.errors import FetchError
from monitor.model import FeedSpec, FeedState, Fetched, PollResult
from monitor.reader.fetch import FetchPolicy, fetch, make_session
from monitor.reader.parse import parse_feed
from tests.e2e import env_with
from tests.feedfiles import item, rss, write_config
from tests.feedserver import FeedServer, Response, feed_server, gzipped, redirect, zeros
from tests.runtimes import poll, runtime_of

CAP = 2_000_000
POLICY = FetchPolicy("monitor-test/1", 1.0, 1.5, 2.0, CAP, 3)
MB = 2**20
GOOD = rss(item("Massacre reported", guid="g1", link="http://example.org/1"))


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with make_session(POLICY) as s:
        yield s


def get(
    session: requests.Session, url: str, resolve: Callable[[str], list[str]] | None = None
) -> Fetched:
    return fetch(session, FeedSpec("f", url, 600), FeedState("f"), POLICY, resolve=resolve)


def peak_of(fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """fn's result, wall time and traced peak memory (bytes)."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        out = fn()
        return out, time.monotonic() - start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- entity declarations: refused before feedparser --------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
    b"</item></channel></rss>"
)
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "'
    + b"A" * 100_000
    + b'">]><rss version="2.0"><channel><title>t</title><item><title>'
    + b"&a;" * 2000
    + b"</title></item></channel></rss>"
)


def xxe(target: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{target}">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&x;</title>'
        "<description>&x;</description></item></channel></rss>"
    ).encode()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("CANARY-7f3a9 do not read me", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["billion-laughs", "quadratic", "xxe", "xxe-utf16"])
def test_entity_documents_refused_bounded(
    feeds: FeedServer, session: requests.Session, secret_file: Path, name: str
):
    """Entity bombs and XXE are refused before feedparser: fast, small, no file read."""
    body = {
        "billion-laughs": BILLION_LAUGHS,
        "quadratic": QUADRATIC,
        "xxe": xxe(secret_file),
        "xxe-utf16": xxe(secret_file)
        .decode()
        .replace('1.0"?>', '1.0" encoding="utf-16"?>')
        .encode("utf-16"),
    }[name]
    got = get(session, feeds.serve("/f", Response(body=body)))
    assert got.body == body

    def attempt() -> str:
        with pytest.raises(FetchError) as refused:
            parse_feed(body, got.headers, got.url)
        return refused.value.reason

    reason, elapsed, peak = peak_of(attempt)
    assert "declares XML entities" in reason
    assert elapsed < 1.0 and peak < 10 * MB


def test_entity_bomb_fails_the_feed_through_the_poller(feeds: FeedServer, tmp_path: Path):
    """The poller marks a feed serving an entity bomb failed, with the reason."""
    config = write_config(tmp_path, {"bomb": feeds.serve("/b", Response(body=QUADRATIC))})
    with runtime_of(config) as rt:
        result = poll(rt)
    assert result.outcome == "failed" and "entities" in (result.error or "")


# -- a parse that never ends: abandoned at its deadline ----------------------------------------


def test_backtracking_author_abandoned_other_feed_succeeds(feeds: FeedServer, tmp_path: Path):
    """A 1 MB <author> (feedparser#562) is killed at the 2 s parse deadline; a feed polled
    alongside it in the same pool still succeeds. (The DOCTYPE sends the document to
    feedparser: the lxml fast path reads the well-formed one in milliseconds, see
    test_fastparse_hostile.py.)"""
    hostile = rss(item("x", guid="h", extra="<author>" + "a" * MB + "</author>"))
    hostile = hostile.replace(b"?>", b"?><!DOCTYPE rss>", 1)
    urls = {"hostile": feeds.serve("/h", Response(body=hostile)), "good": feeds.serve("/g")}
    feeds.serve("/g", Response(body=GOOD))
    config = write_config(tmp_path, urls, defaults='parse_timeout = "2s"')
    results: dict[str, PollResult] = {}
    with runtime_of(config, parse_workers=1) as rt:
        rt.parser.parse(GOOD, {}, "http://warm.example/")  # start the worker outside the clock

        def poll_into_results(spec: FeedSpec) -> None:
            results[spec.name] = poll(rt, spec)

        threads = [threading.Thread(target=poll_into_results, args=(s,)) for s in rt.config.feeds]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        elapsed = time.monotonic() - start
    assert results["hostile"].outcome == "failed"
    assert "deadline" in (results["hostile"].error or "")
    assert results["good"].outcome == "fetched" and len(results["good"].items) == 1
    assert elapsed < 10


# -- a body that names a file ------------------------------------------------------------------


def test_body_that_is_a_path_is_parsed_as_bytes(
    feeds: FeedServer, session: requests.Session, tmp_path: Path
):
    """A body naming a local file (even a valid feed) is parsed as those bytes: no file read."""
    local_feed = tmp_path / "feed.xml"
    local_feed.write_bytes(GOOD)
    for body in (b"/etc/passwd", str(local_feed).encode(), local_feed.as_uri().encode()):
        got = get(session, feeds.serve("/f", Response(body=body)))
        parsed = parse_feed(got.body or b"", got.headers, got.url)
        assert parsed.entries == () and not parsed.is_feed
        assert "root:" not in repr(parsed)


# -- redirects to private addresses ------------------------------------------------------------


def public_localhost(host: str) -> list[str]:
    """Resolver that makes 'localhost' look public and one name point at cloud metadata."""
    return {"localhost": ["93.184.216.34"], "metadata.internal": ["169.254.169.254"]}.get(
        host, ["93.184.216.34"]
    )


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/feed",
        "http://10.1.2.3/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/feed",
        "http://[::ffff:127.0.0.1]:{port}/feed",
        "http://100.64.0.1/feed",
        "http://metadata.internal/latest/",
        "http://[64:ff9b::7f00:1]:{port}/feed",
        "http://[2002:7f00:1::]:{port}/feed",
        "http://[::7f00:1]:{port}/feed",
    ],
)
def test_redirect_to_private_address_refused(
    feeds: FeedServer, session: requests.Session, target: str
):
    """A feed on a public host redirecting to a private, loopback or link-local address is
    refused, and the private address is never requested."""
    feeds.serve("/feed", Response(body=GOOD))
    url = feeds.serve("/f", redirect(target.format(port=feeds.port)))
    got = get(session, url.replace("127.0.0.1", "localhost"), resolve=public_localhost)
    assert got.error == "redirect to a private or loopback address refused"
    assert feeds.requests("/feed") == []


def test_redirect_to_private_allowed_when_configured_private(
    feeds: FeedServer, session: requests.Session
):
    """When the operator configured a private address, its redirects may stay private."""
    feeds.serve("/feed", Response(body=GOOD))
    url = feeds.serve("/f", redirect(feeds.url("/feed", host="localhost")))
    assert get(session, url).body == GOOD


def always_public(host: str) -> list[str]:
    """The guard's lookup: every name is a public address. The connect's own lookup (the
    system's) still finds localhost at 127.0.0.1: an answer that changed between the two."""
    return ["93.184.216.34"]


def test_rebinding_name_never_reaches_loopback(feeds: FeedServer, session: requests.Session):
    """A redirect to a name the guard saw public but that connects to 127.0.0.1 (DNS
    rebinding) is refused on the address connected: the loopback path is never requested."""
    feeds.serve("/feed", Response(body=GOOD))
    url = feeds.serve("/f", redirect(feeds.url("/feed", host="localhost")))
    got = get(session, url.replace("127.0.0.1", "localhost"), resolve=always_public)
    assert got.error == "redirect to a private or loopback address refused"
    assert feeds.requests("/feed") == []


def test_pooled_private_connection_not_reused_past_a_redirect(
    feeds: FeedServer, session: requests.Session
):
    """A kept-alive connection opened for a feed configured on a private address is vetted
    again before a public feed's redirect reuses it."""
    feeds.serve("/feed", Response(body=GOOD))
    assert get(session, feeds.url("/feed", host="localhost")).body == GOOD  # now pooled
    with feed_server() as other:
        url = other.serve("/f", redirect(feeds.url("/feed", host="localhost")))
        got = get(session, url.replace("127.0.0.1", "localhost"), resolve=always_public)
    assert got.error == "redirect to a private or loopback address refused"
    assert len(feeds.requests("/feed")) == 1


def test_redirect_to_unresolvable_name_is_a_failed_fetch(
    feeds: FeedServer, session: requests.Session
):
    """A name the guard cannot resolve is not taken for public: the fetch fails, and what
    the connect's own lookup would have found (here 127.0.0.1) is never requested."""
    feeds.serve("/feed", Response(body=GOOD))
    url = feeds.serve("/f", redirect(feeds.url("/feed", host="localhost")))
    got = get(session, url.replace("127.0.0.1", "localhost"), resolve=lambda host: [])
    assert got.error == "host name does not resolve (checking a redirect)"
    assert got.body is None and feeds.requests("/feed") == []


# -- size and time caps ------------------------------------------------------------------------


def gzip_bomb(size: int) -> bytes:
    """Gzip members (a valid gzip stream) inflating to `size` zero bytes, about size/1000."""
    member = gzip.compress(b"\0" * MB, compresslevel=9)
    return member * (size // MB)


@pytest.mark.parametrize("kind", ["gzip-bomb", "plain-100MB"])
def test_huge_bodies_aborted_at_the_cap(feeds: FeedServer, session: requests.Session, kind: str):
    """A gzip bomb (1 GB inflated) or a 100 MB body stops at the cap, in bounded memory."""
    if kind == "gzip-bomb":
        bomb = gzip_bomb(1024 * MB)
        assert len(bomb) < 2 * MB
        response = Response(body=bomb, headers={"Content-Encoding": "gzip"})
    else:
        response = Response(stream=zeros(100 * MB))
    url = feeds.serve("/f", response)
    got, elapsed, peak = peak_of(lambda: get(session, url))
    assert got.error == f"body over the {CAP}-byte cap"
    assert peak < 50 * MB and elapsed < 2.0


@pytest.mark.parametrize("head", [False, True], ids=["body", "headers"])
def test_trickle_cut_off_by_total_deadline(
    feeds: FeedServer, session: requests.Session, head: bool
):
    """A server dribbling one byte at a time (body or headers) is cut at total_timeout."""
    slow = Response(body=GOOD, headers={"X-Pad": "p" * 50}, trickle=0.25, trickle_head=head)
    start = time.monotonic()
    got = get(session, feeds.serve("/f", slow))
    assert got.error == "total deadline of 2s exceeded"
    assert time.monotonic() - start < POLICY.total_timeout + 0.5


def test_nested_gzip_decodes(feeds: FeedServer, session: requests.Session):
    """Content-Encoding: gzip, gzip is decoded twice (urllib3 >= 2.7 required)."""
    assert tuple(int(p) for p in urllib3.__version__.split(".")[:2]) >= (2, 7)
    got = get(session, feeds.serve("/f", gzipped(GOOD, times=2)))
    assert got.body == GOOD
    assert parse_feed(got.body, got.headers, got.url).entries[0].title == "Massacre reported"


def test_deflate_and_gzip_body(feeds: FeedServer, session: requests.Session):
    """A single gzip body decodes."""
    body = gzip.compress(GOOD)
    got = get(session, feeds.serve("/f", Response(body=body, headers={"Content-Encoding": "gzip"})))
    assert got.body == GOOD


# -- broken text: normalised, bounded, no markup -----------------------------------------------


def poll_one(feeds: FeedServer, tmp_path: Path, response: Response) -> PollResult:
    config = write_config(tmp_path, {"f": feeds.serve("/f", response)})
    with runtime_of(config) as rt:
        return poll(rt)


def test_invalid_utf8_nul_bytes_and_mixed_encodings(feeds: FeedServer, tmp_path: Path):
    """Invalid UTF-8, Latin-1 bytes in a UTF-8 feed and NUL bytes: clean items, no mojibake."""
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><guid>1</guid><title>Caf\xe9 \xff\xfe attack\x00 in G\xc3\xa9n\xc3\xa8ve</title>"
        b"<description>bad \xc3\x28 bytes</description></item>"
        b"<item><guid>2</guid><title>Second \x00\x01\x02 item</title></item>"
        b"</channel></rss>"
    )
    result = poll_one(feeds, tmp_path, Response(body=body))
    assert result.outcome == "fetched" and len(result.items) == 2
    for it in result.items:
        assert "\x00" not in it.title + it.summary and "\x01" not in it.title
    first = result.items[0]
    assert first.title == "Café ÿþ attack in Génève"  # good UTF-8 kept, stray bytes as cp1252
    assert first.summary == "bad Ã( bytes"


def test_huge_titles_scripts_and_pixels(feeds: FeedServer, tmp_path: Path):
    """A 1 MB title is bounded; <script> and tracking pixels leave no markup in the item."""
    summary = (
        "&lt;script&gt;alert(document.cookie)&lt;/script&gt;&lt;p&gt;Shelling "
        '&lt;img src="https://track.example/p.gif?id=9" width="1" height="1"&gt;'
        "of Kharkiv&lt;/p&gt;"
        "&lt;iframe src=https://evil.example&gt;&lt;/iframe&gt;"
    )
    body = rss(
        item("T" * MB, guid="big"),
        item("Report <![CDATA[<script>x()</script>]]>", guid="s", description=summary),
    )
    result = poll_one(feeds, tmp_path, Response(body=body))
    assert result.outcome == "fetched"
    big, scripted = result.items
    assert len(big.title) <= 400
    assert scripted.summary == "Shelling of Kharkiv"
    for text in (scripted.title, scripted.summary):
        assert "<" not in text and "script" not in text.lower() and "track.example" not in text


def test_parser_crash_fails_the_feed(feeds: FeedServer, tmp_path: Path):
    """A document that makes feedparser raise marks its feed failed; the poll does not raise."""
    body = b'<rss version="2.0"><channel><item><title>&#99999999999;</title></item></channel></rss>'
    result = poll_one(feeds, tmp_path, Response(body=body))
    assert result.outcome == "failed" and "OverflowError" in (result.error or "")


KILLED_OWNER = """
import os
from monitor.reader.pool import ParsePool
pool = ParsePool(2, 5, inline_fast=False)  # the fast path would parse it without the pool
pool.parse(b"<rss version='2.0'><channel><item><title>a</title></item></channel></rss>", {}, "x")
print(" ".join(str(pid) for pid in pool._pool._processes), flush=True)
os.kill(os.getpid(), 9)
"""


def test_parse_workers_exit_when_their_daemon_is_killed(tmp_path: Path):
    """SIGKILL of the daemon leaves no parse worker behind (they watch their owner)."""
    out = subprocess.run(
        [sys.executable, "-c", KILLED_OWNER],
        capture_output=True,
        text=True,
        env=env_with(),
        timeout=60,
    )
    workers = [int(pid) for pid in out.stdout.split()]
    assert workers, out.stderr
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        time.sleep(0.1)
    assert alive == []
