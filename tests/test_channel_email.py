"""Email channel: escaped multipart messages and digests, delivered to a real aiosmtpd server."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.channels import make_channel
from monitor.channels.email import EmailChannel, EmailPayload, EmailSettings
from monitor.config import ChannelConfig
from monitor.errors import DeliveryError
from monitor.model import Severity
from tests.channel_servers import SmtpSink, self_signed_cert, smtp_sink
from tests.factories import HOSTILE, RENDERED, make_alert
from tests.loopback import closed_port

PASSWORD = "s3cret-PASSWORD"


def settings(port: int = 25, **overrides: Any) -> EmailSettings:
    given: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "tls": "none",
        "sender": "monitor@alerts.example.org",
        "recipients": ("desk@example.org", "duty@example.org"),
        "timeout": 5.0,
    }
    return EmailSettings(**(given | overrides))


def channel(
    port: int = 25, *, ssl_context: ssl.SSLContext | None = None, **kw: Any
) -> EmailChannel:
    return EmailChannel("desk", settings(port, **kw), now=lambda: RENDERED, ssl_context=ssl_context)


def parts(msg: EmailMessage) -> tuple[str, str]:
    """The text and HTML alternatives of a message."""
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def payload_parts(payload: EmailPayload) -> tuple[str, str]:
    return parts(payload.message(RENDERED))


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink(SmtpSink()) as running:
        yield running


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def server_tls(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    return ctx


def client_tls(cert: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert[0]))


# --- payload ------------------------------------------------------------------------------


def test_hostile_feed_text_is_escaped_in_html() -> None:
    """Markup in a title or summary shows as text; the only link is the item's own."""
    text, html = payload_parts(channel().build(make_alert(title=HOSTILE, summary=HOSTILE)))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<a href=") == 1
    assert '<a href="https://news.un.org/en/story/2024/05/1149000">' in html
    assert "\x1b" not in text + html and "\u202e" not in text + html


def test_unsafe_link_is_not_linked() -> None:
    _, html = payload_parts(channel().build(make_alert(link="javascript:alert(1)")))
    assert "<a " not in html and "javascript:" not in html


def test_subject_is_severity_and_bounded_title() -> None:
    payload = channel().build(make_alert(title="Massacre " * 2000))
    assert payload.subject.startswith("[critical] Massacre Massacre")
    assert len(payload.subject) <= 200 and payload.subject.endswith("…")


def test_message_id_is_stable_and_uses_sender_domain() -> None:
    """The same alert keeps its Message-ID on every retry, so clients fold a resend."""
    first = channel().build(make_alert())
    assert first.message_id == channel().build(make_alert()).message_id
    assert first.message_id.endswith("@alerts.example.org>")


def test_digest_lists_every_alert_most_severe_first() -> None:
    alerts = [
        make_alert("Low item", severity=Severity.LOW, alert_id="a1"),
        make_alert("Critical item", severity=Severity.CRITICAL, alert_id="a2"),
        make_alert("Medium item", severity=Severity.MEDIUM, alert_id="a3"),
    ]
    payload = channel().build_digest(alerts, "1 May 2024")
    text, html = payload_parts(payload)
    assert payload.subject == "[digest, critical] Monitor digest: 3 alerts, 1 May 2024"
    for body in (text, html):
        positions = [body.index(t) for t in ("Critical item", "Medium item", "Low item")]
        assert positions == sorted(positions)


# --- delivery to aiosmtpd -----------------------------------------------------------------


def test_alert_arrives_as_well_formed_multipart(sink: SmtpSink) -> None:
    """One message to every recipient: text + HTML alternatives, Message-ID, Date, escaping."""
    cfg = ChannelConfig("desk", "email", settings=settings(sink.port))
    ch = make_channel(cfg, session=None, now=lambda: RENDERED)
    result = ch.send(ch.build(make_alert(title="Killings <b>reported</b> & denied")))
    assert "accepted for 2 recipient(s)" in result.detail
    (got,) = sink.received
    assert got.rcpt_tos == ["desk@example.org", "duty@example.org"]
    msg = got.message
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Message-ID"].startswith("<monitor.desk.a1b2c3d4e5f6@")
    assert parsedate_to_datetime(msg["Date"]) == RENDERED
    assert msg["Subject"] == "[critical] Killings <b>reported</b> & denied"
    text, html = parts(msg)
    assert "Killings <b>reported</b> & denied" in text
    assert "Killings &lt;b&gt;reported&lt;/b&gt; &amp; denied" in html


