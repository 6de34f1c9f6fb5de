"""Review holds (`review = true`, `review_timeout`): nothing reaches a review channel until a
person approves it; a rejected alert never does; a critical one waiting past the timeout
goes out marked NOT REVIEWED. Store contract on every engine, then the daemon's own parts
end to end with loopback receivers, then the config's refusals."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import structlog

from monitor.alerts.route import release_statuses
from monitor.channels import make_channel
from monitor.channels.console import ConsoleSettings
from monitor.channels.email import EmailSettings
from monitor.channels.http import HttpSettings
from monitor.config.load import ChannelConfig
from monitor.model import Alert, Routed, Severity
from monitor.service.bundle import make_router
from monitor.service.housekeeping import expire_reviews
from monitor.service.runtime import Runtime
from monitor.store import Store, open_store
from monitor.store.stories import unrouted_why
from tests.channel_servers import HttpReceiver, http_receiver
from tests.clock import FakeClock
from tests.e2e import env_with, run_monitor
from tests.factories import T0, alert, item, make_alert, match
from tests.feedfiles import rss, story, write_config
from tests.feedserver import FeedServer
from tests.runtimes import poll, runtime_of
from tests.stores import ENGINES, due, new_target, open_engine
from tests.test_config import ENV, GOOD, load_config, problems_of, write

HOUR = 3600.0


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_engine(request.param, tmp_path, request)


def queued(
    store: Store, n: int, severity: Severity, at: datetime = T0, review: tuple[str, ...] = ("rev",)
) -> Alert:
    """Alert number n (its own story), sent to "ops" now and held for review in `review`."""
    a = alert(item(key=f"g:{n}", link=f"https://x.org/{n}"), match(severity=severity), now=at)
    assert store.record_alert(Routed(a, send=("ops",), review=review), at)
    return a


def rows(store: Store, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with store._tx() as tx:  # type: ignore[attr-defined]
        return list(tx.q(sql, params))


# -- routing -----------------------------------------------------------------------------
def test_router_holds_review_channels_apart() -> None:
    """A review channel takes the alert into review instead of sending or holding it; once
    approved, a digest review channel holds it for the digest (or sends it, when it reaches
    immediate_severity). An alert going only to review channels is routed."""
    mail = EmailSettings(recipients=("a@b.org",))
    channels = (
        ChannelConfig("ops", "webhook"),
        ChannelConfig("partners", "webhook", review=True),
        ChannelConfig("mail", "email", digest="0 7 * * *", review=True, settings=mail),
        ChannelConfig("quiet", "email", digest="0 7 * * *", settings=mail),
    )
    high = alert(item(), match(severity=Severity.HIGH))
    assert make_router(channels)(high) == (("ops",), ("quiet",), ("partners", "mail"))
    assert release_statuses(channels, high) == {"partners": "pending", "mail": "held"}
    urgent = replace(channels[2], immediate_severity=Severity.HIGH)
    assert release_statuses((urgent,), high) == {"mail": "pending"}
    assert unrouted_why(Routed(high, review=("partners",))) is None


# -- store ------------------------------------------------------------------------------
def test_review_rows_wait_in_a_queue_and_are_never_due(store: Store) -> None:
    """Held rows are listed oldest first with their channels; the deliverer never sees them,
    `retry --dead` does not release them, and the alert does not count as unrouted."""
    first = queued(store, 1, Severity.HIGH, review=("rev", "mail"))
    second = queued(store, 2, Severity.CRITICAL, at=T0 + timedelta(minutes=5))
    waiting = store.waiting_reviews()
    assert [(w.alert_id, w.channels, w.since) for w in waiting] == [
        (first.id, ("rev", "mail"), T0),
        (second.id, ("rev",), T0 + timedelta(minutes=5)),
    ]
    assert waiting[1].severity == Severity.CRITICAL and waiting[1].kind == "match"
    assert waiting[0].title == first.title
    assert [w.alert_id for w in store.waiting_reviews(limit=1, offset=1)] == [second.id]
    assert store.waiting_count() == 2
    later = T0 + timedelta(days=3)
    assert store.retry(later, include_dead=True) == 2  # the two "ops" rows only
    assert {d.channel for d in due(store, later)} == {"ops"}
    assert store.due_channels(later) == ["ops"]
    assert store.outbox_counts()["review"] == 3
    assert store.unrouted_alerts() == []


def test_approve_releases_each_channel_to_the_status_given(store: Store) -> None:
    """Approve: the review channel's row is due now, the digest channel's held; history and
    the note say who; deciding again finds nothing waiting."""
    a = queued(store, 1, Severity.HIGH, review=("rev", "mail"))
    now = T0 + timedelta(hours=1)
    got = store.decide_review(a.id, "approve", "ana", "checked with OHCHR", now, {"mail": "held"})
    assert got == ("rev", "mail")
    assert [(d.channel, d.unreviewed) for d in due(store, now)] == [("ops", False), ("rev", False)]
    assert [d.alert_id for d in store.held_deliveries("mail")] == [a.id]
    assert store.waiting_count() == 0
    (history,) = rows(store, "SELECT actor, action, detail, created FROM history")
    assert history[:2] == ("ana", "review.approve")
    assert json.loads(history[2]) == {"channels": ["rev", "mail"], "note": "checked with OHCHR"}
    assert rows(store, "SELECT alert_id, author, text FROM notes") == [
        (a.id, "ana", "checked with OHCHR")
    ]
    assert store.decide_review(a.id, "reject", "bo", "", now, {}) == ()
    assert rows(store, "SELECT state FROM alerts") == [("new",)]


def test_reject_marks_a_false_positive_and_sends_nothing(store: Store) -> None:
    """Reject: the rows are `rejected` (never sent), the alert's state is false_positive; an
    empty note writes no note; an unknown decision is refused."""
    a = queued(store, 1, Severity.CRITICAL, review=("rev", "mail"))
    now = T0 + timedelta(minutes=10)
    with pytest.raises(ValueError, match="decision"):
        store.decide_review(a.id, "maybe", "ana", "", now, {})
    assert store.decide_review(a.id, "reject", "ana", "", now, {}) == ("rev", "mail")
    assert {d.channel for d in due(store, now + timedelta(days=1))} == {"ops"}
    assert rows(store, "SELECT state, updated FROM alerts") == [("false_positive", now.timestamp())]
    assert store.outbox_counts()["rejected"] == 2 and store.outbox_counts()["review"] == 0
    assert rows(store, "SELECT action FROM history") == [("review.reject",)]
    assert rows(store, "SELECT COUNT(*) FROM notes") == [(0,)]
    assert store.expire_reviews("rev", now + timedelta(days=1), now) == []
    assert store.decide_review("no-such-alert", "approve", "ana", "", now, {}) == ()


def test_two_analysts_deciding_at_once_one_wins(
    request: pytest.FixtureRequest, tmp_path: Path, engine: str
) -> None:
    """Two stores (two console processes) decide the same alert at the same moment: exactly
    one decision is applied and recorded."""
    target = new_target(engine, tmp_path, request)
    stores = [open_store(target), open_store(target)]
    try:
        a = queued(stores[0], 1, Severity.HIGH, review=("rev", "mail", "sms"))
        barrier = threading.Barrier(2)
        results: dict[str, tuple[str, ...]] = {}

        def decide(s: Store, decision: str) -> None:
            barrier.wait()
            results[decision] = s.decide_review(a.id, decision, decision, "", T0, {})

        threads = [
            threading.Thread(target=decide, args=(s, d))
            for s, d in zip(stores, ("approve", "reject"), strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        winners = [d for d, channels in results.items() if channels]
        assert len(results) == 2 and len(winners) == 1, results
        assert results[winners[0]] == ("rev", "mail", "sms")
        assert rows(stores[1], "SELECT actor FROM history") == [(winners[0],)]
        status = "pending" if winners == ["approve"] else "rejected"
        assert rows(stores[1], "SELECT DISTINCT status FROM outbox WHERE channel != 'ops'") == [
            (status,)
        ]
    finally:
        for s in stores:
            s.close()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_expire_sends_only_critical_alerts_waiting_too_long(store: Store) -> None:
    """Past the timeout a critical alert's row is due, marked unreviewed; a high one and a
    critical one queued later keep waiting, as does another channel's row; once only."""
    old = queued(store, 1, Severity.CRITICAL, review=("rev", "other"))
    high = queued(store, 2, Severity.HIGH)
    young = queued(store, 3, Severity.CRITICAL, at=T0 + timedelta(hours=2))
    now = T0 + timedelta(hours=2, minutes=30)
    assert store.expire_reviews("rev", now - timedelta(hours=2), now) == [old.id]
    assert store.expire_reviews("rev", now - timedelta(hours=2), now) == []
    released = [d for d in due(store, now) if d.channel == "rev"]
    assert [(d.alert_id, d.unreviewed) for d in released] == [(old.id, True)]
    assert {(w.alert_id, w.channels) for w in store.waiting_reviews()} == {
        (old.id, ("other",)),
        (high.id, ("rev",)),
        (young.id, ("rev",)),
    }
    assert rows(store, "SELECT alert_id, actor, action FROM history") == [
        (old.id, "monitor", "review.timeout")
    ]


