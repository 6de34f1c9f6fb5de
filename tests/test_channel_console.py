"""Console channel: readable blocks, colour only where it belongs, no smuggled escapes."""

from __future__ import annotations

import io
from typing import Any

import pytest

from monitor.channels import CHANNELS, make_channel
from monitor.channels.console import ConsoleChannel, ConsoleSettings
from monitor.config import ChannelConfig
from monitor.errors import ConfigError, DeliveryError
from tests.factories import HOSTILE, RENDERED, make_alert


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def console(
    stream: io.StringIO, *, color: bool | None = None, environ: dict[str, str] | None = None
) -> ConsoleChannel:
    settings = ConsoleSettings(color=color)
    return ConsoleChannel(
        "screen", settings, stream=stream, now=lambda: RENDERED, environ=environ or {}
    )


def printed(ch: ConsoleChannel, stream: io.StringIO, **alert: Any) -> str:
    ch.send(ch.build(make_alert(**alert)))
    return stream.getvalue()


def test_block_shows_what_a_reader_needs() -> None:
    out = io.StringIO()
    text = printed(console(out), out, sources=2)
    for expected in (
        "[CRITICAL] Match: Reports of mass killings in El Fasher",
        "Rules: Mass killing (critical)",
        "Source: UN News · 2024-05-01 11:40 UTC",
        "Link: https://news.un.org/en/story/2024/05/1149000",
        "Countries: SD",
        '"mass killing" matched "mass killings" in title',
        "Sources (2):",
        "Alert id: a1b2c3d4e5f6",
    ):
        assert expected in text


def test_no_colour_when_not_a_terminal() -> None:
    out = io.StringIO()
    assert "\x1b" not in printed(console(out), out)


def test_colour_on_a_terminal() -> None:
    out = Terminal()
    assert printed(console(out), out).startswith("─" * 60 + "\n\x1b[1;97;41m[CRITICAL]")


@pytest.mark.parametrize(("color", "env"), [(None, {"NO_COLOR": "1"}), (False, {})])
def test_no_color_or_setting_turns_colour_off(color: bool | None, env: dict[str, str]) -> None:
    out = Terminal()
    assert "\x1b" not in printed(console(out, color=color, environ=env), out)


def test_setting_forces_colour_into_a_pipe() -> None:
    out = io.StringIO()
    assert "\x1b[" in printed(console(out, color=True), out)


def test_feed_text_cannot_smuggle_terminal_escapes() -> None:
    """Escape sequences and bidi overrides in a title are stripped, even with colour on."""
    out = Terminal()
    text = printed(console(out), out, title=HOSTILE, summary=HOSTILE)
    assert text.count("\x1b") == 4  # our own: headline colour + reset, footer dim + reset
    assert "\u202e" not in text


def test_huge_title_is_bounded() -> None:
    out = io.StringIO()
    first_line = printed(console(out), out, title="x" * 10_000).splitlines()[1]
    assert len(first_line) < 350 and first_line.endswith("…")


def test_closed_stream_is_a_retryable_failure() -> None:
    out = io.StringIO()
    ch = make_channel(ChannelConfig(name="screen", type="console"), stream=out)
    payload = ch.build(make_alert())
    out.close()
    with pytest.raises(DeliveryError) as caught:
        ch.send(payload)
    assert caught.value.retryable and "console 'screen'" in caught.value.reason


def test_registry_knows_every_channel_type() -> None:
    assert sorted(CHANNELS) == ["apprise", "console", "email", "slack", "webhook"]


def test_unknown_type_is_a_config_error_naming_the_channel() -> None:
    with pytest.raises(ConfigError) as caught:
        make_channel(ChannelConfig(name="pager", type="pagerduty"))
    assert "channels.pager.type" in str(caught.value)
