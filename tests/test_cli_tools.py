"""`monitor test-rules` and `monitor send-test` as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.channel_servers import Reply, http_receiver
from tests.e2e import env_with, run_monitor
from tests.feedfiles import rss, story, write_config

RULES = Path(__file__).parent / "data" / "rules_fixtures" / "good"
REAL_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-feeds"
NOW = datetime.now(UTC)


def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "feeds" / "a.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        rss(
            story("1", "UN warns of genocide in Kenya", "Officials warn.", NOW),
            story("2", "Budget talks resume in New York", "", NOW),
        )
    )
    return path


def test_rules_json_one_object_per_item(tmp_path: Path) -> None:
    """--json prints every item, matching or not, with the documented fields."""
    feed = feed_file(tmp_path)
    out = run_monitor(["test-rules", "--rules", str(RULES), "--json", str(feed)], env_with())
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert {"key", "title", "link", "feed", "countries", "matches"} <= row.keys()
    hit = next(r for r in rows if r["matches"])
    assert hit["countries"] == ["KE"] and hit["lang"] == "en"
    m = hit["matches"][0]
    assert m["rule"] == "genocide-finding" and m["severity"] == "critical"
    assert {"term", "text", "field"} <= m["terms"][0].keys()


def test_rules_human_output_and_empty_rule_folder(tmp_path: Path) -> None:
    """Human output lists matching items with their rules; an empty rule folder fires nothing."""
    folder = tmp_path / "feeds"
    feed_file(tmp_path)
    (folder / "notes.txt").write_text("just some notes, not a feed")
    out = run_monitor(["test-rules", "--rules", str(RULES), str(folder)], env_with())
    assert out.returncode == 0
    assert "genocide-finding" in out.stdout and "Budget talks" not in out.stdout
    assert "notes.txt" in out.stderr and "not a feed" in out.stderr
    empty = tmp_path / "norules"
    empty.mkdir()
    quiet = run_monitor(["test-rules", "--rules", str(empty), str(folder)], env_with())
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_rules_bad_input_and_bad_rules_exit_2(tmp_path: Path) -> None:
    """A missing input is named and exits 2; a broken rule file exits 2 with its name."""
    feed = feed_file(tmp_path)
    missing = run_monitor(
        ["test-rules", "--rules", str(RULES), str(feed), "/nonexistent.xml"], env_with()
    )
    assert missing.returncode == 2 and "/nonexistent.xml" in missing.stderr
    assert "genocide" in missing.stdout  # the readable input was still processed
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nid = "x"\ntitle = "t"\nseverity = "severe"\n')
    broken = run_monitor(["test-rules", "--rules", str(bad), str(feed)], env_with())
    assert broken.returncode == 2 and "bad.toml" in broken.stderr
    assert "Traceback" not in broken.stderr


@pytest.mark.skipif(not REAL_FEEDS.is_dir(), reason="../shared/corpus/real-feeds is absent")
def test_every_real_feed_goes_through_test_rules() -> None:
    """The 31 real captures run through `test-rules --json` with the default pack, no error."""
    out = run_monitor(
        ["test-rules", "-c", "config.toml", "--json", str(REAL_FEEDS)], env_with(), timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) > 500
    assert {Path(r["feed"]).name for r in rows} >= {"bbc-news-world-20260218.xml"}


def test_send_test_reports_the_real_answer(tmp_path: Path) -> None:
    """send-test is ok on a 2xx and reports a failure (exit 1) with the channel's answer."""
    channels = (
        '[[channels]]\nname = "good"\ntype = "webhook"\nurl_env = "GOOD_URL"\n\n'
        '[[channels]]\nname = "bad"\ntype = "webhook"\nurl_env = "BAD_URL"\n'
    )
    with http_receiver() as good, http_receiver(default=Reply(404, b"nope")) as bad:
        cfg = write_config(tmp_path, {}, rules=RULES, channels=channels)
        env = env_with(GOOD_URL=good.url("/ok-hook"), BAD_URL=bad.url("/secret-path"))
        one = run_monitor(["send-test", "--channel", "good", "-c", str(cfg)], env)
        both = run_monitor(["send-test", "-c", str(cfg)], env)
        assert json.loads(good.requests[0].body)["type"] == "alert.test"
    assert one.returncode == 0 and "good: ok" in one.stdout
    assert both.returncode == 1 and "bad: FAILED (permanent)" in both.stdout
    assert "404" in both.stdout and "secret-path" not in both.stdout + both.stderr
    unknown = run_monitor(["send-test", "--channel", "nope", "-c", str(cfg)], env)
    assert unknown.returncode == 2


def test_unusable_state_path_is_a_clear_error(tmp_path: Path) -> None:
    """A state path that is not a database gives exit 2 and one line naming it, no traceback."""
    notdb = tmp_path / "notes.txt"
    notdb.write_text("not a database")
    cfg = write_config(tmp_path, {}, rules=RULES, channels="", state=f'path = "{notdb}"')
    for args in (["run", "--once"], ["status"]):
        out = run_monitor([*args, "-c", str(cfg)], env_with())
        assert out.returncode == 2
        assert "notes.txt" in out.stderr and "Traceback" not in out.stderr
