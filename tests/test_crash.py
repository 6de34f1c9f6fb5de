"""Crash safety: SIGKILL the daemon at random moments; nothing is lost, resends stay rare."""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.channel_servers import http_receiver
from tests.e2e import PLACES, Newsroom, env_with, start_daemon
from tests.feedfiles import GOOD_RULES, webhook, write_config
from tests.feedserver import FeedServer

KILLS = 50
# About one story per two kills: stories keep appearing until the last kills.
PUBLISH_CHANCE = 0.1
WEBHOOK = webhook("CRASH_HOOK_URL")


@pytest.mark.slow
def test_sigkill_loses_nothing_and_repeats_at_most_once_per_kill(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """50 SIGKILLs at random moments while the feeds publish: every alert arrives, at most
    one resend per kill, and a resend carries the webhook-id of the first send."""
    rng = random.Random(20261125)
    began = time.monotonic()
    with http_receiver() as rx, (tmp_path / "daemon.log").open("w") as log:
        room = Newsroom(feeds, 4)
        cfg = write_config(tmp_path, room.urls(), rules=GOOD_RULES, channels=WEBHOOK, interval="1s")
        env = env_with(CRASH_HOOK_URL=rx.url())
        for _ in range(KILLS):
            proc = start_daemon(cfg, env, log)
            room.publish_for(rng.uniform(0.8, 3.0), 0.2, lambda: rng.random() < PUBLISH_CHANCE)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        room.publish_rest()
        final = start_daemon(cfg, env, log)
        try:
            started = time.monotonic()
            deadline = started + 60
            while time.monotonic() < deadline:
                got = {json.loads(r.body)["id"] for r in rx.requests}
                if len(got) >= len(PLACES) and time.monotonic() - started > 4:
                    break  # (and give the daemon time to install its signal handlers)
                time.sleep(0.5)
        finally:
            final.send_signal(signal.SIGTERM)
            final.wait(30)
        ids = [r.headers["webhook-id"] for r in rx.requests]
    counts = Counter(ids)
    duplicates = sum(n - 1 for n in counts.values())
    took = time.monotonic() - began
    print(f"crash test: {len(counts)} alerts, {duplicates} resends over {KILLS} kills, {took:.0f}s")
    hooks: dict[str, set[str]] = {}
    for r in rx.requests:  # every send of one alert, resends too, under its own webhook-id
        hooks.setdefault(json.loads(r.body)["id"], set()).add(r.headers["webhook-id"])
    assert all(h == {alert} for alert, h in hooks.items()), hooks
    assert len(counts) == len(PLACES), f"{len(counts)} of {len(PLACES)} alerts arrived"
    assert duplicates <= KILLS, counts.most_common(3)
    assert final.returncode == 0
