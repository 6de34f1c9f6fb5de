"""Crash safety: SIGKILL the daemon at random moments; nothing is lost, resends stay rare."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from channel_servers import http_receiver

from tests.e2e import MONITOR, REPO, env_with, feed_site, rss, write_config

RULES = Path(__file__).parent / "data" / "rules_fixtures" / "good"
COUNTRIES = [
    "Kenya",
    "Peru",
    "Chile",
    "Nepal",
    "Ghana",
    "Norway",
    "Bolivia",
    "Angola",
    "Zambia",
    "Uruguay",
    "Mongolia",
    "Finland",
    "Canada",
    "Austria",
    "Portugal",
    "Malawi",
    "Senegal",
    "Tunisia",
    "Ecuador",
    "Paraguay",
    "Botswana",
    "Namibia",
    "Lesotho",
    "Jamaica",
    "Iceland",
    "Estonia",
    "Latvia",
    "Lithuania",
    "Croatia",
    "Slovenia",
    "Albania",
    "Armenia",
    "Belize",
    "Bhutan",
    "Brunei",
    "Cambodia",
    "Denmark",
    "Fiji",
    "Gabon",
    "Guyana",
]
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
    feeds = [f"feed-{i}" for i in range(4)]
    entries: dict[str, list[tuple[str, str, str, datetime]]] = {f: [] for f in feeds}
    published = 0

    def publish(site) -> None:  # type: ignore[no-untyped-def]
        nonlocal published
        if published >= len(COUNTRIES):
            return
        feed = feeds[published % len(feeds)]
        country = COUNTRIES[published]
        entries[feed].append(
            (
                f"{feed}-{published}",
                f"UN warns of genocide in {country}",
                f"Officials describe genocidal attacks in {country}.",
                datetime.now(UTC),
            )
        )
        site.set(feed, rss(entries[feed]))
        published += 1

    with (
        feed_site() as site,
        http_receiver() as rx,
        (tmp_path / "daemon.log").open("w") as log,
    ):
        for f in feeds:
            site.set(f, rss([]))
        cfg = write_config(
            tmp_path / "config.toml",
            {f: site.url(f) for f in feeds},
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
                    publish(site)
                time.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        while published < len(COUNTRIES):
            publish(site)
        final = subprocess.Popen(
            [*MONITOR, "run", "-c", str(cfg)], env=env, cwd=REPO, stdout=log, stderr=log
        )
        try:
            started = time.monotonic()
            deadline = started + 60
            while time.monotonic() < deadline:
                got = {json.loads(r.body)["id"] for r in rx.requests}
                if len(got) >= len(COUNTRIES) and time.monotonic() - started > 4:
                    break  # (and give the daemon time to install its signal handlers)
                time.sleep(0.5)
        finally:
            final.send_signal(signal.SIGTERM)
            final.wait(30)
        ids = [r.headers["webhook-id"] for r in rx.requests]
    counts = Counter(ids)
    duplicates = sum(n - 1 for n in counts.values())
    print(f"crash test: {len(counts)} alerts, {duplicates} duplicates over {KILLS} kills")
    assert len(counts) == len(COUNTRIES), f"{len(counts)} of {len(COUNTRIES)} alerts arrived"
    assert duplicates <= KILLS, counts.most_common(3)
    assert final.returncode == 0
