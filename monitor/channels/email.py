"""Email channel: one multipart (text + HTML) message per alert, or one digest of many,
sent over SMTP with STARTTLS, implicit TLS ("ssl") or none, and optional login.

Success only when the server accepted the message for every recipient. Classification:
  SMTP 4xx reply (connect, sender, recipients, data)   retryable
  SMTP 5xx reply (incl. 535 bad login, 550 rejected)   permanent
  STARTTLS/AUTH not offered, TLS certificate refused   permanent
  connection refused/reset/timeout, server hung up     retryable
The Message-ID is derived from the alert id (and channel), so a resend after a crash
carries the same id and mail clients can fold the duplicate; Date is set at send time.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from monitor.channels import emailbody, render
from monitor.channels.base import (
    ChannelType,
    Clock,
    Env,
    SettingsReader,
    SmtpFactory,
    Transports,
)
from monitor.errors import ConfigError, DeliveryError
from monitor.model import Alert, DeliveryResult, as_utc, utcnow

TLS_MODES = ("starttls", "ssl", "none")
SUBJECT_MAX = 200
KEYS = ("smtp_host", "smtp_port", "tls", "username", "password_env", "from", "to", "timeout")


@dataclass(frozen=True)
class EmailSettings:
    """An email channel's own keys (from = sender, to = recipients, password_env = password)."""

    smtp_host: str = "localhost"
    smtp_port: int = 25
    tls: str = "starttls"  # one of TLS_MODES
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # a secret, from password_env
    sender: str = "monitor@localhost"
    recipients: tuple[str, ...] = ()
    timeout: float = 10.0

    def secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()


def read_settings(t: SettingsReader, name: str, env: Env) -> EmailSettings:
    d = EmailSettings()
    out = EmailSettings(
        smtp_host=t.get("smtp_host", str, d.smtp_host),
        smtp_port=t.get("smtp_port", int, d.smtp_port),
        tls=t.get("tls", str, d.tls),
        username=t.get("username", str, "") or None,
        password=t.secret("password_env", env, required=False, owner=f"channel {name}"),
        sender=t.get("from", str, d.sender),
        recipients=t.strings("to"),
        timeout=t.duration("timeout", d.timeout),
    )
    if not out.recipients:
        t.problem("to", f"channel {name}: email needs at least one recipient")
    if out.tls not in TLS_MODES:
        t.problem("tls", f'"{out.tls}" is not one of {", ".join(TLS_MODES)}')
    return out


@dataclass(frozen=True)
class EmailPayload:
    """Everything of the message except its Date, which is the time of sending."""

    alert_id: str  # the alert id, or "digest:<hash>" for a digest
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str

    def message(self, date: datetime) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = format_datetime(as_utc(date))
        msg["Message-ID"] = self.message_id
        msg.set_content(self.text)
        msg.add_alternative(self.html, subtype="html")
        return msg


