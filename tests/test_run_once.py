"""`monitor run --once` as a process against loopback feeds: failures, restarts, status."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e import env_with, run_monitor
from tests.feedfiles import item, rss, write_config
from tests.feedserver import FeedServer, Response

FIRST = item("Massacre reported in the village of Tawila", guid="1", link="/1")
QUIET = item("Weather in Geneva", guid="2", link="/2")
SECOND = item("Second massacre near El Fasher", guid="3", link="/3")


def monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`monitor <args> -c config` run from the config's folder, no MONITOR_CONFIG inherited."""
    env = env_with()
    env.pop("MONITOR_CONFIG", None)
    return run_monitor([*args, "-c", str(config)], env, cwd=config.parent)


def status(config: Path) -> dict[str, Any]:
    out = monitor(config, "status", "--json")
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return {f["name"]: f for f in data["feeds"]}


def test_failing_feed_does_not_stop_the_good_one(feeds: FeedServer, tmp_path: Path):
    """A good and a failing feed: good items recorded and alerted, exit 1, failure in status."""
    good = feeds.serve("/good.xml", Response(body=rss(FIRST, QUIET)))
    bad = feeds.serve("/bad.xml", Response(500))
    config = write_config(tmp_path, {"good": good, "bad": bad})
    run = monitor(config, "run", "--once")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "Massacre reported in the village of Tawila" in run.stdout
    feeds_now = status(config)
    assert feeds_now["good"]["items_seen"] == 2 and feeds_now["good"]["last_success"]
    assert feeds_now["good"]["consecutive_failures"] == 0
    assert feeds_now["bad"]["consecutive_failures"] == 1
    assert feeds_now["bad"]["last_error"] == "HTTP 500"
    assert feeds_now["bad"]["next_poll"] and not feeds_now["bad"]["last_success"]


def test_second_run_finds_nothing_new(feeds: FeedServer, tmp_path: Path):
    """Run twice on one state file: the second sends validators, prints nothing, exits 0."""
    url = feeds.serve("/f.xml", Response(body=rss(FIRST, QUIET), etag='"v1"'))
    config = write_config(tmp_path, {"f": url})
    first = monitor(config, "run", "--once")
    assert first.returncode == 0, first.stderr
    assert "Tawila" in first.stdout
    second = monitor(config, "run", "--once")
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert feeds.requests("/f.xml")[1].headers.get("if-none-match") == '"v1"'
    assert '"feed.not_modified"' in second.stderr
    assert status(config)["f"]["items_seen"] == 2


def test_items_seen_before_restart_are_not_new_after(feeds: FeedServer, tmp_path: Path):
    """Without validators, a restarted monitor announces only the item added meanwhile."""
    url = feeds.serve("/f.xml", Response(body=rss(FIRST, QUIET)))
    config = write_config(tmp_path, {"f": url})
    assert monitor(config, "run", "--once").returncode == 0
    feeds.serve("/f.xml", Response(body=rss(SECOND, FIRST, QUIET)))
    again = monitor(config, "run", "--once")
    assert again.returncode == 0, again.stderr
    assert "Second massacre near El Fasher" in again.stdout
    assert "Tawila" not in again.stdout
    assert status(config)["f"]["items_seen"] == 3


def test_hung_parse_fails_its_feed_only(feeds: FeedServer, tmp_path: Path):
    """A feed whose parse overruns parse_timeout fails; the other feed in the run succeeds.
    (feedparser#562's 1 MB <author>, with a DOCTYPE that sends it to feedparser: the lxml
    fast path reads the well-formed document in milliseconds.)"""
    hostile = rss(item("x", guid="h", extra="<author>" + "a" * 2**20 + "</author>"))
    hostile = hostile.replace(b"?>", b"?><!DOCTYPE rss>", 1)
    urls = {
        "hostile": feeds.serve("/h.xml", Response(body=hostile)),
        "good": feeds.serve("/g.xml", Response(body=rss(FIRST))),
    }
    config = write_config(tmp_path, urls, defaults='parse_timeout = "2s"')
    run = monitor(config, "run", "--once")
    assert run.returncode == 1, run.stderr
    assert "Tawila" in run.stdout
    now = status(config)
    assert "deadline" in now["hostile"]["last_error"]
    assert now["good"]["items_seen"] == 1 and now["good"]["consecutive_failures"] == 0
