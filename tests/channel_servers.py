"""Real loopback servers for the channel tests: a scripted HTTP receiver and an SMTP sink.

HttpReceiver records every request and answers from a script of Replies (then the default),
each with a status, body, headers and an optional delay to play a hanging receiver.
SmtpSink runs aiosmtpd on 127.0.0.1 and records what it accepted, or answers scripted
rejections at RCPT or DATA. The alerts the channels render come from tests/factories.py.
"""

from __future__ import annotations

import ssl
import subprocess
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.loopback import LoopbackServer, QuietHandler, Reply, Request, closed_port, running

# Reply lives in tests/loopback.py; test_alerts_e2e, test_cli_tools, test_deliver and
# test_secrets still import it from here, beside the receiver it scripts.
__all__ = [
    "HttpReceiver",
    "Received",
    "Reply",
    "SmtpSink",
    "http_receiver",
    "self_signed_cert",
    "smtp_sink",
]


class _Server(LoopbackServer):
    def __init__(self, replies: Sequence[Reply], default: Reply, port: int = 0) -> None:
        super().__init__(_Handler, port)
        self.script: deque[Reply] = deque(replies)
        self.default = default
        self.requests: list[Request] = []

    def next_reply(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            return self.script.popleft() if self.script else self.default


class _Handler(QuietHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        reply = self.server.next_reply(Request("POST", self.path, self.lowered_headers(), body))
        if reply.delay:
            self.server.stopping.wait(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


class HttpReceiver:
    """A running receiver: .url(path), .requests, and the reply script."""

    def __init__(self, server: _Server) -> None:
        self._server = server

    @property
    def port(self) -> int:
        return self._server.port

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.port}{path}"

    @property
    def requests(self) -> list[Request]:
        with self._server.lock:
            return list(self._server.requests)


@contextmanager
def http_receiver(
    replies: Sequence[Reply] = (), default: Reply | None = None, port: int = 0
) -> Iterator[HttpReceiver]:
    with running(_Server(replies, default or Reply(), port)) as server:
        yield HttpReceiver(server)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class SmtpSink:
    """aiosmtpd handler: accepts and records, or answers the scripted rejection."""

    rcpt_reply: str | None = None  # e.g. "550 5.1.1 no such user"
    data_reply: str | None = None  # e.g. "451 4.3.0 try later"
    login: tuple[str, str] | None = None  # (user, password) required when set
    received: list[Received] = field(default_factory=list)
    port: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.login is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself


@contextmanager
def smtp_sink(
    sink: SmtpSink, *, tls: ssl.SSLContext | None = None, implicit_tls: ssl.SSLContext | None = None
) -> Iterator[SmtpSink]:
    """Run sink on a loopback port (sink.port): STARTTLS offered when tls is given,
    TLS from the first byte (SMTPS) when implicit_tls is given."""
    sink.port = closed_port()  # aiosmtpd's Controller cannot report a port-0 choice
    options: dict[str, Any] = {}
    if sink.login is not None:
        options.update(authenticator=sink.authenticate, auth_require_tls=tls is not None)
    if tls is not None:
        options.update(tls_context=tls, require_starttls=True)
    if implicit_tls is not None:
        options.update(ssl_context=implicit_tls, auth_require_tls=False)
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, **options)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