def message_id(channel: str, key: str, sender: str) -> str:
    """<monitor.channel.key@domain>, the domain taken from the sender address."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    local = re.sub(r"[^A-Za-z0-9.-]", "-", f"monitor.{channel}.{key}")[:120]
    return f"<{local}@{re.sub(r'[^A-Za-z0-9.-]', '-', domain)}>"


def default_factory(tls: str, context: ssl.SSLContext | None) -> SmtpFactory:
    """smtplib.SMTP, or SMTP_SSL for tls="ssl", verifying certificates by default."""

    def connect(host: str, port: int, timeout: float) -> smtplib.SMTP:
        if tls == "ssl":
            ctx = context or ssl.create_default_context()
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ctx)
        return smtplib.SMTP(host, port, timeout=timeout)

    return connect


class EmailChannel:
    """Sends alerts (and digests) to a fixed list of recipients."""

    def __init__(
        self,
        name: str,
        settings: EmailSettings,
        *,
        smtp_factory: SmtpFactory | None = None,
        now: Clock = utcnow,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if settings.tls not in TLS_MODES:
            problem = f"channels.{name}.tls: must be one of {', '.join(TLS_MODES)}"
            raise ConfigError([problem])
        self.name = name
        self._cfg = settings
        self._ssl = ssl_context
        self._connect = smtp_factory or default_factory(settings.tls, ssl_context)
        self._now = now
        self.label = f"email '{name}'"

    def build(self, alert: Alert) -> EmailPayload:
        """Pure: the message for one alert; Subject "[severity] title"."""
        return self._payload(
            alert.id,
            render.subject(alert, SUBJECT_MAX),
            emailbody.text_body(alert),
            emailbody.html_body(alert),
        )

    def build_digest(self, alerts: Sequence[Alert], period_label: str) -> EmailPayload:
        """Pure: one message listing every alert of the period, most severe first."""
        ids = "\n".join(sorted(a.id for a in alerts))
        key = "digest:" + hashlib.sha256(f"{period_label}\n{ids}".encode()).hexdigest()[:24]
        top = max((a.severity for a in alerts), default=None)
        marker = f"[digest, {top.label}]" if top is not None else "[digest]"
        title = emailbody.digest_title(alerts, period_label)
        return self._payload(
            key,
            render.truncate(f"{marker} {title}", SUBJECT_MAX),
            emailbody.digest_text(alerts, period_label),
            emailbody.digest_html(alerts, period_label),
        )

    def _payload(self, key: str, subject: str, text: str, html: str) -> EmailPayload:
        cfg = self._cfg
        msg_id = message_id(self.name, key, cfg.sender)
        return EmailPayload(key, msg_id, cfg.sender, tuple(cfg.recipients), subject, text, html)

    def send(self, payload: EmailPayload) -> DeliveryResult:
        """Deliver over SMTP; raise DeliveryError unless every recipient was accepted."""
        if not payload.recipients:
            raise DeliveryError(f"{self.label} has no recipients configured", retryable=False)
        msg = payload.message(self._now())
        try:
            refused = self._transmit(msg, payload)
        except smtplib.SMTPRecipientsRefused as exc:
            raise self._refused(exc.recipients) from None
        except smtplib.SMTPResponseException as exc:
            raise self._rejected(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError as exc:
            reason = f"{self.label}: server does not support {self._redact(str(exc))}"
            raise DeliveryError(reason, retryable=False) from None
        except ssl.SSLCertVerificationError:
            reason = f"{self.label}: TLS certificate of {self._cfg.smtp_host} not trusted"
            raise DeliveryError(reason, retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = f"{self.label}: connection to SMTP server failed ({type(exc).__name__})"
            raise DeliveryError(reason, retryable=True) from None
        if refused:
            raise self._refused(refused)
        count = len(payload.recipients)
        return DeliveryResult(f"{self.label}: accepted for {count} recipient(s)")

    def _transmit(self, msg: EmailMessage, payload: EmailPayload) -> dict[str, tuple[int, bytes]]:
        cfg = self._cfg
        start = time.monotonic()
        smtp = self._connect(cfg.smtp_host, cfg.smtp_port, cfg.timeout)
        # smtplib's timeout bounds each read: a server trickling its replies a byte at a
        # time would hold the send for ever. Past `timeout` the socket is shut under it.
        expired = threading.Event()
        timer = threading.Timer(
            max(0.0, cfg.timeout - (time.monotonic() - start)), _shut, (smtp, expired)
        )
        timer.daemon = True
        timer.start()
        try:
            if cfg.tls == "starttls":
                smtp.starttls(context=self._ssl or ssl.create_default_context())
            if cfg.username:
                smtp.login(cfg.username, cfg.password or "")
            return smtp.send_message(msg, payload.sender, list(payload.recipients))
        except (smtplib.SMTPException, OSError):
            if expired.is_set():
                reason = f"{self.label}: timeout after {cfg.timeout:g}s from the SMTP server"
                raise DeliveryError(reason, retryable=True) from None
            raise
        finally:
            timer.cancel()
            if expired.is_set():
                smtp.close()
            else:
                _quit(smtp)

    def _rejected(self, code: int, message: bytes | str) -> DeliveryError:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        reason = f"{self.label}: SMTP {code} {self._redact(render.line(text, 200))}".rstrip()
        return DeliveryError(reason, retryable=400 <= code < 500)

    def _refused(self, refused: dict[str, tuple[int, bytes]]) -> DeliveryError:
        """Refused recipients: retryable only if every refusal was temporary (4xx)."""
        codes = sorted({code for code, _ in refused.values()})
        who = ", ".join(sorted(refused))
        reason = f"{self.label}: SMTP {'/'.join(map(str, codes))} refused recipient(s) {who}"
        return DeliveryError(
            render.truncate(reason, 300), retryable=all(400 <= c < 500 for c in codes)
        )

    def _redact(self, text: str) -> str:
        # Servers do not echo passwords, but a reason must never be where one leaks.
        password = self._cfg.password
        return text.replace(password, "[redacted]") if password else text


def _shut(smtp: smtplib.SMTP, expired: threading.Event) -> None:
    expired.set()
    sock = smtp.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a failed QUIT after an accepted message must not turn it into a failure."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _make(name: str, settings: EmailSettings, transports: Transports) -> EmailChannel:
    return EmailChannel(name, settings, smtp_factory=transports.smtp_factory, now=transports.now)


TYPE = ChannelType(KEYS, read_settings, _make, EmailSettings, digest=True)
