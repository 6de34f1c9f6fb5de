"""Secrets never reach an output: `monitor` runs as a process with known webhook URLs (a token
in the path), an HMAC secret and an SMTP password, against loopback receivers that fail in
every way, and every line of stdout, stderr (the JSON logs) and the state file is searched.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.channel_servers import Reply, SmtpSink, http_receiver, smtp_sink
from tests.e2e import REPO, env_with, run_monitor
from tests.feedfiles import rss, story, write_config
from tests.feedserver import FeedServer
from tests.loopback import closed_port

TOKEN = "T0KEN-abc123"
HMAC_SECRET = "hmac-S3CRET-77f1e2"
SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-PA55-9c8d7e"
DB_PASSWORD = "db-PA55-4b3a21"
STORY = ("1", "Massacre reported in the village of Tawila", "Dozens of civilians were killed")

# One webhook per way a receiver fails; each URL carries the same token in its path.
WEBHOOKS = {
    "refused": None,  # nothing listens
    "error500": Reply(500, b"internal error"),
    "missing404": Reply(404, b"not found"),
    "hung": Reply(200, b"ok", delay=5.0),  # past the channel's 1 s timeout
    "redirect": Reply(302, b"", {"Location": f"http://127.0.0.1:9/hook/{TOKEN}"}),
}


def needles() -> list[str]:
    """Every form in which a secret could leak: whole, the token, and SMTP AUTH encodings."""
    plain = f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()
    return [
        TOKEN,
        f"/hook/{TOKEN}",
        HMAC_SECRET,
        SMTP_PASSWORD,
        DB_PASSWORD,
        base64.b64encode(SMTP_PASSWORD.encode()).decode(),
        base64.b64encode(plain).decode(),
    ]


def assert_clean(*outputs: str) -> None:
    for text in outputs:
        for n, line in enumerate(text.splitlines(), 1):
            for needle in needles():
                assert needle not in line, f"secret {needle!r} leaked on line {n}: {line}"


def channels_toml() -> str:
    hooks = "".join(
        f'[[channels]]\nname = "{name}"\ntype = "webhook"\nurl_env = "HOOK_{name.upper()}"\n'
        f'secret_env = "HOOK_SECRET"\ntimeout = "1s"\n\n'
        for name in WEBHOOKS
    )
    mails = "".join(
        f'[[channels]]\nname = "{name}"\ntype = "email"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {port}\ntls = "none"\nusername = "{SMTP_USER}"\n'
        f'password_env = "SMTP_PASSWORD"\nfrom = "monitor@example.org"\n'
        f'to = ["analyst@example.org"]\ntimeout = "2s"\n\n'
        for name, port in (("mail_auth", "{SMTP_AUTH}"), ("mail_refused", "{SMTP_REFUSED}"))
    )
    return hooks + mails


@pytest.fixture
def failing_world(tmp_path: Path, feeds: FeedServer) -> Iterator[tuple[Path, dict[str, str]]]:
    """A feed with one matching story, failing receivers, a config and its environment."""
    with ExitStack() as stack:
        url = feeds.publish("un", rss(story(*STORY, datetime.now(UTC))))
        env = {"HOOK_SECRET": HMAC_SECRET, "SMTP_PASSWORD": SMTP_PASSWORD}
        for name, reply in WEBHOOKS.items():
            if reply is None:
                base = f"http://127.0.0.1:{closed_port()}"
            else:
                base = stack.enter_context(http_receiver(default=reply)).url("")
            env[f"HOOK_{name.upper()}"] = f"{base}/hook/{TOKEN}"
        sink = stack.enter_context(smtp_sink(SmtpSink(login=(SMTP_USER, "another-password"))))
        channels = channels_toml().format(SMTP_AUTH=sink.port, SMTP_REFUSED=closed_port())
        config = write_config(tmp_path, {"un": url}, rules=REPO / "rules", channels=channels)
        # debug level: the most log lines there can be
        config.write_text(config.read_text().replace('level = "info"', 'level = "debug"'))
        yield config, env_with(**env)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    out = run_monitor(args, env, timeout=120)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def test_run_once_against_failing_receivers_leaks_no_secret(failing_world):
    """run --once delivering to refused, 500, 404, hung and redirecting receivers leaks nothing."""
    config, env = failing_world
    out = run(["run", "--once", "-c", str(config)], env)
    assert out.returncode == 1, out.stderr  # every delivery failed; alerts stay queued or dead
    logs = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    events = {e["event"] for e in logs}
    assert {"alert.created", "delivery.retry", "delivery.dead"} <= events, events
    failed = {e.get("channel") for e in logs if e["event"] in ("delivery.retry", "delivery.dead")}
    assert failed >= {*WEBHOOKS, "mail_auth", "mail_refused"}, failed
    status = run(["status", "--json", "-c", str(config)], env)
    assert_clean(out.stdout, out.stderr, status.stdout, status.stderr)
    state = b"".join(p.read_bytes() for p in config.parent.glob("state.db*"))
    for needle in needles():
        assert needle.encode() not in state, f"{needle!r} stored in the state database"


def test_send_test_reports_failures_without_secrets(failing_world):
    """send-test prints each channel's failure, naming the channel but never its URL or secret."""
    config, env = failing_world
    out = run(["send-test", "-c", str(config)], env)
    assert out.returncode == 1
    for name in [*WEBHOOKS, "mail_auth", "mail_refused"]:
        assert f"{name}: FAILED" in out.stdout, out.stdout
    assert "HTTP 500" in out.stdout and "HTTP 404" in out.stdout and "535" in out.stdout
    assert_clean(out.stdout, out.stderr)


