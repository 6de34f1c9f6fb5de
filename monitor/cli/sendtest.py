"""`monitor send-test`: a clearly marked test alert through each channel's real send path."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from monitor.cli.common import Subparsers, add, config_path
from monitor.errors import DeliveryError
from monitor.log import redact
from monitor.model import Alert, AlertKind, RuleRef, Severity, utcnow
from monitor.reader.fetch import make_session
from monitor.service import runtime
from monitor.service.bundle import make_channels
from monitor.service.runtime import Loaded, policy_of


def register(sub: Subparsers) -> None:
    c = add(sub, "send-test", "send a marked test alert through each channel", cmd)
    c.add_argument("--channel", help="only this channel (an Apprise channel: all its URLs)")


def cmd(args: argparse.Namespace) -> int:
    return send_test(runtime.load(config_path(args)), args.channel)


def test_alert(now: datetime) -> Alert:
    return Alert(
        id=f"test:{int(now.timestamp())}",
        kind=AlertKind.TEST,
        created=now,
        severity=Severity.INFO,
        title="TEST ALERT from monitor: please ignore",
        rules=(
            RuleRef(
                "test",
                "Test alert",
                Severity.INFO,
                "A test sent by `monitor send-test` to check this channel works.",
            ),
        ),
        text="This is a test of the delivery path. No event is reported.",
    )


def send_test(loaded: Loaded, only: str | None) -> int:
    configured = loaded.config.channels
    chosen = {c.name for c in configured if not only or c.answers_to(only)}
    if not chosen:
        names = list(dict.fromkeys(c.group or c.name for c in configured))
        print(
            f"no channel named {only!r}; configured: {', '.join(names) or 'none'}", file=sys.stderr
        )
        return 2
    session = make_session(policy_of(loaded.config))
    channels = make_channels(loaded.config, session)
    alert = test_alert(utcnow())
    failures = 0
    # one line per target: an Apprise channel with two URLs reports each of them
    for name, channel in channels.items():
        if name not in chosen:
            continue
        try:
            result = channel.send(channel.build(alert))
        except DeliveryError as exc:
            failures += 1
            kind = "retryable" if exc.retryable else "permanent"
            print(f"{name}: FAILED ({kind}): {redact(exc.reason)}")
            continue
        print(redact(f"{name}: ok {result.detail}").rstrip())
    session.close()
    return 1 if failures else 0
