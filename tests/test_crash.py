"""Crash safety: SIGKILL the daemon at random moments; nothing is lost, resends stay rare."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from channel_servers import http_receiver

from tests.e2e import MONITOR, PLACES, REPO, Newsroom, env_with, feed_site, write_config

RULES = Path(__file__).parent / "data" / "rules_fixtures" / "good"
KILLS = 20
WEBHOOK = """[[channels]]
name = "ops"
type = "webhook"
url_env = "CRASH_HOOK_URL"
min_severity = "info"
"""


@pytest.mark.slow
def test_sigkill_loses_nothing_and_repeats_at_most_once_per_kill(tmp_path: Path) -> None:
    """20 SIGKILLs at random moments: every alert arrives, duplicates <= one per kill."""
    rng = random.Random(20261125)
    with (
        feed_site() as site,
        http_receiver() as rx,
        (tmp_path / "daemon.log").open("w") as log,
    ):
        room = Newsroom(site, 4)
        cfg = write_config(
            tmp_path / "config.toml",
            room.urls(),
            rules=RULES,
            channels=WEBHOOK,
            interval="1s",
        )
        env = env_with(CRASH_HOOK_URL=rx.url())
        for _ in range(KILLS):
            proc = subprocess.Popen(
                [*MONITOR, "run", "-c", str(cfg)], env=env, cwd=REPO, stdout=log, stderr=log
            )
            deadline = time.monotonic() + rng.uniform(0.8, 3.0)
            while time.monotonic() < deadline:
                if rng.random() < 0.5:
                    room.publish()
                time.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        while room.publish():
            pass
        final = subprocess.Popen(
            [*MONITOR, "run", "-c", str(cfg)], env=env, cwd=REPO, stdout=log, stderr=log
        )
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
    print(f"crash test: {len(counts)} alerts, {duplicates} duplicates over {KILLS} kills")
    assert len(counts) == len(PLACES), f"{len(counts)} of {len(PLACES)} alerts arrived"
    assert duplicates <= KILLS, counts.most_common(3)
    assert final.returncode == 0
