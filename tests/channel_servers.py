"""Real loopback servers for the channel tests: a scripted HTTP receiver and an SMTP sink.

HttpReceiver records every request and answers from a script of Replies (then the default),
each with a status, body, headers and an optional delay to play a hanging receiver.
SmtpSink runs aiosmtpd on 127.0.0.1 and records what it accepted, or answers scripted
rejections at RCPT or DATA.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.model import Alert, AlertKind, Item, Match, RuleRef, Severity, Source, TermHit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # hold the answer this long (cut short when the server stops)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, replies: Sequence[Reply], default: Reply) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: deque[Reply] = deque(replies)
        self.default = default
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.released = threading.Event()

    def next_reply(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            return self.script.popleft() if self.script else self.default

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is what some tests want


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.next_reply(Request("POST", self.path, headers, body))
        if reply.delay:
            self.server.released.wait(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HttpReceiver:
    """A running receiver: .url(path), .requests, and the reply script."""

    def __init__(self, server: _Server) -> None:
        self._server = server

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    @property
    def requests(self) -> list[Request]:
        with self._server.lock:
            return list(self._server.requests)


@contextmanager
def http_receiver(
    replies: Sequence[Reply] = (), default: Reply | None = None
) -> Iterator[HttpReceiver]:
    server = _Server(replies, default or Reply())
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield HttpReceiver(server)
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A loopback port with nothing listening on it (just released by the OS)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


# Alerts for the channel tests -------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOSTILE = (
    "<!channel> <@U123> <https://evil.example|un.org> & <script>alert(1)</script>"
    " \x1b[31mred\x1b[0m \u202eevil\u202c"
)


def make_alert(
    title: str = "Reports of mass killings in El Fasher",
    *,
    kind: str = AlertKind.MATCH,
    severity: Severity = Severity.CRITICAL,
    link: str | None = "https://news.un.org/en/story/2024/05/1149000",
    summary: str = "The UN human rights office said civilians were killed.",
    matches: int = 1,
    hits: int = 1,
    sources: int = 1,
    text: str = "",
    alert_id: str = "a1b2c3d4e5f6",
) -> Alert:
    """An alert with as many matches, hits per match and sources as asked for."""
    item = Item(
        key="k1", feed="UN News", title=title, summary=summary, link=link,
        published=T0 - timedelta(minutes=20), countries=("SD",),
    )  # fmt: skip
    rule = RuleRef("mass-killing", "Mass killing", severity, "Killings of civilians", "violence")
    term = TermHit("mass killing", "mass killings", "title", 96.0, snippet=f"… {title[:150]} …")
    found = tuple(
        Match(f"rule-{i}", f"Rule {i}", severity, "d", 90.0, (term,) * hits, theme="violence")
        for i in range(matches)
    )
    reports = tuple(
        Source(f"Feed {i}", title, f"https://example.org/{i}", T0, f"k{i}") for i in range(sources)
    )
    return Alert(
        id=alert_id, kind=kind, created=T0, severity=severity, title=title, rules=(rule,),
        item=item, matches=found, countries=("SD",), sources=reports, text=text,
    )  # fmt: skip
