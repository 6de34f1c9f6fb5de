"""The shape every channel shares: the settings it reads, the transports it is given,
and the Channel protocol (build is pure, send does the I/O)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

import requests

from monitor.model import Alert, DeliveryResult

Clock = Callable[[], datetime]
# smtp_factory(host, port, timeout) -> a connected smtplib.SMTP (or SMTP_SSL for tls="ssl").
SmtpFactory = Callable[[str, int, float], smtplib.SMTP]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ChannelSettings(Protocol):
    """The attributes of monitor.config.ChannelConfig that the channels read.

    Declared here (read-only) so the channels depend on the shape, not on the config module.
    """

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def secret(self) -> str | None: ...
    @property
    def timeout(self) -> float: ...
    @property
    def smtp_host(self) -> str: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def tls(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def sender(self) -> str: ...
    @property
    def recipients(self) -> tuple[str, ...]: ...
    @property
    def color(self) -> bool | None: ...


class Channel(Protocol):
    """One delivery channel. build() is pure; send() raises DeliveryError on failure."""

    @property
    def name(self) -> str: ...
    def build(self, alert: Alert) -> Any: ...
    def send(self, payload: Any) -> DeliveryResult: ...


@dataclass(frozen=True)
class Transports:
    """What a channel may be given to reach the world; each takes the ones it needs."""

    session: requests.Session | None = None
    smtp_factory: SmtpFactory | None = None
    now: Clock = utcnow
    stream: TextIO | None = None


class ChannelClass(Protocol):
    """A channel class as registered in CHANNELS: built from its settings and transports."""

    def from_transports(self, cfg: ChannelSettings, transports: Transports) -> Channel: ...