def test_digest_arrives_as_one_email(sink: SmtpSink) -> None:
    ch = channel(sink.port)
    alerts = [make_alert(f"Story {i}", alert_id=f"id{i}") for i in range(5)]
    ch.send(ch.build_digest(alerts, "daily"))
    (got,) = sink.received
    text, html = parts(got.message)
    assert all(f"Story {i}" in text and f"Story {i}" in html for i in range(5))


@pytest.mark.parametrize(
    ("where", "reply", "retryable"),
    [
        ("rcpt", "550 5.1.1 no such mailbox", False),
        ("rcpt", "450 4.2.0 mailbox busy", True),
        ("data", "554 5.7.1 rejected as spam", False),
        ("data", "451 4.3.0 try again later", True),
    ],
)
def test_smtp_rejections_are_classified(where: str, reply: str, retryable: bool) -> None:
    """5xx is permanent, 4xx retryable; the reason carries the server's code."""
    sink_spec = SmtpSink(rcpt_reply=reply) if where == "rcpt" else SmtpSink(data_reply=reply)
    with smtp_sink(sink_spec) as sink:
        ch = channel(sink.port)
        with pytest.raises(DeliveryError) as caught:
            ch.send(ch.build(make_alert()))
    assert caught.value.retryable is retryable
    assert reply[:3] in caught.value.reason and caught.value.reason.startswith("email 'desk'")
    assert sink.received == []


def test_connection_refused_is_retryable() -> None:
    ch = channel(closed_port())
    with pytest.raises(DeliveryError) as caught:
        ch.send(ch.build(make_alert()))
    assert caught.value.retryable


def test_login_then_deliver() -> None:
    with smtp_sink(SmtpSink(login=("monitor", PASSWORD))) as sink:
        ch = channel(sink.port, username="monitor", password=PASSWORD)
        ch.send(ch.build(make_alert()))
    assert len(sink.received) == 1


def test_bad_login_is_permanent_and_hides_password() -> None:
    with smtp_sink(SmtpSink(login=("monitor", "other"))) as sink:
        ch = channel(sink.port, username="monitor", password=PASSWORD)
        with pytest.raises(DeliveryError) as caught:
            ch.send(ch.build(make_alert()))
    assert not caught.value.retryable and "535" in caught.value.reason
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_login_and_delivery_over_tls_with_trusted_certificate(
    cert: tuple[Path, Path], tls: str
) -> None:
    """tls = "starttls" upgrades a plain connection, tls = "ssl" speaks TLS from the first
    byte (port 465 style); either way login goes over TLS, then delivery."""
    server = server_tls(cert)
    offered = {"tls": server} if tls == "starttls" else {"implicit_tls": server}
    with smtp_sink(SmtpSink(login=("monitor", PASSWORD)), **offered) as sink:
        ch = channel(
            sink.port, tls=tls, username="monitor", password=PASSWORD, ssl_context=client_tls(cert)
        )
        ch.send(ch.build(make_alert()))
    assert len(sink.received) == 1


def test_untrusted_certificate_is_permanent(cert: tuple[Path, Path]) -> None:
    """A certificate the system does not trust is a configuration problem, not a blip."""
    with smtp_sink(SmtpSink(), tls=server_tls(cert)) as sink:
        ch = channel(sink.port, tls="starttls")
        with pytest.raises(DeliveryError) as caught:
            ch.send(ch.build(make_alert()))
    assert not caught.value.retryable and "not trusted" in caught.value.reason
    assert sink.received == []


def test_starttls_not_offered_is_permanent(sink: SmtpSink) -> None:
    """Asked for STARTTLS, never falls back to plain text."""
    ch = channel(sink.port, tls="starttls")
    with pytest.raises(DeliveryError) as caught:
        ch.send(ch.build(make_alert()))
    assert not caught.value.retryable and "STARTTLS" in caught.value.reason
    assert sink.received == []
