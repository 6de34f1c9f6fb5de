"""Config validation: every mistake named with file and key path, all at once; `monitor check`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.channels import CHANNELS
from monitor.channels.console import ConsoleSettings
from monitor.channels.webhook import WebhookSettings
from monitor.config import Config
from monitor.config import load_config as load
from monitor.config.reader import Problems, Table
from monitor.errors import ConfigError
from tests.feedfiles import RULES

REPO = Path(__file__).resolve().parents[1]
GOOD = """
[state]
path = "data/monitor.db"

[defaults]
interval = "10m"
backfill = "all"

[rules]
paths = ["myrules"]

[[feeds]]
name = "un-news"
url = "https://news.un.org/feed/subscribe/en/news/all/rss.xml"
tags = ["un"]

[[channels]]
name = "ops"
type = "webhook"
url_env = "OPS_WEBHOOK_URL"
secret_env = "OPS_WEBHOOK_SECRET"
min_severity = "medium"
"""
ENV = {"OPS_WEBHOOK_URL": "https://hooks.example.org/x", "OPS_WEBHOOK_SECRET": "s3cret"}

# (mistake, TOML appended to GOOD or replacing a line, expected fragment of the one message)
MISTAKES = {
    "unknown key": (
        "[logging]\nlevle = 'info'\n",
        'logging.levle: unknown key; did you mean "level"?',
    ),
    "misspelt feed key": (
        "[[feeds]]\nname = 'x'\nurl = 'https://a.org/f'\nintervall = '5m'\n",
        'feeds[1].intervall: unknown key; did you mean "interval"?',
    ),
    "misspelt channel key": (
        "[[channels]]\nname = 'c'\ntype = 'webhook'\nurl_env = 'OPS_WEBHOOK_URL'\n"
        "secret_evn = 'X'\n",
        'channels[1].secret_evn: unknown key; did you mean "secret_env"?',
    ),
    "bad severity": (
        "[[channels]]\nname = 'c'\nmin_severity = 'severe'\n",
        'channels[1].min_severity: "severe" is not one of info, low, medium, high, critical',
    ),
    "wrong type": (
        "[[feeds]]\nname = 'x'\nurl = 'https://a.org/f'\ntags = 'un'\n",
        "feeds[1].tags",
    ),
    "bad url": ("[[feeds]]\nname = 'x'\nurl = 'news.un.org/rss'\n", 'feeds[1].url: "news.un.org'),
    "bad duration": (
        "[[feeds]]\nname = 'x'\nurl = 'https://a.org/f'\ninterval = '10 minutes'\n",
        'feeds[1].interval: "10 minutes" is not a duration; write 10m',
    ),
    "duplicate feed": (
        "[[feeds]]\nname = 'un-news'\nurl = 'https://a.org/f'\n",
        'feeds[1].name: duplicate feed name "un-news"',
    ),
    "zero timeout": ("", "defaults.total_timeout: must be more than 0s"),
}


def load_config(path: Path, env: dict[str, str]) -> Config:
    """The config at path, read with the real channel registry as the daemon reads it."""
    return load(path, env, channel_types=CHANNELS)


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "myrules").mkdir(exist_ok=True)
    (tmp_path / "myrules" / "r.toml").write_text(RULES, encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(path, ENV if env is None else env)
    return err.value.problems


def check(path: Path, env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "check", "-c", str(path)],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=60,
    )


def test_good_config_loads(tmp_path: Path):
    """The documented example loads, secrets resolved from the environment."""
    config = load_config(write(tmp_path, GOOD), ENV)
    assert config.feeds[0].tags == ("un",)
    assert config.channels[0].settings == WebhookSettings(
        "https://hooks.example.org/x", 10, "s3cret"
    )
    assert config.defaults.backfill is None


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path):
    """state.path and rules.paths are relative to the config file, not the working folder."""
    config = load_config(write(tmp_path, GOOD), ENV)
    assert config.state.path == tmp_path / "data" / "monitor.db"
    assert config.rule_paths == (tmp_path / "myrules",)


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_mistake_has_one_clear_message(tmp_path: Path, mistake: str):
    """Each kind of mistake yields exactly one message naming the file and key path."""
    extra, expected = MISTAKES[mistake]
    text = GOOD + extra
    if mistake == "zero timeout":
        text = text.replace('backfill = "all"', 'backfill = "all"\ntotal_timeout = "0s"')
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: ") and expected in problem


def test_missing_secret_names_channel_and_variable(tmp_path: Path):
    """An unset secret variable is reported with the channel and the variable name."""
    (problem,) = problems_of(write(tmp_path, GOOD), {"OPS_WEBHOOK_URL": "https://h.example/x"})
    assert "channels[0].secret_env" in problem
    assert "channel ops" in problem and "OPS_WEBHOOK_SECRET" in problem


def test_state_path_and_url_env_together(tmp_path: Path):
    """Both state.path and state.url_env is one clear problem."""
    text = GOOD.replace('path = "data/monitor.db"', 'path = "x.db"\nurl_env = "PG"')
    problems = problems_of(write(tmp_path, text), {**ENV, "PG": "postgresql://u@h/db"})
    assert problems == [
        f"{tmp_path / 'config.toml'}: state: set either path (SQLite) or url_env "
        "(PostgreSQL), not both"
    ]


def test_every_problem_reported_in_one_go(tmp_path: Path):
    """Many mistakes in one file are all listed, in file order."""
    text = (
        GOOD.replace('interval = "10m"', 'interval = "10 minutes"\ncolour = true')
        + "[[feeds]]\nname = 'un-news'\nurl = 'ftp://x.org/f'\n"
    )
    problems = problems_of(write(tmp_path, text), {})
    keys = [p.split(": ")[1] for p in problems]
    assert keys == [
        "defaults.interval",
        "defaults.colour",
        "feeds[1].name",
        "feeds[1].url",
        "channels[0].url_env",
        "channels[0].secret_env",
    ]


def test_monitor_check_exits_2_without_traceback(tmp_path: Path):
    """`monitor check` prints each problem on stderr and exits 2, never a traceback."""
    path = write(tmp_path, GOOD.replace('"10m"', '"10 minutes"') + "[metrics]\nlisten = 9464\n")
    out = check(path, {})
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert lines[-1] == f"{len(lines) - 1} problem(s); nothing was started"
    assert any("defaults.interval" in line for line in lines)
    assert any("metrics.listen: 9464 is not a string" in line for line in lines)


def test_monitor_check_toml_syntax_error(tmp_path: Path):
    """A TOML syntax error names the file and line, exit 2, no traceback."""
    out = check(write(tmp_path, "[state\npath = 1\n"), {})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{tmp_path / 'config.toml'}: TOML syntax error" in out.stderr and "line 1" in out.stderr


def test_monitor_check_good_config_one_line(tmp_path: Path):
    """A good config exits 0 with a one-line summary, from any working folder."""
    out = check(write(tmp_path, GOOD), ENV, cwd=Path("/"))
    assert out.returncode == 0, out.stderr
    (line,) = out.stdout.strip().splitlines()
    assert "ok: 1 feeds, 1 rules, 1 channels" in line
    assert str(tmp_path / "data" / "monitor.db") in line


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("'1w'", 604800), ("'1h30m'", 5400), ("'1d12h'", 129600), ("'90s'", 90), ("90", 90)],
)
def test_every_duration_key_takes_compound_values(tmp_path: Path, written: str, seconds: float):
    """interval reads "1w" and "1h30m" alike, as a rule's cooldown does; bare numbers are s."""
    config = load_config(write(tmp_path, GOOD.replace('"10m"', written)), ENV)
    assert config.defaults.interval == seconds