# -- the daemon's parts end to end ------------------------------------------------------
RULES = """theme = "test"

[[rules]]
id = "genocide"
title = "Genocide warning"
severity = "critical"
description = "A test rule."
any = ["genocide"]

[[rules]]
id = "massacre"
title = "Massacre reported"
severity = "high"
description = "A test rule."
any = ["massacre"]
"""
CHANNELS = """[[channels]]
name = "partners"
type = "webhook"
url_env = "REVIEW_HOOK_URL"
min_severity = "low"
review = true
review_timeout = "2h"

[[channels]]
name = "ops"
type = "webhook"
url_env = "OPS_HOOK_URL"
min_severity = "low"

[model]
enabled = false
"""


def newsroom(tmp_path: Path, feeds: FeedServer) -> Path:
    """A feed with a critical story (genocide) and a high one (massacre); the config."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(RULES, encoding="utf-8")
    published = datetime.now(UTC) - timedelta(minutes=30)
    url = feeds.publish(
        "news",
        rss(
            story("g1", "UN warns of genocide in Kenya", "Officials fear genocide.", published),
            story("m1", "Massacre reported in Peru", "Villagers were massacred.", published),
        ),
    )
    return write_config(tmp_path, {"news": url}, rules=tmp_path / "rules", channels=CHANNELS)


@pytest.fixture
def daemon(
    tmp_path: Path, feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Runtime, FakeClock, HttpReceiver, HttpReceiver]]:
    """The runtime `monitor run` builds, on a hand-moved clock, its feed polled once; the
    review channel's receiver and the plain one's."""
    with http_receiver() as partners, http_receiver() as ops:
        monkeypatch.setenv("REVIEW_HOOK_URL", partners.url())
        monkeypatch.setenv("OPS_HOOK_URL", ops.url())
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        with runtime_of(newsroom(tmp_path, feeds), now=clock) as rt:
            poll(rt)
            rt.deliverer.drain()
            yield rt, clock, partners, ops


def bodies(rx: HttpReceiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in rx.requests]


def by_title(rt: Runtime) -> dict[str, str]:
    return {w.title: w.alert_id for w in rt.store.waiting_reviews()}


def test_review_channel_gets_only_what_is_approved(daemon, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The plain channel gets both alerts at once; the review channel nothing until approve,
    then exactly the approved one; the rejected one never, and it is a false positive."""
    rt, clock, partners, ops = daemon
    assert len(bodies(ops)) == 2 and partners.requests == []
    waiting = by_title(rt)
    genocide, massacre = (
        waiting["UN warns of genocide in Kenya"],
        waiting["Massacre reported in Peru"],
    )
    clock.advance(600)
    rt.deliverer.drain()
    assert partners.requests == []
    a = rt.store.load_alert(massacre)
    assert a is not None
    released = release_statuses(rt.config.channels, a)
    assert rt.store.decide_review(massacre, "approve", "ana", "", clock(), released) == (
        "partners",
    )
    assert rt.store.decide_review(genocide, "reject", "ana", "a film", clock(), released) == (
        "partners",
    )
    rt.deliverer.drain()
    clock.advance(3 * HOUR)  # a rejected alert is never released, not even by the timeout
    assert expire_reviews(rt) == {}
    rt.deliverer.drain()
    assert [(b["id"], "unreviewed" in b) for b in bodies(partners)] == [(massacre, False)]
    assert len(bodies(ops)) == 2
    state = sqlite3.connect(tmp_path / "state.db").execute(
        "SELECT state FROM alerts WHERE id = ?", (genocide,)
    )
    assert state.fetchall() == [("false_positive",)]


