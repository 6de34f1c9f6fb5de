"""A feed longer than any cap the reader once had: every entry is read, by `test-rules` and
by a poll, and nothing is dropped without a word (issue 17, point 6b)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e import env_with, run_monitor
from tests.feedfiles import item, rss, write_config
from tests.feedserver import FeedServer, Response

ENTRIES = 739  # the length of the real archive feed that lost its last 239 entries


def long_feed() -> bytes:
    """739 items; the last one is the only massacre report."""
    quiet = [item(f"Weather report {i}", guid=f"w{i}", link=f"/w{i}") for i in range(ENTRIES - 1)]
    last = item("Massacre reported in the last entry", guid="last", link="/last")
    return rss(*quiet, last)


def test_test_rules_prints_every_item_of_a_739_item_file(tmp_path: Path) -> None:
    """`test-rules --json` prints one object per item, all 739, and the last one matches."""
    feed = tmp_path / "archive.xml"
    feed.write_bytes(long_feed())
    cfg = write_config(tmp_path, {})
    out = run_monitor(["test-rules", "-c", str(cfg), "--json", str(feed)], env_with())
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == ENTRIES
    assert lines[-1]["title"] == "Massacre reported in the last entry"
    assert [m["rule"] for m in lines[-1]["matches"]] == ["massacre"]


def test_a_polled_739_item_feed_records_and_alerts_past_the_500th(
    feeds: FeedServer, tmp_path: Path
) -> None:
    """`run --once` over the long feed: all 739 items seen, the 739th alerts."""
    url = feeds.serve("/archive.xml", Response(body=long_feed()))
    cfg = write_config(tmp_path, {"archive": url})
    run = run_monitor(["run", "--once", "-c", str(cfg)], env_with(), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Massacre reported in the last entry" in run.stdout
    status = run_monitor(["status", "--json", "-c", str(cfg)], env_with(), cwd=tmp_path)
    assert json.loads(status.stdout)["feeds"][0]["items_seen"] == ENTRIES
