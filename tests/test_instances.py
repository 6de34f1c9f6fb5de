"""Several `monitor run` instances on one PostgreSQL: shared polling, no lost or repeated alert."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.alerts.stories import alert_id
from monitor.model import Item
from tests.channel_servers import HttpReceiver, http_receiver
from tests.e2e import PLACES, REPO, Newsroom, env_with, run_monitor, start_daemon
from tests.feedfiles import GOOD_RULES, rss, story, webhook, write_config
from tests.feedserver import FeedServer
from tests.pg import PgServer
from tests.test_story_order import corpus

PG_STATE = 'url_env = "MONITOR_PG_URL"'
WEBHOOK = webhook("I_HOOK_URL")


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    return pg_server.new_database()


def start(cfg: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return start_daemon(cfg, env, out)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(40)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.fixture
def newsroom(feeds: FeedServer) -> Iterator[tuple[Newsroom, HttpReceiver]]:
    with http_receiver() as rx:
        yield Newsroom(feeds, 30, PLACES[:30]), rx


def shared(
    tmp_path: Path, room: Newsroom, rx: HttpReceiver, pg_url: str
) -> tuple[Path, dict[str, str]]:
    """A config polling the newsroom every 2 s with its state on PostgreSQL, and its env."""
    cfg = write_config(
        tmp_path, room.urls(), rules=GOOD_RULES, channels=WEBHOOK, interval="2s", state=PG_STATE
    )
    return cfg, env_with(MONITOR_PG_URL=pg_url, I_HOOK_URL=rx.url())


def wait_all(rx: HttpReceiver, n: int, timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    got: set[str] = set()
    while time.monotonic() < deadline:
        got = {r.headers["webhook-id"] for r in rx.requests}
        if len(got) >= n:
            break
        time.sleep(0.3)
    return got


def test_three_instances_share_polling_without_duplicates(
    tmp_path: Path, pg_url: str, newsroom: tuple[Newsroom, HttpReceiver]
) -> None:
    """Three daemons: each feed fetched about once per interval in total, each alert once."""
    room, rx = newsroom
    interval = 2.0
    cfg, env = shared(tmp_path, room, rx, pg_url)
    procs = [start(cfg, env, tmp_path / f"d{i}.log") for i in range(3)]
    try:
        time.sleep(3)
        before = room.fetches()
        began = time.monotonic()
        while room.publish():
            time.sleep(0.4)
        time.sleep(max(0.0, 16 - (time.monotonic() - began)))
        elapsed = time.monotonic() - began
        fetches = room.fetches() - before
        got = wait_all(rx, len(room.places), 30)
        status = json.loads(run_monitor(["status", "--json", "-c", str(cfg)], env).stdout)
    finally:
        stop(procs)
    ids = [r.headers["webhook-id"] for r in rx.requests]
    ratio = fetches / (len(room.names) * elapsed / interval)
    print(
        f"instances: {fetches} fetches for {len(room.names)} feeds over {elapsed:.1f}s "
        f"({interval:g}s interval): ratio {ratio:.2f}"
    )
    assert len(got) == len(room.places)
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    assert 0.7 <= ratio <= 1.15
    assert len(status["instances"]) == 3
    assert all(p.returncode == 0 for p in procs)


@pytest.mark.slow
def test_killing_one_of_three_loses_nothing(
    tmp_path: Path, pg_url: str, newsroom: tuple[Newsroom, HttpReceiver]
) -> None:
    """One of three daemons SIGKILLed 10 times: every alert arrives, duplicates <= kills."""
    room, rx = newsroom
    rng = random.Random(8)
    cfg, env = shared(tmp_path, room, rx, pg_url)
    steady = [start(cfg, env, tmp_path / f"d{i}.log") for i in range(2)]
    kills = 10
    try:
        for _ in range(kills):
            victim = start(cfg, env, tmp_path / "victim.log")
            room.publish_for(rng.uniform(1.0, 3.0), 0.3)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
        room.publish_rest()
        got = wait_all(rx, len(room.places), 60)
    finally:
        stop(steady)
    ids = [r.headers["webhook-id"] for r in rx.requests]
    duplicates = len(ids) - len(set(ids))
    print(f"instances with kills: {len(got)} alerts, {duplicates} duplicates, {kills} kills")
    assert len(got) == len(room.places)
    assert duplicates <= kills


def test_db_copy_then_postgres_alerts_on_nothing_seen(
    tmp_path: Path, pg_url: str, feeds: FeedServer
) -> None:
    """A SQLite state copied with `monitor db copy` makes PostgreSQL re-alert on nothing."""
    now = datetime.now(UTC)
    news = {
        "news": feeds.publish(
            "news",
            rss(
                story("1", "UN warns of genocide in Kenya", "", now),
                story("2", "Genocide warning for Peru", "", now),
            ),
        )
    }
    with http_receiver() as rx:
        lite = write_config(tmp_path, news, rules=GOOD_RULES, channels=WEBHOOK, name="lite.toml")
        env = env_with(MONITOR_PG_URL=pg_url, I_HOOK_URL=rx.url(), TARGET_PG=pg_url)
        assert run_monitor(["run", "--once", "-c", str(lite)], env).returncode == 0
        sent = len(rx.requests)
        copied = run_monitor(["db", "copy", "--to", "TARGET_PG", "-c", str(lite)], env)
        assert copied.returncode == 0, copied.stderr
        assert pg_url not in copied.stdout + copied.stderr
        heavy = write_config(
            tmp_path, news, rules=GOOD_RULES, channels=WEBHOOK, state=PG_STATE, name="pg.toml"
        )
        again = run_monitor(["run", "--once", "-c", str(heavy)], env)
        assert again.returncode == 0, again.stderr[-2000:]
        assert len(rx.requests) == sent == 2
        status = json.loads(run_monitor(["status", "--json", "-c", str(heavy)], env).stdout)
    assert status["store"]["engine"] == "postgres"
    assert status["outbox"]["sent"] == 2


def story_feeds(feeds: FeedServer) -> tuple[dict[str, str], dict[str, str]]:
    """The 60 reports of tests/data/stories.tsv, one per feed; and each alert id's story."""
    now = datetime.now(UTC)
    urls, stories = {}, {}
    for i, (label, title, summary) in enumerate(corpus()):
        name, guid = f"news-{i:03d}", f"{label}/{i}"
        urls[name] = feeds.publish(name, rss(story(guid, title, summary, now)))
        link = f"https://example.org/{guid}"
        stories[alert_id(Item(guid, name, title, summary, link, now, (), ()))] = label
    return urls, stories


