"""The daemon as an operator runs it: start, poll on schedule, SIGHUP reload, SIGTERM stop."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime
from pathlib import Path

from tests.channel_servers import http_receiver
from tests.e2e import REPO, daemon, env_with, events, run_monitor, wait_for
from tests.feedfiles import GOOD_RULES, rss, story, webhook, write_config
from tests.feedserver import FeedServer, Response
from tests.loopback import closed_port

WEBHOOK = webhook("D_HOOK_URL")


def test_sighup_reload_keeps_old_rules_on_error_and_sigterm_stops_cleanly(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """A broken rule file on SIGHUP is refused (old rules stay); SIGTERM exits 0, cleanly."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.toml").write_text((GOOD_RULES / "atrocity.toml").read_text())
    now = datetime.now(UTC)
    kenya = story("1", "UN warns of genocide in Kenya", "", now)
    peru = story("2", "Genocide warning for Peru", "", now)
    with http_receiver() as rx:
        url = feeds.publish("news", rss(kenya))
        cfg = write_config(tmp_path, {"news": url}, rules=rules, channels=WEBHOOK, interval="1s")
        env = env_with(D_HOOK_URL=rx.url())
        log = tmp_path / "daemon.log"
        with daemon(cfg, env, log) as proc:
            assert wait_for(lambda: len(rx.requests) == 1)
            (rules / "b.toml").write_text('[[rules]]\nid = "x"\nseverity = "severe"\n')
            proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: any(e["event"] == "config.reload_failed" for e in events(log)))
            feeds.publish("news", rss(kenya, peru))
            assert wait_for(lambda: len(rx.requests) == 2), "old rules stopped working"
            (rules / "b.toml").unlink()
            proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: any(e["event"] == "config.reloaded" for e in events(log)))
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(40) == 0
    failed = next(e for e in events(log) if e["event"] == "config.reload_failed")
    assert "b.toml" in json.dumps(failed) and "severe" in json.dumps(failed)
    stopped = [e for e in events(log) if e["event"] == "daemon.stopped"]
    assert stopped and stopped[0]["clean"] is True


def test_network_down_every_feed_fails_and_daemon_stays_up(tmp_path: Path) -> None:
    """With every feed unreachable the daemon logs failures, backs off, and keeps running."""
    port = closed_port()
    dead = {f"dead-{i}": f"http://127.0.0.1:{port}/feed{i}.xml" for i in range(3)}
    cfg = write_config(tmp_path, dead, rules=GOOD_RULES, interval="1s")
    log = tmp_path / "daemon.log"
    with daemon(cfg, env_with(), log) as proc:
        assert wait_for(lambda: sum(e["event"] == "feed.failed" for e in events(log)) >= 6)
        assert proc.poll() is None
        status = run_monitor(["status", "--json", "-c", str(cfg)], env_with(), timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
    data = json.loads(status.stdout)
    assert all(f["consecutive_failures"] >= 1 and f["last_error"] for f in data["feeds"])
    fails = [e for e in events(log) if e["event"] == "feed.failed" and e["feed"] == "dead-0"]
    gaps = [datetime.fromisoformat(str(e["next_poll"])) for e in fails]
    assert gaps == sorted(gaps)  # backoff moves the next poll later each time


def test_shipped_config_is_valid() -> None:
    """The repository's config.toml passes `monitor check` (what `make run` starts with)."""
    out = run_monitor(["check", "-c", str(REPO / "config.toml")], env_with())
    assert out.returncode == 0, out.stderr
    assert "ok:" in out.stdout and "feeds" in out.stdout


def test_a_poll_still_running_is_reported_not_skipped_silently(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """A feed slower than its interval: the skipped run is logged as feed.poll_skipped."""
    url = feeds.serve("/slow.xml", Response(body=rss(), delay=4.0))
    cfg = write_config(tmp_path, {"slow": url}, rules=GOOD_RULES, interval="1s")
    log = tmp_path / "daemon.log"
    with daemon(cfg, env_with(), log) as proc:
        assert wait_for(lambda: any(e["event"] == "feed.poll_skipped" for e in events(log)))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
    skipped = next(e for e in events(log) if e["event"] == "feed.poll_skipped")
    assert skipped["feed"] == "slow" and skipped["reason"] == "previous poll still running"
