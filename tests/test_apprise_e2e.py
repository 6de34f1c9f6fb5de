"""`monitor` with an Apprise channel, as a process: a `json://` URL pointing at a loopback
receiver gets the alerts, keeps them queued while the receiver is down (status shows
them), and `send-test` reports each URL's answer; no output ever holds the URL's token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.channel_servers import Reply, http_receiver
from tests.e2e import env_with, run_monitor
from tests.feedfiles import rss, story, write_config
from tests.feedserver import FeedServer
from tests.loopback import closed_port

TOKEN = "T0KEN-apprise-e2e-5c4b3a"
FIELD = """[[channels]]
name = "field"
type = "apprise"
url_env = "FIELD_URLS"
timeout = "2s"
rate_limit = "0s"
"""
PLACES = ("Kenya", "Peru", "Chile")


def url(port: int) -> str:
    return f"json://127.0.0.1:{port}/hook/{TOKEN}"


def assert_clean(*outputs: str) -> None:
    for text in outputs:
        assert TOKEN not in text and "json://" not in text, text


def newsroom(tmp_path: Path, feeds: FeedServer) -> Path:
    """Three distinct stories (three alerts) on one feed, and a config routing them to field."""
    t = datetime.now(UTC) - timedelta(hours=1)
    items = [story(f"g{i}", f"Massacre reported in {p}", "Villagers killed.", t) for i, p in
             enumerate(PLACES)]  # fmt: skip
    return write_config(tmp_path, {"news": feeds.publish("news", rss(*items))}, channels=FIELD)


def titles(requests_: list) -> list[str]:
    return [json.loads(r.body)["title"] for r in requests_]


def test_alerts_stay_queued_while_the_receiver_is_down_then_arrive_once(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """Receiver down: run --once exits 1, status lists three pending rows for field/json;
    receiver back at the same address: the next run delivers each alert once, in order."""
    cfg = newsroom(tmp_path, feeds)
    port = closed_port()
    env = env_with(FIELD_URLS=url(port))
    first = run_monitor(["run", "--once", "-c", str(cfg)], env)
    status = run_monitor(["status", "--json", "-c", str(cfg)], env)
    human = run_monitor(["status", "-c", str(cfg)], env)
    data = json.loads(status.stdout)
    assert first.returncode == 1, first.stderr[-2000:]
    assert data["outbox"]["pending"] == 3
    assert {q["channel"] for q in data["pending"]} == {"field/json"}
    assert "unreachable" in data["pending"][0]["last_error"]
    assert "-> field/json" in human.stdout
    with http_receiver(port=port) as rx:
        run_monitor(["retry", "-c", str(cfg)], env)
        second = run_monitor(["run", "--once", "-c", str(cfg)], env)
        third = run_monitor(["run", "--once", "-c", str(cfg)], env)
        got = titles(rx.requests)
    assert second.returncode == 0 and third.returncode == 0, second.stderr[-2000:]
    assert len(got) == 3 and len(set(got)) == 3
    queued = [q["title"] for q in data["pending"]]  # in the order the alerts were created
    assert [place(t) for t in got] == [place(t) for t in queued]
    assert_clean(first.stdout, first.stderr, status.stdout, human.stdout, second.stderr)


def place(title: str) -> str:
    return next(p for p in PLACES if p in title)


def test_send_test_tells_each_urls_answer(tmp_path: Path, feeds: FeedServer) -> None:
    """One URL accepts, one answers 500, one is unreachable: one line each, exit 1."""
    cfg = newsroom(tmp_path, feeds)
    with http_receiver() as ok, http_receiver(default=Reply(500, TOKEN.encode())) as bad:
        env = env_with(FIELD_URLS=f"{url(ok.port)}, {url(bad.port)}, {url(closed_port())}")
        out = run_monitor(["send-test", "-c", str(cfg)], env)
        only = run_monitor(["send-test", "--channel", "field/json", "-c", str(cfg)], env)
        unknown = run_monitor(["send-test", "--channel", "teams", "-c", str(cfg)], env)
        received = titles(ok.requests)
    lines = out.stdout.splitlines()
    assert out.returncode == 1, out.stderr[-2000:]
    assert lines[0] == "field/json: ok delivered by apprise 'field/json'", lines
    assert lines[1] == "field/json-2: FAILED (retryable): HTTP 500 from apprise 'field/json-2'"
    assert lines[2].startswith("field/json-3: FAILED (retryable): apprise 'field/json-3' unreach")
    assert only.returncode == 0 and only.stdout.count("\n") == 1
    assert unknown.returncode == 2 and "configured: field" in unknown.stderr
    assert received == ["[INFO] TEST: TEST ALERT from monitor: please ignore"] * 2
    assert_clean(out.stdout, out.stderr, only.stdout, unknown.stderr)