def test_broken_configs_report_problems_without_secrets(tmp_path: Path):
    """check and run on broken configs name variables and keys, never the values they hold."""
    config = write_config(
        tmp_path,
        {"un": "https://example.org/feed.xml"},
        rules=REPO / "rules",
        state='url_env = "DB_URL"',
        channels=(
            '[[channels]]\nname = "ftp"\ntype = "webhook"\nurl_env = "HOOK_FTP"\n'
            'secret_env = "HOOK_SECRET"\nsurprise = 1\n\n'
            '[[channels]]\nname = "mail"\ntype = "email"\npassword_env = "SMTP_PASSWORD"\n'
            'to = ["a@example.org"]\ntls = "sometimes"\n'
        ),
    )
    env = env_with(
        DB_URL=f"mysql://monitor:{DB_PASSWORD}@127.0.0.1/monitor",
        HOOK_FTP=f"ftp://127.0.0.1/hook/{TOKEN}",
        HOOK_SECRET=HMAC_SECRET,
        SMTP_PASSWORD=SMTP_PASSWORD,
    )
    for args in (["check"], ["run", "--once"], ["send-test"], ["status"]):
        out = run([*args, "-c", str(config)], env)
        assert out.returncode == 2, out.stderr
        assert "DB_URL" in out.stderr and "channels[0].url_env" in out.stderr
        assert "surprise" in out.stderr
        assert_clean(out.stdout, out.stderr)


def test_invalid_whsec_secret_is_named_not_shown(failing_world):
    """A whsec_ secret that is not base64 stops the start with a message naming only the channel."""
    config, env = failing_world
    bad = f"whsec_{HMAC_SECRET}!!"
    out = run(["run", "--once", "-c", str(config)], {**env, "HOOK_SECRET": bad})
    assert out.returncode == 2
    assert "whsec_" in out.stderr
    assert_clean(out.stdout, out.stderr.replace("whsec_ but", ""))
    assert bad not in out.stderr


def test_receiver_echoing_the_token_does_not_leak_it(failing_world):
    """A receiver answering 404 with the URL's token as its body does not put it in any output."""
    config, env = failing_world
    with http_receiver(default=Reply(404, TOKEN.encode())) as echo:
        env = {**env, "HOOK_MISSING404": echo.url(f"/hook/{TOKEN}")}
        out = run(["send-test", "--channel", "missing404", "-c", str(config)], env)
    assert out.returncode == 1
    assert_clean(out.stdout, out.stderr)
