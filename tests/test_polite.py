"""Polite polling: a feed is never polled sooner than its publisher allows (<ttl>,
sy:updatePeriod, Cache-Control max-age, Expires), never later than polite_cap intervals, and
`monitor status` says why the next poll is when it is."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.alerts.decide import StoryDesk, StoryPolicy
from monitor.model import FeedSpec, FeedState, PollResult
from monitor.reader.cadence import declared, header_wait, next_delay
from monitor.reader.parse import parse_feed
from monitor.service.jobs import Jobs
from monitor.service.runtime import Runtime
from monitor.store import Store
from tests.clock import FakeClock
from tests.e2e import env_with, run_monitor
from tests.factories import T0
from tests.feedfiles import item, rss, write_config
from tests.feedserver import FeedServer, Response
from tests.runtimes import runtime_of
from tests.stores import ENGINES, open_engine

TEN_MIN = FeedSpec("f", "http://127.0.0.1/f", 600.0)  # polite, cap 4: at most 40 min
SY = "http://purl.org/rss/1.0/modules/syndication/"


def delay(
    spec: FeedSpec = TEN_MIN,
    refresh: float | None = None,
    source: str | None = None,
    **headers: str,
) -> tuple[float, str]:
    return next_delay(
        spec, refresh, source, {k.replace("_", "-"): v for k, v in headers.items()}, T0
    )


# -- the decision, pure --------------------------------------------------------------------


def test_no_hint_keeps_the_interval():
    assert delay() == (600.0, "interval 10m")


def test_max_age_longer_than_the_interval_is_honoured():
    assert delay(cache_control="public, max-age=1800") == (
        1800.0,
        "publisher: Cache-Control max-age=1800",
    )


def test_a_wait_shorter_than_the_interval_never_polls_sooner_than_the_interval():
    assert delay(cache_control="max-age=60") == (600.0, "interval 10m")
    assert delay(refresh=120.0, source="ttl") == (600.0, "interval 10m")


def test_the_cap_bounds_the_wait():
    assert delay(refresh=3600.0, source="ttl") == (
        2400.0,
        "publisher: <ttl> 60 min (capped at 4 × interval)",
    )
    assert delay(cache_control="max-age=86400")[0] == 2400.0
    wide = FeedSpec("f", "u", 600.0, polite_cap=10)
    assert delay(wide, refresh=3600.0, source="ttl") == (3600.0, "publisher: <ttl> 60 min")


def test_polite_false_ignores_the_publisher():
    rude = FeedSpec("f", "u", 600.0, polite=False)
    assert delay(rude, refresh=3600.0, source="ttl", cache_control="max-age=3600") == (
        600.0,
        "interval 10m",
    )


def test_the_longest_of_the_feed_and_header_hints_wins():
    got = delay(refresh=1200.0, source="sy:updatePeriod", cache_control="max-age=1500")
    assert got == (1500.0, "publisher: Cache-Control max-age=1500")
    got = delay(refresh=1800.0, source="sy:updatePeriod", cache_control="max-age=900")
    assert got == (1800.0, "publisher: sy:updatePeriod 30m")


def test_no_cache_and_no_store_give_no_hint():
    for value in ("no-store, max-age=3600", "no-cache", "max-age=3600, no-cache"):
        assert header_wait({"cache-control": value}, T0) == (None, "")


def test_max_age_minus_age_and_bad_max_age_ignored():
    assert header_wait({"cache-control": "max-age=3600", "age": "600"}, T0)[0] == 3000.0
    assert header_wait({"cache-control": "max-age=soon"}, T0) == (None, "")
    assert header_wait({"cache-control": "max-age=-5"}, T0) == (None, "")


def test_expires_counts_from_the_responses_date():
    date = T0 - timedelta(days=3)  # the server's clock is three days behind ours
    headers = {
        "date": format_datetime(date, usegmt=True),
        "expires": format_datetime(date + timedelta(minutes=30), usegmt=True),
    }
    assert header_wait(headers, T0) == (1800.0, "Expires in 30m")
    alone = {"expires": format_datetime(T0 + timedelta(minutes=20), usegmt=True)}
    assert header_wait(alone, T0) == (1200.0, "Expires in 20m")


def test_expires_in_the_past_or_not_a_date_is_no_hint():
    for value in ("0", "-1", "yesterday", format_datetime(T0 - timedelta(hours=1), usegmt=True)):
        assert header_wait({"expires": value}, T0) == (None, "")


def test_max_age_wins_over_expires():
    headers = {
        "cache-control": "max-age=900",
        "expires": format_datetime(T0 + timedelta(hours=2), usegmt=True),
    }
    assert header_wait(headers, T0) == (900.0, "Cache-Control max-age=900")


def test_declared_pace_is_validated():
    assert declared("60", None, None) == (3600.0, "ttl")
    assert declared(None, "hourly", "2") == (1800.0, "sy:updatePeriod")
    assert declared(None, " Daily ", None) == (86400.0, "sy:updatePeriod")
    assert declared("30", "daily", "1") == (86400.0, "sy:updatePeriod")  # the longer one
    for ttl in ("sixty", "-5", "0", "50000", "nan", "inf", ""):
        assert declared(ttl, None, None) == (None, ""), ttl
    assert declared(None, "yearly", None) == (None, "")  # over 30 days: ignored
    assert declared(None, "fortnightly", None) == (None, "")
    assert declared(None, "hourly", "zero") == (None, "")
    assert declared(None, "hourly", "0") == (None, "")


# -- the parse -----------------------------------------------------------------------------


def test_rss_ttl_is_read_from_a_real_looking_feed():
    doc = (
        b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        b"<title>ReliefWeb - Updates</title><link>https://reliefweb.int/updates</link>"
        b"<description>Latest updates</description><language>en</language><ttl>60</ttl>"
        b"<lastBuildDate>Fri, 20 Nov 2026 11:00:00 +0000</lastBuildDate>"
        b"<item><title>Sudan: flash update</title><link>https://reliefweb.int/r/1</link>"
        b"<guid>https://reliefweb.int/r/1</guid></item></channel></rss>"
    )
    parsed = parse_feed(doc, {"content-type": "application/rss+xml"}, "https://reliefweb.int/")
    assert (parsed.refresh, parsed.refresh_source) == (3600.0, "ttl")


def test_sy_update_period_is_read_from_rss_1_and_rss_2():
    rdf = (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        f' xmlns="http://purl.org/rss/1.0/" xmlns:sy="{SY}">'
        '<channel rdf:about="http://example.org/"><title>Wire</title>'
        "<link>http://example.org/</link><description>d</description>"
        "<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>"
        '</channel><item rdf:about="http://example.org/1"><title>One</title>'
        "<link>http://example.org/1</link></item></rdf:RDF>"
    ).encode()
    parsed = parse_feed(rdf, {}, "http://example.org/")
    assert (parsed.refresh, parsed.refresh_source) == (1800.0, "sy:updatePeriod")
    wp = rss(item("Post", guid="p1")).replace(
        b'<rss version="2.0">', f'<rss version="2.0" xmlns:sy="{SY}">'.encode()
    )
    wp = wp.replace(b"<description>d</description>", b"<description>d</description>"
                    b"<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>")  # fmt: skip
    parsed = parse_feed(wp, {}, "http://example.org/")
    assert (parsed.refresh, parsed.refresh_source) == (3600.0, "sy:updatePeriod")


def test_a_feed_saying_nothing_or_nonsense_declares_no_pace():
    plain = parse_feed(rss(item("Post", guid="p1")), {}, "http://example.org/")
    assert (plain.refresh, plain.refresh_source) == (None, "")
    silly = rss(item("Post", guid="p1")).replace(b"<title>Test", b"<ttl>soon</ttl><title>Test")
    assert parse_feed(silly, {}, "http://example.org/").refresh is None


# -- persistence ---------------------------------------------------------------------------


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_engine(request.param, tmp_path, request)


def test_reason_and_declared_pace_are_stored_on_both_engines(store: Store):
    """What a poll decided survives a restart; the claim reads it back in one transaction."""
    state = FeedState(
        "f",
        last_attempt=T0,
        next_poll=T0 + timedelta(minutes=40),
        next_poll_reason="publisher: <ttl> 60 min (capped at 4 × interval)",
        declared_refresh=3600.0,
        declared_source="ttl",
    )
    desk = StoryDesk(StoryPolicy(), lambda alert: ((), (), ()))
    store.save_poll(PollResult("f", "not_modified", state), desk, T0)
    assert store.feed_state("f") == state
    assert store.claim_state("f", "me", T0, 60.0) is None  # not due for 40 minutes
    later = T0 + timedelta(minutes=40)
    assert store.claim_state("f", "me", later, 60.0) == state
    assert store.claim_state("f", "other", later, 60.0) is None  # leased to "me"


# -- end to end on loopback ----------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def served(feeds: FeedServer, max_age: int) -> str:
    return feeds.serve(
        "/f",
        Response(
            body=rss(item("Parliament passes budget", guid="g1")),
            etag='"v1"',
            headers={"Cache-Control": f"max-age={max_age}"},
        ),
    )


def runtime(tmp_path: Path, url: str, clock: FakeClock) -> Iterator[Runtime]:
    cfg = write_config(tmp_path, {"f": url}, interval="10m", defaults="polite_cap = 4\n")
    with runtime_of(cfg, now=clock) as rt:
        yield rt


def test_max_age_3600_is_polled_after_40_minutes_not_10(
    feeds: FeedServer, tmp_path: Path, clock: FakeClock
):
    """Interval 10m, cap 4, Cache-Control max-age=3600: the scheduler moves the job to 40
    minutes on; a job firing at 10, 20 and 30 minutes is refused (not due) and fetches
    nothing; at 40 minutes the feed is polled (a 304 carrying the same Cache-Control)."""
    url = served(feeds, 3600)
    for rt in runtime(tmp_path, url, clock):
        spec = rt.config.feeds[0]
        jobs = scheduled(rt, spec)
        jobs.poll("f")
        assert jobs.scheduler.get_job("feed:f").next_run_time == T0 + timedelta(minutes=40)
        for _ in range(3):
            clock.advance(600)
            assert rt.poller.poll_claimed(spec) is None
        assert len(feeds.requests("/f")) == 1
        clock.advance(600)
        second = rt.poller.poll_claimed(spec)
        assert second is not None and second[0].outcome == "not_modified"
        assert len(feeds.requests("/f")) == 2
        st = rt.store.feed_state("f")
        assert st.next_poll == clock.now() + timedelta(minutes=40)
        assert (
            st.next_poll_reason == "publisher: Cache-Control max-age=3600 (capped at 4 × interval)"
        )
        jobs.scheduler.shutdown(wait=False)


def test_max_age_60_is_polled_after_the_10_minute_interval(
    feeds: FeedServer, tmp_path: Path, clock: FakeClock
):
    url = served(feeds, 60)
    for rt in runtime(tmp_path, url, clock):
        spec = rt.config.feeds[0]
        first = rt.poller.poll_claimed(spec)
        assert first is not None and first[0].state.next_poll == T0 + timedelta(minutes=10)
        clock.advance(60)
        assert rt.poller.poll_claimed(spec) is None  # max-age is a floor only above interval
        clock.advance(540)
        assert rt.poller.poll_claimed(spec) is not None
        assert rt.store.feed_state("f").next_poll_reason == "interval 10m"


def test_a_304_keeps_the_pace_the_feed_declared(
    feeds: FeedServer, tmp_path: Path, clock: FakeClock
):
    doc = rss(item("Post", guid="p1")).replace(b"<title>Test", b"<ttl>20</ttl><title>Test")
    url = feeds.serve("/f", Response(body=doc, etag='"v1"'))
    for rt in runtime(tmp_path, url, clock):
        spec = rt.config.feeds[0]
        assert rt.poller.poll_claimed(spec) is not None
        clock.advance(1200)
        second = rt.poller.poll_claimed(spec)
        assert second is not None and second[0].outcome == "not_modified"
        assert second[0].state.next_poll == clock.now() + timedelta(minutes=20)
        assert second[0].state.next_poll_reason == "publisher: <ttl> 20 min"


def scheduled(rt: Runtime, spec: FeedSpec) -> Jobs:
    """The daemon's jobs on a paused scheduler: its feed job due at T0, run by hand."""
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    jobs = Jobs(rt, scheduler, threading.Event())
    jobs.add_feed(spec, T0)
    return jobs


