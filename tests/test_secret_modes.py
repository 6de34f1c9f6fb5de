"""Secrets are needed only where they are used: commands that send (run, send-test) need
channel secrets and check reports them, while status, retry, feeds export and test-rules
run from a plain shell; a private feed's URL comes from the environment (url_env) and is
redacted like every other secret (issue 17, points 6 and 14)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.channel_servers import http_receiver
from tests.e2e import env_with, run_monitor
from tests.feedfiles import CONSOLE, rss, story, webhook, write_config
from tests.feedserver import FeedServer

TOKEN = "tok3n5ecret99"  # the private part of a private feed's URL


def plain_env(**values: str) -> dict[str, str]:
    """The environment of a shell where no channel or feed secret is set."""
    env = env_with(**values)
    for name in ("OPS_WEBHOOK_URL", "PRIVATE_FEED_URL"):
        if name not in values:
            env.pop(name, None)
    return env


def test_read_only_commands_need_no_channel_secrets(tmp_path: Path, feeds: FeedServer) -> None:
    """Without OPS_WEBHOOK_URL: status, retry, feeds export and test-rules work; run,
    send-test and check refuse, naming the variable."""
    doc = rss(story("1", "Massacre reported in Kenya", "", datetime.now(UTC)))
    url = feeds.publish("news", doc)
    (tmp_path / "feed.xml").write_bytes(doc)
    cfg = write_config(tmp_path, {"news": url}, channels=webhook("OPS_WEBHOOK_URL"))
    with http_receiver() as rx:
        sent = run_monitor(["run", "--once", "-c", str(cfg)], plain_env(OPS_WEBHOOK_URL=rx.url()))
        assert sent.returncode == 0, sent.stderr
        assert len(rx.requests) == 1
    env = plain_env()
    status = run_monitor(["status", "--json", "-c", str(cfg)], env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["outbox"]["sent"] == 1
    retry = run_monitor(["retry", "-c", str(cfg)], env)
    assert retry.returncode == 0 and "0 deliveries due now" in retry.stdout, retry.stderr
    export = run_monitor(["feeds", "export", "-c", str(cfg)], env)
    assert export.returncode == 0 and url in export.stdout
    tried = run_monitor(["test-rules", "--json", "-c", str(cfg), str(tmp_path / "feed.xml")], env)
    assert tried.returncode == 0, tried.stderr
    assert json.loads(tried.stdout)["matches"][0]["rule"] == "massacre"
    for args in (["run", "--once"], ["send-test"], ["check"]):
        out = run_monitor([*args, "-c", str(cfg)], env)
        assert out.returncode == 2, args
        assert (
            "channels[0].url_env: channel ops: environment variable OPS_WEBHOOK_URL" in out.stderr
        )


def private_feed(tmp_path: Path, extra: str = "") -> Path:
    table = f'[[feeds]]\nname = "private"\nurl_env = "PRIVATE_FEED_URL"\n{extra}jitter = "0s"\n\n'
    return write_config(tmp_path, {}, channels=table + CONSOLE)


def test_feed_url_from_the_environment_is_polled_and_redacted(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """url_env: the feed is polled at the URL in the variable, which no output shows."""
    url = feeds.publish(
        f"private-{TOKEN}", rss(story("1", "Massacre in Peru", "", datetime.now(UTC)))
    )
    cfg = private_feed(tmp_path)
    env = plain_env(PRIVATE_FEED_URL=url)
    once = run_monitor(["run", "--once", "-c", str(cfg)], env)
    assert once.returncode == 0, once.stderr
    assert "Massacre in Peru" in once.stdout
    assert len(feeds.requests(f"/private-{TOKEN}.xml")) == 1
    status = run_monitor(["status", "--json", "-c", str(cfg)], env)
    assert status.returncode == 0, status.stderr
    (feed,) = json.loads(status.stdout)["feeds"]
    assert feed["name"] == "private" and feed["items_seen"] == 1
    assert TOKEN not in once.stdout + once.stderr + status.stdout + status.stderr
    bare = run_monitor(["status", "--json", "-c", str(cfg)], plain_env())
    assert bare.returncode == 0, bare.stderr
    (feed,) = json.loads(bare.stdout)["feeds"]
    assert feed["name"] == "private" and feed["url"] is None


def test_feed_url_env_must_be_set_and_alone(tmp_path: Path) -> None:
    """A missing variable names the feed and the variable; url and url_env together are
    refused."""
    cfg = private_feed(tmp_path)
    out = run_monitor(["run", "--once", "-c", str(cfg)], plain_env())
    assert out.returncode == 2
    assert (
        f"{cfg}: feeds[0].url_env: feed private: environment variable PRIVATE_FEED_URL "
        "is not set" in out.stderr
    )
    cfg = private_feed(tmp_path, 'url = "https://example.org/rss.xml"\n')
    out = run_monitor(["check", "-c", str(cfg)], plain_env(PRIVATE_FEED_URL="https://a.org/f"))
    assert out.returncode == 2
    assert f"{cfg}: feeds[0].url_env: feed private: set either url or url_env" in out.stderr
