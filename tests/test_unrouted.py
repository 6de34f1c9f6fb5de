"""An alert that routes to no channel is never silent: logged `alert.unrouted` with its id
and why, counted in /metrics and shown by `monitor status` (issue 17, point 1)."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client import generate_latest

from tests.e2e import env_with, events, run_monitor
from tests.feedfiles import item, rss, write_config
from tests.feedserver import FeedServer, Response
from tests.runtimes import poll, runtime_of

# A valid channel that only takes alerts about Sudan: a massacre in Kenya goes nowhere.
SUDAN_ONLY = '[[channels]]\nname = "sudan"\ntype = "console"\ncolor = false\ncountries = ["SD"]\n'
KENYA = item("Massacre reported in Kenya", guid="k1", link="/k1")


def test_run_once_logs_and_status_shows_an_alert_no_channel_takes(
    feeds: FeedServer, tmp_path: Path
) -> None:
    url = feeds.serve("/news.xml", Response(body=rss(KENYA)))
    cfg = write_config(tmp_path, {"news": url}, channels=SUDAN_ONLY)
    run = run_monitor(["run", "--once", "-c", str(cfg)], env_with(), cwd=tmp_path)
    log = tmp_path / "run.log"
    log.write_text(run.stdout + run.stderr)
    created = [e for e in events(log) if e["event"] == "alert.created"]
    unrouted = [e for e in events(log) if e["event"] == "alert.unrouted"]
    assert len(created) == 1
    assert unrouted and unrouted[0]["alert"] == created[0]["alert"]
    assert unrouted[0]["level"] == "warning" and "filters" in str(unrouted[0]["why"])

    status = run_monitor(["status", "--json", "-c", str(cfg)], env_with(), cwd=tmp_path)
    data = json.loads(status.stdout)
    assert data["outbox"]["unrouted"] == 1
    assert [u["id"] for u in data["unrouted"]] == [created[0]["alert"]]
    assert data["unrouted"][0]["title"] == "Massacre reported in Kenya"
    text = run_monitor(["status", "-c", str(cfg)], env_with(), cwd=tmp_path).stdout
    assert "unrouted: 1 alerts went to no channel" in text


def test_metrics_count_unrouted_alerts(feeds: FeedServer, tmp_path: Path) -> None:
    url = feeds.serve("/news.xml", Response(body=rss(KENYA)))
    cfg = write_config(tmp_path, {"news": url}, channels=SUDAN_ONLY)
    with runtime_of(cfg) as rt:
        poll(rt)
        exported = generate_latest(rt.metrics.registry).decode()
    assert "monitor_alerts_unrouted_total 1.0" in exported
