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
from channel_servers import http_receiver

from tests import pg
from tests.e2e import (
    MONITOR,
    PLACES,
    REPO,
    Newsroom,
    env_with,
    feed_site,
    rss,
    run_monitor,
    write_config,
)

RULES = Path(__file__).parent / "data" / "rules_fixtures" / "good"
PG_STATE = 'url_env = "MONITOR_PG_URL"'
WEBHOOK = """[[channels]]
name = "ops"
type = "webhook"
url_env = "I_HOOK_URL"
min_severity = "info"
"""


@pytest.fixture
def pg_url(pg_server: pg.PgServer) -> str:
    return pg_server.new_database()


def start(cfg: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    proc = subprocess.Popen(
        [*MONITOR, "run", "-c", str(cfg)], env=env, cwd=REPO, stdout=out, stderr=out
    )
    out.close()
    return proc


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
def newsroom() -> Iterator[tuple[Newsroom, object]]:
    with feed_site() as site, http_receiver() as rx:
        yield Newsroom(site, 30, PLACES[:30]), rx


def wait_all(rx: object, n: int, timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    got: set[str] = set()
    while time.monotonic() < deadline:
        got = {r.headers["webhook-id"] for r in rx.requests}  # type: ignore[attr-defined]
        if len(got) >= n:
            break
        time.sleep(0.3)
    return got


def test_three_instances_share_polling_without_duplicates(
    tmp_path: Path, pg_url: str, newsroom: tuple[Newsroom, object]
) -> None:
    """Three daemons: each feed fetched about once per interval in total, each alert once."""
    room, rx = newsroom
    interval = 2.0
    cfg = write_config(
        tmp_path / "config.toml",
        room.urls(),
        rules=RULES,
        channels=WEBHOOK,
        interval="2s",
        state=PG_STATE,
    )
    env = env_with(MONITOR_PG_URL=pg_url, I_HOOK_URL=rx.url())  # type: ignore[attr-defined]
    procs = [start(cfg, env, tmp_path / f"d{i}.log") for i in range(3)]
    try:
        time.sleep(3)
        room.site.hits.clear()
        began = time.monotonic()
        while room.publish():
            time.sleep(0.4)
        time.sleep(max(0.0, 16 - (time.monotonic() - began)))
        elapsed = time.monotonic() - began
        fetches = sum(room.site.hits.values())
        got = wait_all(rx, len(room.places), 30)
        status = json.loads(run_monitor(["status", "--json", "-c", str(cfg)], env).stdout)
    finally:
        stop(procs)
    ids = [r.headers["webhook-id"] for r in rx.requests]  # type: ignore[attr-defined]
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
    tmp_path: Path, pg_url: str, newsroom: tuple[Newsroom, object]
) -> None:
    """One of three daemons SIGKILLed 10 times: every alert arrives, duplicates <= kills."""
    room, rx = newsroom
    rng = random.Random(8)
    cfg = write_config(
        tmp_path / "config.toml",
        room.urls(),
        rules=RULES,
        channels=WEBHOOK,
        interval="2s",
        state=PG_STATE,
    )
    env = env_with(MONITOR_PG_URL=pg_url, I_HOOK_URL=rx.url())  # type: ignore[attr-defined]
    steady = [start(cfg, env, tmp_path / f"d{i}.log") for i in range(2)]
    kills = 10
    try:
        for _ in range(kills):
            victim = start(cfg, env, tmp_path / "victim.log")
            end = time.monotonic() + rng.uniform(1.0, 3.0)
            while time.monotonic() < end:
                room.publish()
                time.sleep(0.3)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
        while room.publish():
            pass
        got = wait_all(rx, len(room.places), 60)
    finally:
        stop(steady)
    ids = [r.headers["webhook-id"] for r in rx.requests]  # type: ignore[attr-defined]
    duplicates = len(ids) - len(set(ids))
    print(f"instances with kills: {len(got)} alerts, {duplicates} duplicates, {kills} kills")
    assert len(got) == len(room.places)
    assert duplicates <= kills


def test_db_copy_then_postgres_alerts_on_nothing_seen(tmp_path: Path, pg_url: str) -> None:
    """A SQLite state copied with `monitor db copy` makes PostgreSQL re-alert on nothing."""
    now = datetime.now(UTC)
    with feed_site() as site, http_receiver() as rx:
        site.set(
            "news",
            rss(
                [
                    ("1", "UN warns of genocide in Kenya", "", now),
                    ("2", "Genocide warning for Peru", "", now),
                ]
            ),
        )
        lite = write_config(
            tmp_path / "lite.toml", {"news": site.url("news")}, rules=RULES, channels=WEBHOOK
        )
        env = env_with(MONITOR_PG_URL=pg_url, I_HOOK_URL=rx.url(), TARGET_PG=pg_url)
        assert run_monitor(["run", "--once", "-c", str(lite)], env).returncode == 0
        sent = len(rx.requests)
        copied = run_monitor(["db", "copy", "--to", "TARGET_PG", "-c", str(lite)], env)
        assert copied.returncode == 0, copied.stderr
        assert pg_url not in copied.stdout + copied.stderr
        heavy = write_config(
            tmp_path / "pg.toml",
            {"news": site.url("news")},
            rules=RULES,
            channels=WEBHOOK,
            state=PG_STATE,
        )
        again = run_monitor(["run", "--once", "-c", str(heavy)], env)
        assert again.returncode == 0, again.stderr[-2000:]
        assert len(rx.requests) == sent == 2
        status = json.loads(run_monitor(["status", "--json", "-c", str(heavy)], env).stdout)
    assert status["store"]["engine"] == "postgres"
    assert status["outbox"]["sent"] == 2