def test_milliseconds_are_a_duration(tmp_path: Path):
    """A sub-second duration is written in ms."""
    config = load_config(write(tmp_path, GOOD + "[alerts]\ndelivery_interval = '500ms'\n"), ENV)
    assert config.alerts.delivery_interval == 0.5


@pytest.mark.parametrize("written", ["'10 minutes'", "'1h 30x'", "'-5m'", "''", "true"])
def test_what_is_not_a_duration_is_refused_with_advice(tmp_path: Path, written: str):
    """Words, stray units, signs, nothing and booleans are one problem each, with advice."""
    path = write(tmp_path, GOOD.replace('"10m"', written))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: defaults.interval: ")
    assert problem.endswith("is not a duration; write 10m, 1h or 2d")


def test_a_key_of_another_channel_type_is_accepted(tmp_path: Path):
    """Keys of any channel type may sit on a console channel, as before; they are unused."""
    console = (
        "[[channels]]\nname = 'screen'\ntype = 'console'\nurl_env = 'NOT_SET'\n"
        "timeout = '5s'\nsmtp_host = 'mail.example.org'\nto = ['a@example.org']\n"
    )
    config = load_config(write(tmp_path, GOOD + console), ENV)
    assert config.channels[1].settings == ConsoleSettings()
    assert config.secrets() == ("https://hooks.example.org/x", "s3cret")


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_each_channel_type_lists_the_keys_it_reads(kind: str):
    """A type's keys are exactly what it reads, so other types know which keys to accept."""
    table = Table({}, "channels[0]", Problems("config.toml"))
    CHANNELS[kind].read_settings(table, "c", {})
    assert table.used == set(CHANNELS[kind].keys)


def test_secrets_lists_every_secret_of_every_channel(tmp_path: Path):
    """The log redactor learns the database URL, webhook URL and secret, and SMTP password."""
    mail = (
        "[[channels]]\nname = 'mail'\ntype = 'email'\npassword_env = 'SMTP_PASSWORD'\n"
        "to = ['a@example.org']\n"
    )
    text = GOOD.replace('path = "data/monitor.db"', 'url_env = "PG"') + mail
    env = {**ENV, "PG": "postgresql://u:pw@h/db", "SMTP_PASSWORD": "hunter2"}
    config = load_config(write(tmp_path, text), env)
    assert set(config.secrets()) == {
        "postgresql://u:pw@h/db",
        "https://hooks.example.org/x",
        "s3cret",
        "hunter2",
    }
    assert not any(secret in repr(config) for secret in config.secrets())
