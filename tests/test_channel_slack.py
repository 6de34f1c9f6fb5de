"""Slack channel: escaping and limits of the Block Kit payload; answers of a real receiver."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from monitor.channels import make_channel
from monitor.channels.http import HttpSettings
from monitor.channels.slack import SlackChannel, SlackPayload
from monitor.config import ChannelConfig
from monitor.errors import DeliveryError
from tests.channel_servers import http_receiver
from tests.factories import HOSTILE, RENDERED, make_alert
from tests.loopback import Reply, Request, closed_port

SECRET_PATH = "/services/T0000/B0000/XXXXsecretTOKEN"


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def channel(
    session: requests.Session, url: str | None = None, timeout: float = 5.0
) -> SlackChannel:
    cfg = ChannelConfig(name="ops", type="slack", settings=HttpSettings(url, timeout))
    made = make_channel(cfg, session=session, now=lambda: RENDERED)
    assert isinstance(made, SlackChannel)
    return made


def texts(payload: SlackPayload) -> list[str]:
    """Every text string of the message: fallback, header, sections, context."""
    found = [payload.body["text"]]
    for block in payload.body["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [e["text"] for e in block.get("elements", [])]
    return found


def sections(payload: SlackPayload) -> list[str]:
    return [b["text"]["text"] for b in payload.body["blocks"] if b["type"] == "section"]


def header(payload: SlackPayload) -> str:
    text: str = payload.body["blocks"][0]["text"]["text"]
    return text


def build(**kwargs: Any) -> SlackPayload:
    with requests.Session() as s:
        return channel(s).build(make_alert(**kwargs))


def failure(
    session: requests.Session, reply: Reply, timeout: float = 5.0
) -> tuple[DeliveryError, list[Request]]:
    """Send one alert to a receiver that answers reply; return the error and the requests."""
    with http_receiver([reply]) as rx:
        try:
            channel(session, rx.url(SECRET_PATH), timeout).send(build())
        except DeliveryError as exc:
            return exc, rx.requests
    raise AssertionError("the send succeeded")


# --- payload ------------------------------------------------------------------------------


def test_hostile_title_cannot_mention_or_link() -> None:
    """<!channel>, <@U123> and <url|label> in feed text arrive escaped, never as syntax."""
    payload = build(title=HOSTILE, summary=HOSTILE)
    for text in texts(payload):
        assert "<!channel>" not in text and "<@U123>" not in text
        assert "<https://evil" not in text
        # the only Slack syntax left is links to the item's own URL or the sources' URLs
        for target in re.findall(r"<([^>]*)>", text):
            assert target.startswith(("https://news.un.org/", "https://example.org/"))
    assert "&lt;!channel&gt;" in header(payload)


def test_control_characters_and_bidi_overrides_are_removed() -> None:
    """Terminal escapes and right-to-left overrides cannot reach the message."""
    joined = "".join(texts(build(title=HOSTILE)))
    assert "\x1b" not in joined and "\u202e" not in joined


def test_item_link_is_the_only_link_and_is_escaped() -> None:
    """| and > in the item's URL are percent-encoded so the link cannot be re-labelled."""
    payload = build(link="https://un.example/a|b>c?x=1&y=2")
    item_section = sections(payload)[0]
    assert "<https://un.example/a%7Cb%3Ec?x=1&amp;y=2|" in item_section


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "data:text/html,x", "https://un.org@evil.example/", "ftp://x/y"]
)
def test_unsafe_item_links_are_not_linked(link: str) -> None:
    """A link that is not plain http(s) shows the title without a link."""
    item_section = sections(build(link=link))[0]
    assert "<" not in item_section


def test_ten_thousand_character_title_is_truncated_cleanly() -> None:
    """Header <= 150, every section <= 3,000, and the cut is marked with an ellipsis."""
    payload = build(title="genocide " * 1250)
    assert len(header(payload)) <= 150 and header(payload).endswith("…")
    assert all(len(text) <= 3000 for text in sections(payload))
    assert len(json.dumps(payload.body)) < 40_000


def test_escaping_never_cuts_an_entity_in_half() -> None:
    """A title of ampersands is bounded after escaping without a dangling '&am'."""
    head = header(build(title="&" * 400))
    assert len(head) <= 150
    assert re.sub(r"&amp;", "", head.split(": ", 1)[1]).strip("…") == ""


