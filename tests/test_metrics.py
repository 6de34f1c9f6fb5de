"""Observability: Prometheus /metrics and /healthz from a running daemon."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import requests

from tests.e2e import daemon, env_with, wait_for
from tests.feedfiles import CONSOLE, GOOD_RULES, rss, story, write_config
from tests.feedserver import FeedServer
from tests.loopback import closed_port


def test_metrics_and_healthz(tmp_path: Path, feeds: FeedServer) -> None:
    """/metrics counts polls by feed and outcome and alerts; /healthz answers 200 while up."""
    port = closed_port()
    url = feeds.publish(
        "news", rss(story("1", "UN warns of genocide in Kenya", "", datetime.now(UTC)))
    )
    channels = f'{CONSOLE}\n[metrics]\nlisten = "127.0.0.1:{port}"\n'
    cfg = write_config(tmp_path, {"news": url}, rules=GOOD_RULES, channels=channels, interval="1s")
    base = f"http://127.0.0.1:{port}"
    with daemon(cfg, env_with(), tmp_path / "d.log") as proc:
        assert wait_for(lambda: "monitor_alerts_created_total" in _get(base + "/metrics"))
        assert wait_for(lambda: 'outcome="not_modified"' in _get(base + "/metrics"))
        text = _get(base + "/metrics")
        health = requests.get(base + "/healthz", timeout=5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
    assert 'monitor_polls_total{feed="news",outcome="fetched"} 1.0' in text
    assert 'monitor_alerts_created_total{kind="match"} 1.0' in text
    assert "monitor_fetch_duration_seconds_bucket" in text
    assert 'monitor_feed_last_success_timestamp_seconds{feed="news"}' in text
    assert health.status_code == 200


def _get(url: str) -> str:
    try:
        return requests.get(url, timeout=5).text
    except requests.RequestException:
        return ""