def received(rx: HttpReceiver, stories: dict[str, str]) -> Counter[tuple[str, str]]:
    """Per story, the alerts and notices that arrived (each webhook-id once)."""
    ids = {r.headers["webhook-id"] for r in rx.requests}
    out: Counter[tuple[str, str]] = Counter()
    for i in ids:
        base, _, notice = i.partition(".")
        out[(stories[base], notice or "alert")] += 1
    return out


def settled(rx: HttpReceiver, n: int, quiet: float, timeout: float) -> None:
    """Wait for n deliveries, then for `quiet` seconds without one more."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(rx.requests)
        if count != seen:
            seen, since = count, time.monotonic()
        elif count >= n and time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)


def test_two_daemons_raise_the_alerts_one_run_raises(
    tmp_path: Path, pg_url: str, feeds: FeedServer
) -> None:
    """60 feeds, one report each, 20 stories: two `monitor run` daemons sharing PostgreSQL
    deliver, story by story, the alerts one `run --once` on SQLite delivers."""
    urls, stories = story_feeds(feeds)
    rules = REPO / "rules"
    with http_receiver() as one, http_receiver() as two:
        lite = write_config(tmp_path, urls, rules=rules, channels=WEBHOOK, name="lite.toml")
        env = env_with(MONITOR_PG_URL=pg_url, I_HOOK_URL=one.url())
        assert run_monitor(["run", "--once", "-c", str(lite)], env).returncode == 0
        reference = received(one, stories)
        cfg = write_config(
            tmp_path, urls, rules=rules, channels=WEBHOOK, state=PG_STATE, name="pg.toml"
        )
        env = env_with(MONITOR_PG_URL=pg_url, I_HOOK_URL=two.url())
        procs = [start(cfg, env, tmp_path / f"d{i}.log") for i in range(2)]
        try:
            settled(two, sum(reference.values()), 3.0, 45)
        finally:
            stop(procs)
        together = received(two, stories)
    print(f"two daemons: {sum(together.values())} alerts, one run: {sum(reference.values())}")
    assert together == reference, (together - reference, reference - together)
    assert all(p.returncode == 0 for p in procs)
