"""The state store failing or swapped under a running daemon, as an operator meets it: a poll
that cannot be stored is a failed poll (status, metrics, backoff), /healthz answers 503 with
the reason while the store cannot write, and read-only commands never create state (issue 17,
points 4 and 5)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from monitor.service.daemon import Daemon
from monitor.service.runtime import build, load
from monitor.store.sqlite import SqliteStore
from tests.e2e import daemon, env_with, events, run_monitor, wait_for
from tests.feedfiles import CONSOLE, item, rss, write_config
from tests.feedserver import FeedServer
from tests.loopback import closed_port

FULL = "database or disk is full"
QUIET = [item(f"Weather report {i} " + "x" * 200, guid=f"w{i}") for i in range(300)]
MASSACRE = item("Massacre reported near the river", guid="m1", link="/m1")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def with_metrics(folder: Path, feeds: dict[str, str]) -> tuple[Path, str]:
    port = closed_port()
    listen = f'\n[metrics]\nlisten = "127.0.0.1:{port}"\n'
    cfg = write_config(folder, feeds, channels=CONSOLE + listen, interval="1h")
    return cfg, f"http://127.0.0.1:{port}"


def page_limit(store: object, pages: int) -> None:
    """Failure injection: the daemon's own connection may not grow the database past `pages`
    (SQLite keeps it at the current size when asked for less): a real 'disk full'."""
    assert isinstance(store, SqliteStore)
    with store._lock:
        store._conn.execute(f"PRAGMA max_page_count = {pages}")


def feed_status(cfg: Path) -> dict[str, object]:
    out = run_monitor(["status", "--json", "-c", str(cfg)], env_with(), cwd=cfg.parent)
    assert out.returncode == 0, out.stderr
    feed: dict[str, object] = json.loads(out.stdout)["feeds"][0]
    return feed


def test_a_full_state_store_fails_polls_visibly_and_healthz_follows_it(
    feeds: FeedServer, tmp_path: Path
) -> None:
    url = feeds.publish("news", rss(item("Weather in Geneva", guid="g0")))
    cfg, base = with_metrics(tmp_path, {"news": url})
    rt = build(load(cfg), parse_workers=0)
    d = Daemon(rt, cfg)
    d.start()
    try:
        assert wait_for(lambda: rt.store.feed_state("news").last_success is not None)
        assert get(f"{base}/healthz") == (200, "ok\n")
        page_limit(rt.store, 1)
        code, body = get(f"{base}/healthz")
        assert code == 503 and FULL in body, body

        feeds.publish("news", rss(*QUIET, MASSACRE))
        spec = rt.config.feeds[0]
        before = datetime.now().astimezone()
        polled = rt.poller.poll_claimed(spec, due_only=False)
        assert polled is not None and polled[0].outcome == "failed"
        shown = feed_status(cfg)
        assert shown["last_error"] == f"state store: {FULL}"
        assert shown["consecutive_failures"] == 1
        next_poll = datetime.fromisoformat(str(shown["next_poll"]).replace("Z", "+00:00"))
        assert (next_poll - before).total_seconds() > 3600  # backed off past the interval
        metrics = get(f"{base}/metrics")[1]
        assert 'monitor_polls_total{feed="news",outcome="failed"} 1.0' in metrics

        page_limit(rt.store, 1_000_000)
        assert get(f"{base}/healthz") == (200, "ok\n")
        polled = rt.poller.poll_claimed(spec, due_only=False)
        assert polled is not None and polled[0].outcome == "fetched"
        assert len(polled[1].created) == 1  # nothing of the failed poll was lost
        shown = feed_status(cfg)
        assert shown["consecutive_failures"] == 0 and shown["items_seen"] == 302
    finally:
        d.shutdown()


def test_a_state_file_replaced_under_the_daemon_is_noticed(
    feeds: FeedServer, tmp_path: Path
) -> None:
    url = feeds.publish("news", rss(item("Weather in Geneva", guid="g0")))
    cfg, base = with_metrics(tmp_path, {"news": url})
    log = tmp_path / "daemon.log"
    with daemon(cfg, env_with(), log) as proc:
        assert wait_for(lambda: any(e["event"] == "feed.fetched" for e in events(log)))
        assert get(f"{base}/healthz") == (200, "ok\n")
        state = tmp_path / "state.db"
        shutil.copy(state, tmp_path / "restored.db")
        os.replace(tmp_path / "restored.db", state)  # e.g. a backup restored in place
        code, body = get(f"{base}/healthz")
        assert code == 503 and "replaced" in body and str(state.resolve()) in body
        # within a heartbeat (15 s): said loudly in the log
        assert wait_for(
            lambda: any(e["event"] == "store.replaced" for e in events(log)), timeout=40
        )
        proc.send_signal(signal.SIGTERM)
        proc.wait(40)
    replaced = next(e for e in events(log) if e["event"] == "store.replaced")
    assert replaced["level"] == "error" and str(state.resolve()) in str(replaced["problem"])


def test_a_deleted_state_file_refuses_writes_that_would_be_lost(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    try:
        assert store.replaced() is None and store.write_problem() is None
        (tmp_path / "state.db").unlink()
        assert "deleted" in (store.write_problem() or "")
    finally:
        store.close()


def test_read_only_commands_never_create_state(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, {"news": "http://127.0.0.1:9/news.xml"})
    state = tmp_path / "state.db"
    env = env_with(DST_DB="postgresql://127.0.0.1:9/none")
    for command in (["status"], ["status", "--json"], ["retry"], ["db", "copy", "--to", "DST_DB"]):
        out = run_monitor([*command, "-c", str(cfg)], env, cwd=tmp_path)
        assert out.returncode == 2, (command, out.stdout, out.stderr)
        assert str(state.resolve()) in out.stderr and "no state database" in out.stderr
        assert not state.exists(), command
