"""Delivery channels, one module each, all the same shape: `build(alert)` is pure and
returns the channel's payload; `send(payload)` does the I/O and returns a DeliveryResult
or raises DeliveryError(reason, retryable=..., retry_after=...).

CHANNELS is a plain registry from the config's `type` to the channel class;
make_channel() builds one from its settings and the injected transports.
"""

from __future__ import annotations

from typing import TextIO

import requests

from monitor.channels.base import (
    Channel,
    ChannelClass,
    ChannelSettings,
    Clock,
    SmtpFactory,
    Transports,
    utcnow,
)
from monitor.channels.console import ConsoleChannel
from monitor.channels.email import EmailChannel
from monitor.channels.slack import SlackChannel
from monitor.channels.webhook import WebhookChannel
from monitor.errors import ConfigError

CHANNELS: dict[str, ChannelClass] = {
    "console": ConsoleChannel,
    "slack": SlackChannel,
    "webhook": WebhookChannel,
    "email": EmailChannel,
}

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelSettings",
    "ConsoleChannel",
    "EmailChannel",
    "SlackChannel",
    "Transports",
    "WebhookChannel",
    "make_channel",
]


def make_channel(
    cfg: ChannelSettings,
    *,
    session: requests.Session | None = None,
    smtp_factory: SmtpFactory | None = None,
    now: Clock = utcnow,
    stream: TextIO | None = None,
) -> Channel:
    """The channel for cfg.type, given the transports (each channel uses what it needs)."""
    cls = CHANNELS.get(cfg.type)
    if cls is None:
        known = ", ".join(sorted(CHANNELS))
        raise ConfigError([f"channels.{cfg.name}.type: unknown {cfg.type!r} (known: {known})"])
    transports = Transports(session=session, smtp_factory=smtp_factory, now=now, stream=stream)
    return cls.from_transports(cfg, transports)
