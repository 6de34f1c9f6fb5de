"""The shape every channel shares: the reader its settings are read with, the transports
it is given, the Channel protocol (build is pure, send does the I/O) and its registry entry."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TextIO, TypeVar

import requests

from monitor.model import Alert, DeliveryResult, utcnow

T = TypeVar("T")
S = TypeVar("S")
Clock = Callable[[], datetime]
# smtp_factory(host, port, timeout) -> a connected smtplib.SMTP (or SMTP_SSL for tls="ssl").
SmtpFactory = Callable[[str, int, float], smtplib.SMTP]
Env = Mapping[str, str]
# deadline(seconds): a context that ends the I/O of its thread once `seconds` have passed (the
# service's shuts the socket: monitor.reader.deadline.watchdog); it yields an object whose
# `expired` says whether it did. Per-read timeouts never stop a receiver trickling bytes.
Deadline = Callable[[float], AbstractContextManager[Any]]


@contextmanager
def no_deadline(seconds: float) -> Iterator[None]:
    """The deadline of callers that give none: per-read timeouts only."""
    yield None


class SettingsReader(Protocol):
    """The strict-reader methods a channel reads its own [[channels]] keys with.

    monitor.config.reader.Table has them; declared here because channels may not import
    config. Each records a problem at the key's path and returns the default on a mistake.
    """

    def get(self, name: str, kind: type[T] | tuple[type, ...], default: T) -> T: ...
    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]: ...
    def duration(self, name: str, default: float) -> float: ...
    def problem(self, name: str, message: str) -> None: ...
    def secret(self, name: str, env: Env, *, required: bool, owner: str = "") -> str | None: ...
    def secret_url(self, name: str, env: Env, *, required: bool, owner: str) -> str | None: ...


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
    deadline: Deadline = no_deadline


@dataclass(frozen=True)
class ChannelType(Generic[S]):
    """One entry of the CHANNELS registry: a type's own keys, how to read them into its
    settings S, and how to build the channel from a name, settings and transports."""

    keys: tuple[str, ...]  # every key read_settings reads (other types accept and ignore them)
    read_settings: Callable[[SettingsReader, str, Env], S]
    make: Callable[[str, S, Transports], Channel]
    defaults: Callable[[], S]  # the settings of a channel configured without any
    rate_limit: float = 0.0  # default min seconds between two sends
    digest: bool = False  # the channel has build_digest: `digest` and its keys mean something
    # The delivery targets one table declares, as (name suffix, settings) each: config makes
    # each a channel "<name>/<suffix>" with its own outbox rows. None: the table is one.
    targets: Callable[[S], tuple[tuple[str, S], ...]] | None = None


class ChannelSpec(Protocol):
    """What make_channel reads of a monitor.config.ChannelConfig."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def settings(self) -> object | None: ...
