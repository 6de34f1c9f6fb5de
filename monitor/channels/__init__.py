"""Delivery channels, one module each, all the same shape: each reads its own keys of a
[[channels]] table into a frozen settings value; `build(alert)` is pure and returns the
channel's payload; `send(payload)` does the I/O and returns a DeliveryResult or raises
DeliveryError(reason, retryable=..., retry_after=...).

CHANNELS is a plain registry from the config's `type` to the channel type (its keys, its
settings reader, its constructor); config reads through it when the composition root
passes it in; make_channel() builds one channel from its config and the transports.
"""

from __future__ import annotations

from typing import Any, TextIO

import requests

from monitor.channels import apprise, console, email, slack, webhook
from monitor.channels.apprise import AppriseChannel
from monitor.channels.base import (
    Channel,
    ChannelSpec,
    ChannelType,
    Clock,
    Deadline,
    SmtpFactory,
    Transports,
    no_deadline,
)
from monitor.channels.console import ConsoleChannel
from monitor.channels.email import EmailChannel
from monitor.channels.slack import SlackChannel
from monitor.channels.webhook import WebhookChannel
from monitor.errors import ConfigError
from monitor.model import utcnow

CHANNELS: dict[str, ChannelType[Any]] = {
    "console": console.TYPE,
    "slack": slack.TYPE,
    "webhook": webhook.TYPE,
    "email": email.TYPE,
    "apprise": apprise.TYPE,
}

__all__ = [
    "CHANNELS",
    "AppriseChannel",
    "Channel",
    "ChannelType",
    "ConsoleChannel",
    "EmailChannel",
    "SlackChannel",
    "Transports",
    "WebhookChannel",
    "make_channel",
]


def make_channel(
    cfg: ChannelSpec,
    *,
    session: requests.Session | None = None,
    smtp_factory: SmtpFactory | None = None,
    now: Clock = utcnow,
    stream: TextIO | None = None,
    deadline: Deadline = no_deadline,
) -> Channel:
    """The channel for cfg.type, given the transports (each channel uses what it needs)."""
    kind = CHANNELS.get(cfg.type)
    if kind is None:
        known = ", ".join(sorted(CHANNELS))
        raise ConfigError([f"channels.{cfg.name}.type: unknown {cfg.type!r} (known: {known})"])
    transports = Transports(session, smtp_factory, now, stream, deadline)
    settings = cfg.settings if cfg.settings is not None else kind.defaults()
    return kind.make(cfg.name, settings, transports)
