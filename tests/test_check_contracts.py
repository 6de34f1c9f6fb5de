"""`monitor check`, start and reload refuse what would drop alerts without a word: routing
names that resolve to nothing, digests a channel cannot send, an empty rule set, secrets
and paths `run` would refuse, and terms that look like regular expressions (issue 17)."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

from tests.channel_servers import http_receiver
from tests.e2e import daemon, env_with, events, run_monitor, wait_for
from tests.feedfiles import RULES, rss, story, webhook, write_config
from tests.feedserver import FeedServer

FEED = {"un-news": "http://127.0.0.1:9/rss.xml"}  # tagged "un"; never fetched by check
HOOK = '[[channels]]\nname = "hook"\ntype = "console"\ncolor = false\n'


def rules_dir(folder: Path, text: str = RULES, name: str = "test.toml") -> Path:
    rules = folder / "myrules"
    rules.mkdir(exist_ok=True)
    (rules / name).write_text(text, encoding="utf-8")
    return rules


def check(cfg: Path, **env: str) -> tuple[int, str]:
    out = run_monitor(["check", "-c", str(cfg)], env_with(**env))
    return out.returncode, out.stderr


def test_misspelt_routing_names_are_problems_with_file_and_key(tmp_path: Path) -> None:
    """A rule routed to "hoook" while the channel is "hook", and channel filters naming no
    rule, country, kind or tag: check and start exit 2, each named with its file and key."""
    rules = rules_dir(tmp_path, RULES + 'channels = ["hoook"]\n')
    filters = 'rules = ["zorbb"]\ncountries = ["ZZ"]\nkinds = ["matchh"]\ntags = ["nosuchtag"]\n'
    cfg = write_config(tmp_path, FEED, rules=rules, channels=HOOK + filters)
    code, err = check(cfg)
    assert code == 2, err
    assert (
        f'{rules / "test.toml"}: rules[0] (id=massacre).channels[0]: no channel named "hoook"'
        in err
    )
    assert 'did you mean "hook"?' in err
    assert f'{cfg}: channels[0].rules[0]: "zorbb" is no rule id or theme' in err
    assert f"{cfg}: channels[0].countries[0]:" in err and '"ZZ"' in err
    assert (
        f'{cfg}: channels[0].kinds[0]: "matchh" is not an alert kind; did you mean "match"?' in err
    )
    assert f'{cfg}: channels[0].tags[0]: no feed has tag "nosuchtag"' in err
    started = run_monitor(["run", "--once", "-c", str(cfg)], env_with())
    assert started.returncode == 2 and "hoook" in started.stderr
    assert not (tmp_path / "state.db").exists()


def test_routing_names_that_resolve_pass(tmp_path: Path) -> None:
    """The same keys naming a channel, a theme, a feed tag, a country and a kind are fine."""
    rules = rules_dir(tmp_path, RULES + 'channels = ["hook"]\nroute_tags = ["urgent"]\n')
    filters = 'rules = ["test"]\ncountries = ["SD"]\nkinds = ["match"]\ntags = ["un", "urgent"]\n'
    cfg = write_config(tmp_path, FEED, rules=rules, channels=HOOK + filters)
    assert check(cfg) == (0, "")


def test_digest_keys_are_refused_where_no_digest_can_be_sent(tmp_path: Path) -> None:
    """digest and immediate_severity on Slack are problems at their keys; on email, fine."""
    slack = (
        '[[channels]]\nname = "team"\ntype = "slack"\nurl_env = "T_SLACK_URL"\n'
        'digest = "0 7 * * *"\nimmediate_severity = "high"\n'
    )
    cfg = write_config(tmp_path, FEED, rules=rules_dir(tmp_path), channels=slack)
    code, err = check(cfg, T_SLACK_URL="https://hooks.example.org/x")
    assert code == 2
    assert f"{cfg}: channels[0].digest: channel team: type slack sends no digests" in err
    assert f"{cfg}: channels[0].immediate_severity: channel team: type slack" in err
    mail = (
        '[[channels]]\nname = "mail"\ntype = "email"\nto = ["desk@example.org"]\n'
        'digest = "0 7 * * *"\ntimezone = "Europe/Zurich"\nimmediate_severity = "high"\n'
    )
    cfg = write_config(tmp_path, FEED, rules=rules_dir(tmp_path), channels=mail)
    assert check(cfg) == (0, "")


def test_empty_rule_set_is_refused_at_check_and_start(tmp_path: Path) -> None:
    """No rules loaded (an empty folder, a file truncated while saving): exit 2, saying so."""
    empty = tmp_path / "norules"
    empty.mkdir()
    (empty / "a.toml").write_text("", encoding="utf-8")
    cfg = write_config(tmp_path, FEED, rules=empty, channels=HOOK)
    for args in (["check"], ["run", "--once"], ["run"]):
        out = run_monitor([*args, "-c", str(cfg)], env_with(), timeout=30)
        assert out.returncode == 2, (args, out.stderr)
        assert f"{cfg}: rules.paths: no rules loaded from {empty}" in out.stderr
    assert not (tmp_path / "state.db").exists()


def test_reload_refuses_empty_rules_and_misrouting_and_names_removed_rules(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """SIGHUP: a removed rule file logs rules.removed with its ids; an emptied one, or a
    misspelt channel, is config.reload_failed and the rules in force keep alerting."""
    rules = rules_dir(tmp_path, RULES, "a.toml")
    genocide = RULES.replace('"massacre"', '"genocide"').replace('theme = "test"\n', "")
    (rules / "b.toml").write_text(genocide, encoding="utf-8")
    now = datetime.now(UTC)
    first = story("1", "Massacre in Kenya", "", now)
    second = story("2", "Massacre in Peru", "", now)
    with http_receiver() as rx:
        url = feeds.publish("news", rss(first))
        hook = webhook("R_HOOK")
        cfg = write_config(tmp_path, {"news": url}, rules=rules, channels=hook, interval="1s")
        log = tmp_path / "daemon.log"
        with daemon(cfg, env_with(R_HOOK=rx.url()), log) as proc:
            assert wait_for(lambda: len(rx.requests) == 1)
            (rules / "b.toml").unlink()
            proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: any(e["event"] == "rules.removed" for e in events(log)))
            (rules / "a.toml").write_text("", encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: _failures(log) == 1)
            (rules / "a.toml").write_text(RULES + 'channels = ["opz"]\n', encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: _failures(log) == 2)
            feeds.publish("news", rss(first, second))
            assert wait_for(lambda: len(rx.requests) == 2), "the rules in force stopped"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(40) == 0
    removed = next(e for e in events(log) if e["event"] == "rules.removed")
    assert removed["ids"] == ["genocide"] and removed["count"] == 1
    failed = [str(e["problems"]) for e in events(log) if e["event"] == "config.reload_failed"]
    assert "no rules loaded" in failed[0]
    assert 'no channel named "opz"' in failed[1] and 'did you mean "ops"?' in failed[1]
    assert [e["rules"] for e in events(log) if e["event"] == "config.reloaded"] == [1]


def _failures(log: Path) -> int:
    return sum(1 for e in events(log) if e["event"] == "config.reload_failed")


def test_check_refuses_what_run_refuses_naming_the_right_key(tmp_path: Path) -> None:
    """A whsec_ secret that is not base64 (never shown), a state path under a file, and a
    misspelt time zone reported against timezone, not digest."""
    secret = "whsec_not*base64!"
    hook = webhook("W_URL") + 'secret_env = "W_SECRET"\n'
    cfg = write_config(tmp_path, FEED, rules=rules_dir(tmp_path), channels=hook)
    code, err = check(cfg, W_URL="https://hooks.example.org/x", W_SECRET=secret)
    assert code == 2
    assert f"{cfg}: channels[0].secret_env: channel ops: the secret in W_SECRET" in err
    assert "not base64" in err and "not*base64" not in err
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    cfg = write_config(tmp_path, FEED, rules=rules_dir(tmp_path), channels=HOOK,
                       state=f'path = "{blocker}/monitor.db"')  # fmt: skip
    code, err = check(cfg)
    assert code == 2 and f"{cfg}: state.path: cannot create the folder {blocker}" in err
    mail = (
        '[[channels]]\nname = "mail"\ntype = "email"\nto = ["desk@example.org"]\n'
        'digest = "0 7 * * *"\ntimezone = "Europe/Zurch"\n'
    )
    cfg = write_config(tmp_path, FEED, rules=rules_dir(tmp_path), channels=mail)
    code, err = check(cfg)
    assert code == 2 and f'{cfg}: channels[0].timezone: "Europe/Zurch" is not a time zone' in err
    assert "channels[0].digest" not in err


def test_check_creates_no_state(tmp_path: Path) -> None:
    """check finds the state folder writable without creating the folder or the database."""
    cfg = write_config(tmp_path, FEED, rules=rules_dir(tmp_path), channels=HOOK,
                       state='path = "new/folder/monitor.db"')  # fmt: skip
    assert check(cfg) == (0, "")
    assert not (tmp_path / "new").exists()


def test_terms_that_look_like_regular_expressions_or_one_letter_are_refused(
    tmp_path: Path,
) -> None:
    """Terms "(a+)+$" and '\\d{3}' would fire on the letter "a" and on nothing meant; "a" alone
    on almost anything: each refused, naming file, rule and key."""
    rule = RULES.replace('any = ["massacre"]', "any = ['(a+)+$', '\\d{3}', \"a\", \"massacre\"]")
    rules = rules_dir(tmp_path, rule)
    cfg = write_config(tmp_path, FEED, rules=rules, channels=HOOK)
    code, err = check(cfg)
    file = rules / "test.toml"
    assert code == 2
    assert f'{file}: rules[0] (id=massacre).any[0]: "(a+)+$" looks like a regular expression' in err
    assert f'{file}: rules[0] (id=massacre).any[1]: "\\d{{3}}" looks like a regular' in err
    assert f'{file}: rules[0] (id=massacre).any[2]: "a" is a single letter' in err
    assert "any[3]" not in err
