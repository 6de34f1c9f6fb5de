"""`monitor status` lists each delivery still to send: alert, channel, attempts, last error
and next attempt, in the table and in --json."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.channel_servers import Reply, http_receiver
from tests.e2e import env_with, run_monitor
from tests.feedfiles import rss, story, webhook, write_config
from tests.feedserver import FeedServer

TITLE = "Massacre reported in Kenya"


def test_status_shows_each_pending_delivery(tmp_path: Path, feeds: FeedServer) -> None:
    """After a run whose receiver answered 503, the operator sees which alert waits for which
    channel, how often it was tried, why it failed and when it goes again."""
    published = datetime.now(UTC) - timedelta(hours=1)
    url = feeds.publish("news", rss(story("g1", TITLE, "Villagers killed.", published)))
    cfg = write_config(tmp_path, {"news": url}, channels=webhook("OPS_HOOK_URL"))
    with http_receiver(default=Reply(503, b"busy")) as rx:
        env = env_with(OPS_HOOK_URL=rx.url())
        assert run_monitor(["run", "--once", "-c", str(cfg)], env).returncode == 1
    before = datetime.now(UTC)
    shown = run_monitor(["status", "--json", "-c", str(cfg)], env)
    assert shown.returncode == 0, shown.stderr
    (row,) = json.loads(shown.stdout)["pending"]
    assert row["title"] == TITLE and row["alert_id"] and row["channel"] == "ops"
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"] == "HTTP 503 from webhook 'ops': busy"
    next_attempt = datetime.fromisoformat(row["next_attempt"].replace("Z", "+00:00"))
    assert before < next_attempt < before + timedelta(minutes=5)
    table = run_monitor(["status", "-c", str(cfg)], env).stdout
    line = next(x for x in table.splitlines() if x.startswith("pending: "))
    assert row["alert_id"] in line and TITLE in line and "-> ops" in line
    assert "1 attempts" in line and "HTTP 503" in line and "next in " in line
