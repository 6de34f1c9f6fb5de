"""Periodic jobs: escalation alerts against a 14-day baseline, email digests, pruning."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor import pipeline
from monitor.alerts.decide import StoryDesk, StoryPolicy
from monitor.alerts.escalation import escalations
from monitor.alerts.health import silent_since
from monitor.model import AlertKind, FeedSpec, FeedState, PollResult
from monitor.service.housekeeping import check_escalation, check_silence, send_digest
from monitor.service.housekeeping import run as run_housekeeping
from monitor.service.runtime import Runtime
from tests.channel_servers import SmtpSink, smtp_sink
from tests.clock import FakeClock
from tests.factories import T0, alert, item
from tests.feedfiles import GOOD_RULES, write_config
from tests.runtimes import runtime_of

CONFIG = """[state]
path = "state.db"
[rules]
paths = ["{rules}"]
[alerts]
escalation_factor = 3
escalation_min = 4
[[feeds]]
name = "un-news"
url = "http://127.0.0.1:9/feed.xml"
silent_after = "2d"
[[channels]]
name = "mail"
type = "email"
smtp_host = "127.0.0.1"
smtp_port = {port}
tls = "none"
from = "monitor@example.org"
to = ["analysts@example.org"]
digest = "0 7 * * *"
timezone = "Europe/Zurich"
"""


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[tuple[Runtime, SmtpSink]]:
    """The runtime of CONFIG at T0 (its clock stands still), and the mail channel's sink."""
    sink = SmtpSink()
    with smtp_sink(sink):
        cfg = tmp_path / "config.toml"
        cfg.write_text(CONFIG.format(rules=GOOD_RULES, port=sink.port))
        with runtime_of(cfg, now=FakeClock(T0)) as r:
            yield r, sink


def record(r: Runtime, n: int, country: str, start_key: int, when) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        k = start_key + i
        a = alert(
            item(
                key=f"g:{k}",
                link=f"https://x.org/{k}",
                countries=(country,),
                title=f"Unrelated report number {k} " + "word " * (k % 7),
            ),
            now=when,
        )
        result = PollResult(
            "un-news", "fetched", FeedState("un-news", last_success=when), (a.item,), (a,)
        )
        desk = StoryDesk(StoryPolicy(similarity=101), lambda _: ((), ("mail",), ()))
        r.store.save_poll(result, desk, when)


def desk(r: Runtime) -> StoryDesk:
    return StoryDesk(r.bundle.poll.story, r.bundle.router)


def health(
    r: Runtime, spec: FeedSpec, before: FeedState, result: PollResult, when: datetime
) -> PollResult:
    """The poll's health decision on `result`, saved with it as the poller saves a poll."""
    s = r.bundle.poll
    policy = pipeline.PollPolicy(s.backfill, s.max_backoff, s.feed_down_after, r.bundle.router)
    decided = pipeline.with_health(spec, before, result, policy, when)
    r.store.save_poll(decided, desk(r), when)
    return decided


def test_escalations_pure() -> None:
    """A jump over factor x baseline and the minimum escalates; a steady rate does not."""
    got = escalations({"SD": 9, "MM": 6, "UA": 2}, {"SD": 14, "MM": 140}, 3, 4, 14)
    assert [(k, n) for k, n, _ in got] == [("SD", 9)]


def test_escalation_alert_once_per_day(rt) -> None:  # type: ignore[no-untyped-def]
    """A country's matched items tripling its baseline raise one escalation alert a day."""
    r, _ = rt
    record(r, 7, "SD", 0, T0 - timedelta(days=5))  # baseline: 7 in 14 days
    record(r, 6, "SD", 100, T0 - timedelta(hours=2))  # 6 in the last 24 h
    assert check_escalation(r, T0) == 2  # the country and the rule theme
    assert check_escalation(r, T0 + timedelta(hours=3)) == 0
    alert_ = r.store.load_alert(f"escalation:country:SD:{T0.date().isoformat()}")
    assert alert_ is not None and alert_.kind == AlertKind.ESCALATION
    assert "6 matched reports" in alert_.title
    assert r.store.load_alert(f"escalation:theme:war-crimes:{T0.date().isoformat()}")


def test_digest_sends_one_email_and_marks_held_rows_sent(rt) -> None:  # type: ignore[no-untyped-def]
    """Held alerts go out as one digest email, then nothing is held any more."""
    r, sink = rt
    record(r, 3, "SD", 0, T0)
    assert len(r.store.held_deliveries("mail")) == 3
    assert send_digest(r, "mail") == 3
    assert r.store.held_deliveries("mail") == []
    assert len(sink.received) == 1
    body = sink.received[0].message.get_body(("plain",)).get_content()
    assert body.count("Unrelated report number") == 3
    assert send_digest(r, "mail") == 0 and len(sink.received) == 1