# -- what the operator sees ----------------------------------------------------------------


def test_status_shows_why_the_next_poll_is_when_it_is(feeds: FeedServer, tmp_path: Path):
    url = served(feeds, 1800)
    cfg = write_config(tmp_path, {"news": url}, interval="10m")
    env = env_with()
    assert run_monitor(["run", "--once", "-c", str(cfg)], env).returncode == 0
    shown = run_monitor(["status", "--json", "-c", str(cfg)], env)
    (row,) = json.loads(shown.stdout)["feeds"]
    assert row["next_poll_reason"] == "publisher: Cache-Control max-age=1800"
    polled = datetime.now(UTC)
    next_poll = datetime.fromisoformat(row["next_poll"].replace("Z", "+00:00"))
    assert polled + timedelta(minutes=25) < next_poll <= polled + timedelta(minutes=30)
    table = run_monitor(["status", "-c", str(cfg)], env).stdout
    line = next(x for x in table.splitlines() if x.startswith("news"))
    assert "publisher: Cache-Control max-age=1800" in line and "in 30m" in line


def test_a_first_claim_creates_the_feed_and_leases_it(store: Store):
    """The claim that also reads the state (one statement on a warm poll) still creates the
    row of a feed never polled, and still refuses a second claimer."""
    assert store.claim_state("new", "a", T0, 60.0) == FeedState("new")
    assert store.claim_state("new", "b", T0, 60.0, due_only=False) is None
    assert store.claim_feed("new", "b", T0 + timedelta(seconds=61), 60.0, due_only=False)
