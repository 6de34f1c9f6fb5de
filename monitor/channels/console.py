"""Console channel: a readable multi-line block per alert on a text stream (stdout).

Colour only on a terminal and only when NO_COLOR is unset (https://no-color.org), unless the
channel's `color` setting forces it on or off. Feed text has its control characters
removed first, so a title cannot smuggle terminal escape sequences.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from monitor.channels import render
from monitor.channels.base import ChannelType, Clock, Env, SettingsReader, Transports
from monitor.errors import DeliveryError
from monitor.model import Alert, DeliveryResult, Severity, utcnow

RESET = "\x1b[0m"
DIM = "\x1b[2m"
SEVERITY_ANSI = {
    Severity.INFO: "\x1b[2m",
    Severity.LOW: "\x1b[34m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.HIGH: "\x1b[1;31m",
    Severity.CRITICAL: "\x1b[1;97;41m",
}
RULE = "─" * 60


@dataclass(frozen=True)
class ConsoleSettings:
    """A console channel's own key: color (None: colour on a terminal unless NO_COLOR)."""

    color: bool | None = None

    def secrets(self) -> tuple[str, ...]:
        return ()


def read_settings(t: SettingsReader, name: str, env: Env) -> ConsoleSettings:
    return ConsoleSettings(color=t.get("color", bool, None))


@dataclass(frozen=True)
class ConsolePayload:
    alert_id: str
    text: str


def wants_colour(stream: TextIO, environ: Mapping[str, str], setting: bool | None) -> bool:
    """The channel's setting if given, else: a TTY and NO_COLOR unset or empty."""
    if setting is not None:
        return setting
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not environ.get("NO_COLOR")


def render_text(alert: Alert, *, colour: bool) -> str:
    """The block printed for alert: a rule, the severity-coloured headline, then details."""
    lines = render.plain_lines(alert)
    if colour:
        lines[0] = f"{SEVERITY_ANSI[alert.severity]}{lines[0]}{RESET}"
        lines[-1] = f"{DIM}{lines[-1]}{RESET}"
    return "\n".join([RULE, *lines]) + "\n"


class ConsoleChannel:
    """Prints alerts; useful for a first run and for `monitor send-test`."""

    def __init__(
        self,
        name: str,
        settings: ConsoleSettings,
        *,
        stream: TextIO | None = None,
        now: Clock = utcnow,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._stream = stream if stream is not None else sys.stdout
        self._now = now
        env = os.environ if environ is None else environ
        self.colour = wants_colour(self._stream, env, settings.color)
        self.label = f"console '{name}'"

    def build(self, alert: Alert) -> ConsolePayload:
        """Pure: the text block (coloured or not, as decided at construction)."""
        return ConsolePayload(alert.id, render_text(alert, colour=self.colour))

    def send(self, payload: ConsolePayload) -> DeliveryResult:
        try:
            self._stream.write(payload.text)
            self._stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            reason = f"{self.label}: cannot write ({type(exc).__name__})"
            raise DeliveryError(reason, retryable=True) from None
        return DeliveryResult(f"{self.label}: printed")


def _make(name: str, settings: ConsoleSettings, transports: Transports) -> ConsoleChannel:
    return ConsoleChannel(name, settings, stream=transports.stream, now=transports.now)


TYPE = ChannelType(("color",), read_settings, _make, ConsoleSettings)
