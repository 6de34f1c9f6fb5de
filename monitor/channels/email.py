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

import hashlib
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from monitor.channels import emailbody, render
from monitor.channels.base import ChannelSettings, Clock, SmtpFactory, Transports, utcnow
from monitor.errors import ConfigError, DeliveryError
from monitor.model import Alert, DeliveryResult

TLS_MODES = ("starttls", "ssl", "none")
SUBJECT_MAX = 200


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
        msg["Date"] = format_datetime(render.as_utc(date))
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
        cfg: ChannelSettings,
        *,
        smtp_factory: SmtpFactory | None = None,
        now: Clock = utcnow,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if cfg.tls not in TLS_MODES:
            problem = f"channels.{cfg.name}.tls: must be one of {', '.join(TLS_MODES)}"
            raise ConfigError([problem])
        self._cfg = cfg
        self._ssl = ssl_context
        self._connect = smtp_factory or default_factory(cfg.tls, ssl_context)
        self._now = now
        self.label = f"email '{cfg.name}'"

    @classmethod
    def from_transports(cls, cfg: ChannelSettings, transports: Transports) -> EmailChannel:
        return cls(cfg, smtp_factory=transports.smtp_factory, now=transports.now)

    @property
    def name(self) -> str:
        return self._cfg.name

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
        msg_id = message_id(cfg.name, key, cfg.sender)
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
        smtp = self._connect(cfg.smtp_host, cfg.smtp_port, cfg.timeout)
        try:
            if cfg.tls == "starttls":
                smtp.starttls(context=self._ssl or ssl.create_default_context())
            if cfg.username:
                smtp.login(cfg.username, cfg.password or "")
            return smtp.send_message(msg, payload.sender, list(payload.recipients))
        finally:
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


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a failed QUIT after an accepted message must not turn it into a failure."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
