"""`monitor run --once` end to end: feeds on loopback -> rules -> one alert per story -> webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.channel_servers import Reply, http_receiver
from tests.e2e import env_with, run_monitor
from tests.feedfiles import SIGNED_WEBHOOK, rss, story, write_config
from tests.feedserver import FeedServer

RULES = Path(__file__).parent / "data" / "rules_fixtures" / "good"
NOW = datetime.now(UTC).replace(microsecond=0)


# One story told by three sources, and an unrelated item: (feed, guid, title, summary).
STORIES = [
    (
        "un-news",
        "un-1",
        "Dozens of civilians killed in shelling of El Fasher market",
        "UN chief condemns the attack in North Darfur, Sudan.",
    ),
    (
        "un-news",
        "un-2",
        "General Assembly adopts budget for 2027",
        "Member states agreed the regular budget.",
    ),
    (
        "ohchr",
        "oh-1",
        "Sudan: civilians killed in shelling of El Fasher market",
        "UN rights office says dozens of civilians killed in North Darfur.",
    ),
    (
        "news-bbc",
        "bbc-1",
        "El Fasher: dozens of civilians killed as shells hit market",
        "Sudan's army and RSF trade blame for the killing in Darfur.",
    ),
]


def story_feeds(server: FeedServer) -> dict[str, str]:
    """The three feeds of STORIES, published an hour ago; their URLs by name."""
    t = NOW - timedelta(hours=1)
    names = dict.fromkeys(feed for feed, *_ in STORIES)
    return {
        name: server.publish(name, rss(*(story(*s, t) for f, *s in STORIES if f == name)))
        for name in names
    }


def configured(tmp_path: Path, server: FeedServer) -> Path:
    return write_config(tmp_path, story_feeds(server), rules=RULES, channels=SIGNED_WEBHOOK)


def test_one_story_three_sources_one_alert_and_one_corroboration(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """UN News, OHCHR and a news feed carrying one story give one alert and one notice."""
    with http_receiver() as rx:
        cfg = configured(tmp_path, feeds)
        env = env_with(TEST_HOOK_URL=rx.url(), TEST_HOOK_SECRET="s3cret-value")
        first = run_monitor(["run", "--once", "-c", str(cfg)], env)
        bodies = [json.loads(r.body) for r in rx.requests]
        second = run_monitor(["run", "--once", "-c", str(cfg)], env)
        assert len(rx.requests) == len(bodies), "second run found something new"
    assert first.returncode == 0, first.stderr[-2000:]
    assert second.returncode == 0
    kinds = [b["type"] for b in bodies]
    assert kinds == ["alert.match", "alert.corroboration"], kinds
    story = bodies[0]
    assert "SD" in story["countries"]
    assert {s["feed"] for s in bodies[1]["sources"]} == {"un-news", "ohchr", "news-bbc"}
    assert bodies[1]["id"] != story["id"]
    assert rx.requests[0].headers["webhook-id"] == story["id"]
    assert "s3cret-value" not in first.stderr


def test_undeliverable_alert_stays_queued_and_exit_is_1(tmp_path: Path, feeds: FeedServer) -> None:
    """A receiver answering 503 leaves the alert pending (exit 1); a later run delivers it."""
    with http_receiver([Reply(503)]) as rx:
        cfg = configured(tmp_path, feeds)
        env = env_with(TEST_HOOK_URL=rx.url(), TEST_HOOK_SECRET="x" * 8)
        first = run_monitor(["run", "--once", "-c", str(cfg)], env)
        status = json.loads(run_monitor(["status", "--json", "-c", str(cfg)], env).stdout)
        assert first.returncode == 1
        assert status["outbox"]["pending"] >= 1
        run_monitor(["retry", "-c", str(cfg)], env)
        third = run_monitor(["run", "--once", "-c", str(cfg)], env)
        assert third.returncode == 0, third.stderr[-2000:]
        ids = [r.headers["webhook-id"] for r in rx.requests]
    assert ids[0] == ids[1]  # the retry carries the same id
    assert len(set(ids)) == 2  # the story and its corroboration notice


def test_dead_webhook_is_visible_in_status(tmp_path: Path, feeds: FeedServer) -> None:
    """A 410 Gone is permanent: the delivery is dead and status says so; retry --dead requeues."""
    with http_receiver(default=Reply(410, b"gone")) as rx:
        cfg = configured(tmp_path, feeds)
        env = env_with(TEST_HOOK_URL=rx.url(), TEST_HOOK_SECRET="x" * 8)
        assert run_monitor(["run", "--once", "-c", str(cfg)], env).returncode == 1
        status = run_monitor(["status", "--json", "-c", str(cfg)], env)
        data = json.loads(status.stdout)
        assert data["outbox"]["dead"] == 2 and "410" in data["dead"][0]["error"]
        human = run_monitor(["status", "-c", str(cfg)], env).stdout
        assert "2 dead" in human
        out = run_monitor(["retry", "--dead", "-c", str(cfg)], env)
        assert "2 deliveries" in out.stdout
    assert len(rx.requests) == 2
