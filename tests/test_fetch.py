"""fetch.fetch and the Poller against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests

from monitor.errors import retry_after
from monitor.model import FeedSpec, FeedState, Fetched, ParsedFeed
from monitor.reader.fetch import FetchPolicy, fetch, make_session
from monitor.reader.pool import ParsePool
from monitor.service.runtime import Runtime
from tests.clock import FakeClock
from tests.feedfiles import item, rss, write_config
from tests.feedserver import FeedServer, Response, redirect, zeros
from tests.loopback import closed_port
from tests.runtimes import poll, runtime_of

POLICY = FetchPolicy("monitor-test/1", 1.0, 1.0, 2.0, 200_000, 3)
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FEED = rss(item("Massacre in the valley", guid="a1", link="http://example.org/a1"))


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with make_session(POLICY) as s:
        yield s


def get(session: requests.Session, url: str, state: FeedState | None = None) -> Fetched:
    return fetch(session, FeedSpec("f", url, 600), state or FeedState("f"), POLICY)


# -- the fetch edge ------------------------------------------------------------------------


def test_200_keeps_validators_and_sends_user_agent(feeds: FeedServer, session: requests.Session):
    """A 200 returns the body, the ETag and Last-Modified; our User-Agent is sent."""
    url = feeds.serve("/f", Response(body=FEED, etag='"v1"', last_modified="Mon, 02 Mar 2026"))
    got = get(session, url)
    assert (got.status, got.body, got.etag, got.last_modified) == (
        200,
        FEED,
        '"v1"',
        "Mon, 02 Mar 2026",
    )
    assert feeds.requests("/f")[0].headers["user-agent"] == "monitor-test/1"


def test_validators_sent_and_304_has_no_body(feeds: FeedServer, session: requests.Session):
    """With validators in the state, the request carries them and a 304 yields body None."""
    url = feeds.serve("/f", Response(body=FEED, etag='"v1"', last_modified="Mon, 02 Mar 2026"))
    got = get(session, url, FeedState("f", etag='"v1"', last_modified="Mon, 02 Mar 2026"))
    sent = feeds.requests("/f")[0].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 02 Mar 2026"
    assert got.not_modified and got.body is None


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "http-date"])
def test_429_reads_retry_after(feeds: FeedServer, session: requests.Session, as_date: bool):
    """A 429 is a retryable failure carrying Retry-After, a date counted from the wall clock."""
    header = format_datetime(T0 + timedelta(seconds=300), usegmt=True) if as_date else "300"
    url = feeds.serve("/f", Response(429, headers={"Retry-After": header}))
    got = fetch(session, FeedSpec("f", url, 600), FeedState("f"), POLICY, wall=lambda: T0)
    assert got.error == "HTTP 429"
    assert got.retry_after == 300


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Mon, 02 Mar 2026 12:01:30 GMT", 90.0),
        ("Mon, 02 Mar 2026 13:01:30 +0100", 90.0),
        ("Mon, 02 Mar 2026 11:00:00 GMT", 0.0),  # a date already past: retry now, not never
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("²", None),
    ],
)
def test_retry_after_parser(header: str | None, seconds: float | None):
    """Delta-seconds or an HTTP-date from an injected now; None when absent or unreadable."""
    assert retry_after(header, T0) == seconds


def test_500_is_a_retryable_failure(feeds: FeedServer, session: requests.Session):
    """A 500 is a failure value, not an exception."""
    got = get(session, feeds.serve("/f", Response(500, b"oops")))
    assert (got.error, got.body) == ("HTTP 500", None)


def test_202_with_empty_body_is_a_failure(feeds: FeedServer, session: requests.Session):
    """A 202 with no body (bot challenge) is a failure, not 'nothing new'."""
    got = get(session, feeds.serve("/f", Response(202)))
    assert got.error is not None and "202" in got.error


def test_slow_headers_hit_the_read_timeout(feeds: FeedServer, session: requests.Session):
    """A server slower than read_timeout to answer fails with 'timed out' soon after it."""
    url = feeds.serve("/f", Response(body=FEED, delay=5))
    start = time.monotonic()
    got = get(session, url)
    assert got.error == "timed out"
    assert time.monotonic() - start < 1.9


def test_stalled_body_is_a_failure_not_an_exception(feeds: FeedServer, session: requests.Session):
    """A body that stalls past read_timeout after the headers fails cleanly (urllib3 error)."""

    def stall() -> Iterator[bytes]:
        yield b"<rss>"
        time.sleep(1.5)

    got = get(session, feeds.serve("/f", Response(stream=stall)))
    assert got.error == "timed out" and got.body is None


def test_broken_gzip_is_a_failure(feeds: FeedServer, session: requests.Session):
    """A body that is not what its Content-Encoding says fails cleanly."""
    bad = Response(body=b"\x1f\x8bnot gzip", headers={"Content-Encoding": "gzip"})
    url = feeds.serve("/f", bad)
    got = get(session, url)
    assert got.error == "body does not match its Content-Encoding"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_body_over_the_cap(feeds: FeedServer, session: requests.Session, declared: bool):
    """A body over max_body is refused, whether its length is declared or streamed."""
    big = b"x" * 300_000
    response = Response(body=big) if declared else Response(stream=zeros(len(big)))
    got = get(session, feeds.serve("/f", response))
    assert got.error is not None and "cap" in got.error and got.body is None


def test_redirect_followed_and_final_url_kept(feeds: FeedServer, session: requests.Session):
    """A redirect chain within the cap is followed; the final URL is the base for links."""
    feeds.serve("/a", redirect("/b", 301))
    feeds.serve("/b", redirect(feeds.url("/c"), 307))
    feeds.serve("/c", Response(body=FEED))
    got = get(session, feeds.url("/a"))
    assert got.body == FEED and got.url == feeds.url("/c")


def test_redirects_are_capped(feeds: FeedServer, session: requests.Session):
    """A redirect loop stops after max_redirects hops."""
    got = get(session, feeds.serve("/loop", redirect("/loop")))
    assert got.error == "more than 3 redirects"
    assert len(feeds.requests("/loop")) == POLICY.max_redirects + 1


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.org/feed"])
def test_redirect_to_other_schemes_refused(
    feeds: FeedServer, session: requests.Session, target: str
):
    """A redirect off http(s) is refused."""
    got = get(session, feeds.serve("/f", redirect(target)))
    assert got.error == "redirect to a non-http(s) address refused"


def test_redirect_without_location(feeds: FeedServer, session: requests.Session):
    """A 302 with no Location is a failure."""
    got = get(session, feeds.serve("/f", Response(302)))
    assert got.error is not None and "without Location" in got.error


def test_connection_refused_is_a_value(session: requests.Session):
    """Nothing listening: a failure value naming the connection error."""
    got = get(session, f"http://127.0.0.1:{closed_port()}/feed")
    assert got.error is not None and got.error.startswith("connection failed")


# -- through the poller: validators, body hash, backoff --------------------------------------


class CountingParser(ParsePool):
    """Inline parser that counts its parses."""

    def __init__(self) -> None:
        super().__init__(workers=0)
        self.calls = 0

    def parse(self, body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
        self.calls += 1
        return super().parse(body, headers, url)


MakeRuntime = Callable[[dict[str, str]], tuple[Runtime, CountingParser]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def make_rt(tmp_path: Path, clock: FakeClock) -> Iterator[MakeRuntime]:
    """Builds the runtime of a config watching the given feeds, parsing with a CountingParser."""
    with ExitStack() as built:

        def make(feeds: dict[str, str]) -> tuple[Runtime, CountingParser]:
            rt = built.enter_context(runtime_of(write_config(tmp_path, feeds), now=clock))
            rt.poller.parser = parser = CountingParser()
            return rt, parser

        yield make


def test_200_then_304_parses_nothing(feeds: FeedServer, make_rt: MakeRuntime, clock: FakeClock):
    """The second poll sends the validators; the 304 is 'nothing new' and nothing is parsed."""
    url = feeds.serve("/f", Response(body=FEED, etag='"v1"', last_modified="Mon, 02 Mar 2026"))
    rt, parser = make_rt({"f": url})
    spec = rt.config.feeds[0]
    first, saved = rt.poller.poll(spec)
    assert (first.outcome, saved.new_items, parser.calls) == ("fetched", 1, 1)
    clock.advance(600)
    second, saved = rt.poller.poll(spec)
    headers = feeds.requests("/f")[1].headers
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Mon, 02 Mar 2026"
    assert (second.outcome, saved.new_items, parser.calls) == ("not_modified", 0, 1)
    assert second.state.next_poll == clock.now() + timedelta(minutes=10)


def test_same_body_without_validators_is_not_reparsed(
    feeds: FeedServer, make_rt: MakeRuntime, clock: FakeClock
):
    """A server ignoring validators and answering the same body: skipped by its hash."""
    url = feeds.serve("/f", Response(body=FEED))
    rt, parser = make_rt({"f": url})
    poll(rt)
    clock.advance(600)
    result, saved = rt.poller.poll(rt.config.feeds[0])
    assert (result.outcome, saved.new_items, parser.calls) == ("unchanged", 0, 1)


def test_429_next_poll_honours_retry_after(
    feeds: FeedServer, make_rt: MakeRuntime, clock: FakeClock
):
    """Retry-After longer than the interval moves the next poll that far."""
    url = feeds.serve("/f", Response(429, headers={"Retry-After": "7200"}))
    rt, _ = make_rt({"f": url})
    result = poll(rt)
    assert result.outcome == "failed"
    assert result.state.next_poll == T0 + timedelta(hours=2)


def test_500s_back_off_exponentially_capped_never_parked(
    feeds: FeedServer, make_rt: MakeRuntime, clock: FakeClock
):
    """Each failure doubles the delay up to max_backoff; the feed keeps being polled."""
    url = feeds.serve("/f", Response(500))
    rt, _ = make_rt({"f": url})
    delays = []
    for _ in range(8):
        result = poll(rt)
        assert result.state.next_poll is not None
        delays.append((result.state.next_poll - clock.now()) / timedelta(minutes=1))
        clock.advance_to(result.state.next_poll)
    assert delays == [10, 20, 40, 80, 160, 320, 360, 360]
    assert result.state.consecutive_failures == 8 and result.state.last_error == "HTTP 500"
    feeds.serve("/f", Response(body=FEED))
    result = poll(rt)
    assert (result.outcome, result.state.consecutive_failures) == ("fetched", 0)


def test_non_feed_html_page_fails(feeds: FeedServer, make_rt: MakeRuntime):
    """An HTML page (login wall, parked domain) is a failure 'not a feed'."""
    page = b"<!doctype html><html><head><title>Sign in</title></head><body><p>hi</p></body></html>"
    url = feeds.serve("/f", Response(body=page, headers={"Content-Type": "text/html"}))
    rt, _ = make_rt({"f": url})
    result = poll(rt)
    assert result.outcome == "failed" and result.error is not None
    assert result.error.startswith("not a feed")


def test_202_fails_through_the_poller(feeds: FeedServer, make_rt: MakeRuntime):
    """A 202 with an empty body counts as a failure of the feed."""
    rt, _ = make_rt({"f": feeds.serve("/f", Response(202))})
    result = poll(rt)
    assert result.outcome == "failed" and result.state.consecutive_failures == 1