def test_timeout_sends_the_critical_alert_marked_unreviewed(daemon) -> None:  # type: ignore[no-untyped-def]
    """Past review_timeout the critical alert reaches the review channel with
    "unreviewed": true and a review.timeout log line; the high one still waits."""
    rt, clock, partners, ops = daemon
    genocide = by_title(rt)["UN warns of genocide in Kenya"]
    clock.advance(HOUR)
    assert expire_reviews(rt) == {}
    clock.advance(HOUR + 1)
    with structlog.testing.capture_logs() as logs:
        assert expire_reviews(rt) == {"partners": [genocide]}
    assert [(e["event"], e["channel"], e["alerts"]) for e in logs] == [
        ("review.timeout", "partners", [genocide])
    ]
    rt.deliverer.drain()
    (sent,) = bodies(partners)
    assert sent["id"] == genocide and sent["unreviewed"] is True
    assert "unreviewed" not in sent["data"]
    assert [w.title for w in rt.store.waiting_reviews()] == ["Massacre reported in Peru"]
    assert all("unreviewed" not in b for b in bodies(ops))


def test_run_once_and_status_show_the_queue(tmp_path: Path, feeds: FeedServer) -> None:
    """`run --once` sends the plain channel's alerts and exits 0 with alerts waiting for
    review; `status` counts them; after an approval the next run delivers it."""
    with http_receiver() as partners, http_receiver() as ops:
        cfg = newsroom(tmp_path, feeds)
        env = env_with(REVIEW_HOOK_URL=partners.url(), OPS_HOOK_URL=ops.url())
        first = run_monitor(["run", "--once", "-c", str(cfg)], env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr[-2000:]
        status = json.loads(run_monitor(["status", "--json", "-c", str(cfg)], env).stdout)
        assert status["outbox"]["review"] == 2 and status["outbox"]["sent"] == 2
        assert "2 waiting for review" in run_monitor(["status", "-c", str(cfg)], env).stdout
        assert "0 deliveries" in run_monitor(["retry", "--dead", "-c", str(cfg)], env).stdout
        store = open_store(str(tmp_path / "state.db"))
        try:
            (one, _) = store.waiting_reviews()
            store.decide_review(one.alert_id, "approve", "ana", "", datetime.now(UTC), {})
        finally:
            store.close()
        second = run_monitor(["run", "--once", "-c", str(cfg)], env, cwd=tmp_path)
        assert second.returncode == 0, second.stderr[-2000:]
        assert [r.headers["webhook-id"] for r in partners.requests] == [one.alert_id]
        assert len(ops.requests) == 2


# -- what each channel shows -------------------------------------------------------------
def test_every_channel_marks_an_unreviewed_alert() -> None:
    """Console and email text, the email subject and Slack header say NOT REVIEWED; an
    approved alert (no mark) says nothing of the kind."""
    marked = replace(make_alert(), data={"unreviewed": True})
    with requests.Session() as s:
        url = HttpSettings("http://127.0.0.1:9/x", 5.0)
        slack = make_channel(ChannelConfig("s", "slack", settings=url), session=s)
        body = slack.build(marked).body
        assert body["blocks"][0]["text"]["text"].startswith("[NOT REVIEWED]")
        assert body["text"].startswith("[NOT REVIEWED]")
        assert "NOT REVIEWED" not in json.dumps(slack.build(make_alert()).body)
    mail = make_channel(
        ChannelConfig("m", "email", settings=EmailSettings(recipients=("a@b.org",)))
    ).build(marked)
    assert mail.subject.startswith("[NOT REVIEWED]")
    assert "NOT REVIEWED" in mail.text and "NOT REVIEWED" in mail.html
    console = make_channel(ChannelConfig("c", "console", settings=ConsoleSettings(color=False)))
    assert console.build(marked).text.splitlines()[1].startswith("[NOT REVIEWED]")
    assert "NOT REVIEWED" not in console.build(make_alert()).text


# -- config ------------------------------------------------------------------------------
def test_config_reads_review_keys(tmp_path: Path) -> None:
    """review and review_timeout (the one duration grammar) on a channel of any type."""
    text = GOOD + 'review = true\nreview_timeout = "1h30m"\n'
    channel = load_config(write(tmp_path, text), ENV).channels[0]
    assert channel.review and channel.review_timeout == 5400.0


@pytest.mark.parametrize(
    ("extra", "key", "says"),
    [
        ('review_timeout = "2h"\n', "channels[0].review_timeout", "review = true"),
        ('review = "yes"\n', "channels[0].review", "is not"),
        ('review = true\nreview_timeout = "soon"\n', "channels[0].review_timeout", "duration"),
        ('review = true\nreview_timeout = "0s"\n', "channels[0].review_timeout", "longer"),
    ],
)
def test_config_refusals_name_the_key(tmp_path: Path, extra: str, key: str, says: str) -> None:
    (problem,) = problems_of(write(tmp_path, GOOD + extra))
    assert f": {key}: " in problem and says in problem