def test_prune_forgets_old_seen_items_but_keeps_alerts(rt) -> None:  # type: ignore[no-untyped-def]
    """Housekeeping forgets seen items past retention; alerts stay for status and dedup."""
    r, _ = rt
    record(r, 1, "SD", 0, T0 - timedelta(days=200))
    run_housekeeping(r)
    assert r.store.seen_keys("un-news", ["g:0"]) == set()
    assert r.store.load_alert(alert(item(key="g:0", link="https://x.org/0")).id) is not None


def test_silent_feed_raises_one_down_alert_and_one_back_alert(rt) -> None:  # type: ignore[no-untyped-def]
    """A feed answering but publishing nothing for silent_after: one alert, then one "back"."""
    r, _ = rt
    old = T0 - timedelta(days=3)
    quiet = FeedState("un-news", last_success=T0, last_new_item=old)
    r.store.save_poll(PollResult("un-news", "fetched", quiet), desk(r), T0)
    assert check_silence(r, T0) == 1
    assert check_silence(r, T0 + timedelta(hours=1)) == 0
    assert r.store.feed_state("un-news").silent_alerted
    spec = r.config.feeds[0]
    before = r.store.feed_state("un-news")
    fresh = PollResult("un-news", "fetched", before, (item(feed="un-news"),), ())
    after = health(r, spec, before, fresh, T0 + timedelta(hours=2))
    assert after.state.silent_alerted is False
    kinds = [r.store.load_alert(d.alert_id).kind for d in r.store.held_deliveries("mail")]
    assert kinds.count(AlertKind.SOURCE_DOWN) == 1 and kinds.count(AlertKind.SOURCE_BACK) == 1


def test_silence_needs_a_success_and_a_setting() -> None:
    """A feed never polled, or without silent_after, is never called silent."""
    quiet = FeedState("f", last_success=T0, last_new_item=T0 - timedelta(days=9))
    assert silent_since(quiet, None, T0) is None
    assert silent_since(FeedState("f"), 3600, T0) is None
    assert silent_since(quiet, 86400, T0) == T0 - timedelta(days=9)


def test_failing_feed_one_down_alert_then_one_back_alert(rt) -> None:  # type: ignore[no-untyped-def]
    """A feed failing past feed_down_after (6 h) gives one "down" and, on recovery, one "back"."""
    r, _ = rt
    spec = r.config.feeds[0]
    failing = FeedState(
        "un-news",
        failing_since=T0 - timedelta(hours=7),
        consecutive_failures=9,
        last_error="HTTP 503",
    )
    failed = PollResult("un-news", "failed", failing, error="HTTP 503")
    first = health(r, spec, failing, failed, T0)
    again = health(r, spec, first.state, replace(failed, state=first.state), T0)
    assert first.state.down_alerted and again.state.down_alerted
    ok = PollResult("un-news", "not_modified", FeedState("un-news", last_success=T0))
    healed = health(r, spec, first.state, ok, T0 + timedelta(hours=1))
    assert healed.state.down_alerted is False
    alerts = [r.store.load_alert(d.alert_id) for d in r.store.held_deliveries("mail")]
    assert [a.kind for a in alerts] == [AlertKind.SOURCE_DOWN, AlertKind.SOURCE_BACK]
    assert "HTTP 503" in alerts[0].text and "7.0h" in alerts[0].text


def test_recent_failure_is_not_yet_down(rt) -> None:  # type: ignore[no-untyped-def]
    """A feed failing for less than feed_down_after raises nothing."""
    r, _ = rt
    st = FeedState("un-news", failing_since=T0 - timedelta(hours=1), consecutive_failures=3)
    out = health(r, r.config.feeds[0], st, PollResult("un-news", "failed", st), T0)
    assert not out.state.down_alerted and r.store.held_deliveries("mail") == []


def test_an_escalation_no_channel_takes_is_counted_and_shown(tmp_path: Path) -> None:
    """Housekeeping's alerts are held to the poll's contract: one that routes nowhere is
    recorded with why, counted in /metrics and shown by status (alert.unrouted)."""
    channels = '[[channels]]\nname = "desk"\ntype = "console"\nkinds = ["match"]\n'
    cfg = write_config(tmp_path, {"un-news": "http://127.0.0.1:9/rss"}, rules=GOOD_RULES,
                       channels=channels)  # fmt: skip
    with runtime_of(cfg, now=FakeClock(T0)) as r:
        record(r, 7, "SD", 0, T0 - timedelta(days=5))
        record(r, 6, "SD", 100, T0 - timedelta(hours=2))
        assert check_escalation(r, T0) == 2
        assert r.metrics.unrouted._value.get() == 2
        assert r.store.outbox_counts()["unrouted"] == 2
        ids = {a.id for a, _ in r.store.unrouted_alerts()}
        assert f"escalation:country:SD:{T0.date().isoformat()}" in ids
