"""Webhook channel: the documented JSON schema, Standard Webhooks signing, answers of a real
receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from monitor.channels import make_channel
from monitor.channels.webhook import WebhookChannel, WebhookPayload, WebhookSettings
from monitor.config import ChannelConfig
from monitor.errors import ConfigError, DeliveryError
from monitor.model import AlertKind
from tests.channel_servers import http_receiver
from tests.clock import FakeClock
from tests.factories import HOSTILE, RENDERED, make_alert
from tests.loopback import Reply, Request, closed_port

SECRET_PATH = "/hooks/tok_SUPERSECRET123"
RAW_SECRET = "correct horse battery staple"
WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def channel(
    session: requests.Session,
    url: str | None = None,
    *,
    secret: str | None = None,
    timeout: float = 5.0,
    now: FakeClock | None = None,
) -> WebhookChannel:
    settings = WebhookSettings(url, timeout, secret)
    cfg = ChannelConfig(name="ops", type="webhook", settings=settings)
    made = make_channel(cfg, session=session, now=now or FakeClock(RENDERED))
    assert isinstance(made, WebhookChannel)
    return made


def build(**kwargs: Any) -> WebhookPayload:
    with requests.Session() as s:
        return channel(s).build(make_alert(**kwargs))


def failure(
    session: requests.Session, *replies: Reply, timeout: float = 5.0
) -> tuple[DeliveryError, list[Request]]:
    """Send one alert to a receiver answering replies; return the error and the requests."""
    with http_receiver(replies) as rx:
        try:
            channel(session, rx.url(SECRET_PATH), secret=RAW_SECRET, timeout=timeout).send(build())
        except DeliveryError as exc:
            return exc, rx.requests
    raise AssertionError("the send succeeded")


def expected_signature(key: bytes, request: Request) -> str:
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}."
    digest = hmac.new(key, signed.encode() + request.body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- document -----------------------------------------------------------------------------


def test_document_has_the_documented_fields() -> None:
    """Every field of WEBHOOK.md is present with its documented type."""
    doc = json.loads(build(sources=2).body)
    assert doc["version"] == 1 and doc["id"] == "a1b2c3d4e5f6"
    assert doc["type"] == "alert.match" and doc["severity"] == "critical"
    assert doc["created"] == "2024-05-01T12:00:00Z"
    assert doc["rules"] == [
        {
            "id": "mass-killing",
            "title": "Mass killing",
            "severity": "critical",
            "description": "Killings of civilians",
            "theme": "violence",
        }
    ]
    assert doc["item"]["link"] == "https://news.un.org/en/story/2024/05/1149000"
    assert doc["item"]["published"] == "2024-05-01T11:40:00Z"
    term = doc["matches"][0]["terms"][0]
    assert set(term) == {"term", "text", "field", "score", "snippet"}
    assert doc["countries"] == ["SD"] and doc["themes"] == ["violence"]
    assert [s["feed"] for s in doc["sources"]] == ["Feed 0", "Feed 1"]
    assert doc["text"] == "" and doc["data"] == {}


@pytest.mark.parametrize(
    ("kind", "wire"),
    [
        (AlertKind.MATCH, "alert.match"),
        (AlertKind.CORROBORATION, "alert.corroboration"),
        (AlertKind.ESCALATION, "alert.escalation"),
        (AlertKind.SOURCE_DOWN, "alert.source_down"),
        (AlertKind.SOURCE_BACK, "alert.source_back"),
        (AlertKind.TEST, "alert.test"),
    ],
)
def test_type_names_the_kind(kind: str, wire: str) -> None:
    assert build(kind=kind).document["type"] == wire


def test_untrusted_text_is_bounded_and_cleaned() -> None:
    """Huge title and summary are cut; control characters never reach the receiver."""
    doc = build(title=HOSTILE + "x" * 10_000, summary="y" * 50_000).document
    assert len(doc["title"]) <= 300 and doc["title"].endswith("…")
    assert len(doc["item"]["summary"]) <= 1000
    assert len(doc["matches"][0]["terms"][0]["snippet"]) <= 200
    assert "\x1b" not in json.dumps(doc, ensure_ascii=False)
    assert "\u202e" not in doc["title"]


def test_non_http_links_become_null() -> None:
    assert build(link="javascript:alert(1)").document["item"]["link"] is None


def test_many_matches_are_capped() -> None:
    """200 rules and 100 terms each still give a bounded document."""
    doc = build(matches=200, hits=100, sources=500).document
    assert len(doc["matches"]) == 50 and len(doc["matches"][0]["terms"]) == 20
    assert len(doc["sources"]) == 100


def test_body_is_identical_on_every_build() -> None:
    """The body (and so the signed content, apart from the timestamp) never varies."""
    assert build().body == build().body


# --- send to a real receiver --------------------------------------------------------------


def test_signed_delivery_verifies(session: requests.Session) -> None:
    """Headers per Standard Webhooks; the signature recomputes from the raw secret."""
    with http_receiver() as rx:
        ch = channel(session, rx.url(SECRET_PATH), secret=RAW_SECRET)
        result = ch.send(ch.build(make_alert()))
    assert result.detail == "HTTP 200 from webhook 'ops'"
    (request,) = rx.requests
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "a1b2c3d4e5f6"
    assert request.headers["webhook-timestamp"] == str(int(RENDERED.timestamp()))
    assert request.headers["webhook-signature"] == expected_signature(RAW_SECRET.encode(), request)
    assert json.loads(request.body)["id"] == "a1b2c3d4e5f6"


def test_whsec_secret_is_base64_decoded(session: requests.Session) -> None:
    """A whsec_ secret signs with its decoded bytes, as the Standard Webhooks libraries do."""
    with http_receiver() as rx:
        ch = channel(session, rx.url(), secret=WHSEC)
        ch.send(ch.build(make_alert()))
    (request,) = rx.requests
    key = base64.b64decode(WHSEC.removeprefix("whsec_"))
    assert request.headers["webhook-signature"] == expected_signature(key, request)


def test_no_secret_no_signature(session: requests.Session) -> None:
    with http_receiver([Reply(204, b"")]) as rx:
        ch = channel(session, rx.url())
        ch.send(ch.build(make_alert()))
    assert "webhook-signature" not in rx.requests[0].headers


def test_retry_keeps_id_and_body_with_a_fresh_timestamp(session: requests.Session) -> None:
    """503 then 200: the retry carries the same id and body, signed at its own time."""
    clock = FakeClock(RENDERED)
    with http_receiver([Reply(503, b"busy")]) as rx:
        ch = channel(session, rx.url(), secret=RAW_SECRET, now=clock)
        payload = ch.build(make_alert())
        with pytest.raises(DeliveryError) as caught:
            ch.send(payload)
        clock.advance(90)
        ch.send(payload)
    assert caught.value.retryable
    first, second = rx.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == "a1b2c3d4e5f6"
    assert first.body == second.body
    assert int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 90
    assert second.headers["webhook-signature"] == expected_signature(RAW_SECRET.encode(), second)


def test_429_honours_retry_after(session: requests.Session) -> None:
    error, _ = failure(session, Reply(429, b"", {"Retry-After": "7"}))
    assert error.retryable and error.retry_after == 7.0


def test_410_gone_is_permanent_and_says_so(session: requests.Session) -> None:
    """410 goes dead at once with a reason a person can act on; nothing silent."""
    error, _ = failure(session, Reply(410, b"gone"))
    assert not error.retryable and "410 Gone from webhook 'ops'" in error.reason


def test_404_is_permanent_and_hides_url_and_secret(session: requests.Session) -> None:
    error, _ = failure(session, Reply(404, b"not found"))
    assert not error.retryable
    assert error.reason.startswith("HTTP 404 from webhook 'ops'")
    assert "SUPERSECRET" not in str(error) and RAW_SECRET not in str(error)


def test_redirect_is_permanent_and_not_followed(session: requests.Session) -> None:
    error, seen = failure(session, Reply(301, b"", {"Location": "/moved"}))
    assert not error.retryable and "redirect not followed" in error.reason
    assert [r.path for r in seen] == [SECRET_PATH]


def test_hanging_receiver_times_out_retryably(session: requests.Session) -> None:
    error, _ = failure(session, Reply(200, b"", delay=30), timeout=0.3)
    assert error.retryable and error.reason == "timeout after 0.3s from webhook 'ops'"


def test_connection_refused_is_retryable_without_secrets(session: requests.Session) -> None:
    url = f"http://127.0.0.1:{closed_port()}{SECRET_PATH}"
    with pytest.raises(DeliveryError) as caught:
        channel(session, url, secret=RAW_SECRET).send(build())
    assert caught.value.retryable
    assert "SUPERSECRET" not in str(caught.value) and caught.value.__cause__ is None


def test_bad_whsec_secret_is_a_config_error_without_the_secret(session: requests.Session) -> None:
    with pytest.raises(ConfigError) as caught:
        channel(session, "http://127.0.0.1:9/", secret="whsec_not*base64!SECRETBITS")
    assert "SECRETBITS" not in str(caught.value)
    assert "channels.ops.secret" in str(caught.value)
