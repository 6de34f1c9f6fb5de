"""The daemon as an operator runs it: start, poll on schedule, SIGHUP reload, SIGTERM stop."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from channel_servers import closed_port, http_receiver

from tests.e2e import MONITOR, REPO, env_with, feed_site, rss, write_config

RULES = Path(__file__).parent / "data" / "rules_fixtures" / "good"
WEBHOOK = """[[channels]]
name = "ops"
type = "webhook"
url_env = "D_HOOK_URL"
min_severity = "info"
"""


def events(log: Path) -> list[dict[str, object]]:
    out = []
    for line in log.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def wait_for(pred: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


@contextmanager
def daemon(cfg: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*MONITOR, "run", "-c", str(cfg)], env=env, cwd=REPO, stdout=out, stderr=out
        )
        try:
            assert wait_for(lambda: any(e["event"] == "daemon.started" for e in events(log)))
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def test_sighup_reload_keeps_old_rules_on_error_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    """A broken rule file on SIGHUP is refused (old rules stay); SIGTERM exits 0, cleanly."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.toml").write_text((RULES / "atrocity.toml").read_text())
    now = datetime.now(UTC)
    with feed_site() as site, http_receiver() as rx:
        site.set("news", rss([("1", "UN warns of genocide in Kenya", "", now)]))
        cfg = write_config(
            tmp_path / "config.toml",
            {"news": site.url("news")},
            rules=rules,
            channels=WEBHOOK,
            interval="1s",
        )
        env = env_with(D_HOOK_URL=rx.url())
        log = tmp_path / "daemon.log"
        with daemon(cfg, env, log) as proc:
            assert wait_for(lambda: len(rx.requests) == 1)
            (rules / "b.toml").write_text('[[rules]]\nid = "x"\nseverity = "severe"\n')
            proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: any(e["event"] == "config.reload_failed" for e in events(log)))
            site.set(
                "news",
                rss(
                    [
                        ("1", "UN warns of genocide in Kenya", "", now),
                        ("2", "Genocide warning for Peru", "", now),
                    ]
                ),
            )
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
    feeds = {f"dead-{i}": f"http://127.0.0.1:{port}/feed{i}.xml" for i in range(3)}
    cfg = write_config(
        tmp_path / "config.toml",
        feeds,
        rules=RULES,
        interval="1s",
        channels='[[channels]]\nname = "c"\ntype = "console"\n',
    )
    log = tmp_path / "daemon.log"
    with daemon(cfg, env_with(), log) as proc:
        assert wait_for(lambda: sum(e["event"] == "feed.failed" for e in events(log)) >= 6)
        assert proc.poll() is None
        status = subprocess.run(
            [*MONITOR, "status", "--json", "-c", str(cfg)],
            env=env_with(),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
    data = json.loads(status.stdout)
    assert all(f["consecutive_failures"] >= 1 and f["last_error"] for f in data["feeds"])
    fails = [e for e in events(log) if e["event"] == "feed.failed" and e["feed"] == "dead-0"]
    gaps = [datetime.fromisoformat(str(e["next_poll"])) for e in fails]
    assert gaps == sorted(gaps)  # backoff moves the next poll later each time


def test_shipped_config_is_valid() -> None:
    """The repository's config.toml passes `monitor check` (what `make run` starts with)."""
    out = subprocess.run(
        [*MONITOR, "check", "-c", str(REPO / "config.toml")],
        env=env_with(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "ok:" in out.stdout and "feeds" in out.stdout


def test_a_poll_still_running_is_reported_not_skipped_silently(tmp_path: Path) -> None:
    """A feed slower than its interval: the skipped run is logged as feed.poll_skipped."""
    from tests.feedserver import Response, feed_server
    from tests.feedserver import rss as slow_rss

    with feed_server() as server:
        url = server.serve("/slow.xml", Response(body=slow_rss(), delay=4.0))
        cfg = write_config(
            tmp_path / "config.toml",
            {"slow": url},
            rules=RULES,
            interval="1s",
            channels='[[channels]]\nname = "c"\ntype = "console"\n',
        )
        log = tmp_path / "daemon.log"
        with daemon(cfg, env_with(), log) as proc:
            assert wait_for(lambda: any(e["event"] == "feed.poll_skipped" for e in events(log)))
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(40) == 0
    skipped = next(e for e in events(log) if e["event"] == "feed.poll_skipped")
    assert skipped["feed"] == "slow" and skipped["reason"] == "previous poll still running"