def test_two_hundred_matches_fit_in_fifty_blocks() -> None:
    """200 rules firing still gives <= 50 blocks, the last saying how many were left out."""
    payload = build(matches=200, hits=40, sources=300, text="x" * 5000)
    blocks = payload.body["blocks"]
    assert len(blocks) <= 50
    assert any("more matched rules" in text for text in sections(payload))
    assert all(0 < len(text) <= 3000 for text in sections(payload))


def test_message_shows_what_a_reader_needs() -> None:
    """Severity, rule, linked title, source and time, country, term with snippet, sources."""
    payload = build(sources=3)
    joined = "\n".join(texts(payload))
    assert header(payload).startswith("🔴 CRITICAL")
    for expected in ("Mass killing", "UN News · 2024-05-01 11:40 UTC", "SD", '"mass killing"'):
        assert expected in joined
    assert "Reports of mass killings in El Fasher" in payload.body["text"]
    assert "*Sources (3):*" in joined


def test_build_is_pure() -> None:
    """The same alert builds the same payload, whatever the time."""
    assert build() == build()


# --- send to a real receiver --------------------------------------------------------------


def test_ok_answer_is_success_and_body_is_the_payload(session: requests.Session) -> None:
    """200 "ok" means delivered; the receiver got the Block Kit JSON."""
    with http_receiver([Reply(200, b"ok")]) as rx:
        ch = channel(session, rx.url(SECRET_PATH))
        payload = ch.build(make_alert())
        result = ch.send(payload)
    assert "ok" in result.detail
    (request,) = rx.requests
    assert json.loads(request.body) == payload.body
    assert request.headers["content-type"].startswith("application/json")


def test_rate_limited_is_retryable_after_retry_after(session: requests.Session) -> None:
    """429 with Retry-After: retry, and not before the receiver asked."""
    error, _ = failure(session, Reply(429, b"rate_limited", {"Retry-After": "30"}))
    assert error.retryable and error.retry_after == 30.0


def test_server_error_with_http_date_is_retryable(session: requests.Session) -> None:
    """503 with an HTTP-date Retry-After gives the seconds until then (by the given clock)."""
    later = (RENDERED + timedelta(minutes=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    error, _ = failure(session, Reply(503, b"", {"Retry-After": later}))
    assert error.retryable and error.retry_after == 120.0


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_payload"),
        (404, "channel_not_found"),
        (404, "no_service"),
        (410, "channel_is_archived"),
        (403, "action_prohibited"),
        (403, "invalid_token"),
        (404, "no_active_hooks"),
        (401, "something_new"),
    ],
)
def test_slack_errors_are_permanent_and_named(
    session: requests.Session, status: int, code: str
) -> None:
    """Slack's refusals go dead at once; the reason names channel and code, not the URL."""
    error, _ = failure(session, Reply(status, code.encode()))
    assert not error.retryable
    assert error.reason == f"HTTP {status} from slack 'ops': {code}"


def test_redirect_is_not_followed(session: requests.Session) -> None:
    """A 3xx is a permanent failure and the Location is never posted to."""
    error, seen = failure(session, Reply(302, b"", {"Location": "/elsewhere"}))
    assert not error.retryable and "redirect" in error.reason
    assert [r.path for r in seen] == [SECRET_PATH]


def test_200_without_ok_is_not_success(session: requests.Session) -> None:
    """Only Slack's "ok" counts: a proxy's 200 page is a visible permanent failure."""
    error, _ = failure(session, Reply(200, b"<html>login</html>"))
    assert not error.retryable


def test_connection_refused_is_retryable_and_hides_url(session: requests.Session) -> None:
    """Nothing listening: retry later; the secret URL is nowhere in the error."""
    url = f"http://127.0.0.1:{closed_port()}{SECRET_PATH}"
    with pytest.raises(DeliveryError) as caught:
        channel(session, url).send(build())
    assert caught.value.retryable
    assert "secretTOKEN" not in str(caught.value) and caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_hanging_receiver_times_out_and_is_retryable(session: requests.Session) -> None:
    """A receiver that never answers costs about the configured timeout, then retries."""
    error, _ = failure(session, Reply(200, b"ok", delay=30), timeout=0.3)
    assert error.retryable and "timeout" in error.reason
    assert "secretTOKEN" not in str(error)


def test_missing_url_is_permanent(session: requests.Session) -> None:
    """A channel whose URL variable was empty fails visibly instead of posting nowhere."""
    with pytest.raises(DeliveryError) as caught:
        channel(session, None).send(build())
    assert not caught.value.retryable
