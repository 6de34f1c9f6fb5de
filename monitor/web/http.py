"""EDGE: the console's HTTP server: requests read into a `Request` (bounded), handed to the
app, its `Response` written back. Threads per connection, as the metrics endpoint."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import structlog

log = structlog.get_logger("monitor.web")
BODY_MAX = 1_000_000  # bytes: a note or a silence, never a file upload


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    address: str = ""

    def cookie(self, name: str) -> str | None:
        try:
            jar = SimpleCookie(self.headers.get("cookie", ""))
        except CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body (the pages' forms), last value wins."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    @property
    def https(self) -> bool:
        # set by a reverse proxy terminating TLS in front of us
        return self.headers.get("x-forwarded-proto", "").lower() == "https"


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Response]

# Every answer says: no framing, no sniffing, no referrer leaking alert ids to sources,
# and only our own styles (the pages carry no script at all).
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "
     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
]  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: ConsoleServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # a client that stops sending mid-request loses its thread after this
    # TCP_NODELAY: the head and the body are two writes; with Nagle the body waited for the
    # client's delayed ACK of the head (40 ms on Linux) on every keep-alive answer
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool = False) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > BODY_MAX:
            self._write(Response(413, b"request body too large\n"), head)
            self.close_connection = True
            return
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        request = Request(
            method="GET" if head else self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=False)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            address=self.client_address[0],
        )
        try:
            response = self.server.app(request)
        except Exception as exc:  # one broken request never takes the server down
            log.error("web.error", path=split.path, error=f"{type(exc).__name__}: {exc}"[:300])
            response = Response(500, b"internal error; see the monitor log\n")
        self._write(response, head)

    def _write(self, response: Response, head: bool) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if not any(name.lower() == "cache-control" for name, _ in response.headers):
            self.send_header("Cache-Control", "no-store")  # pages show live state
        for name, value in [*SECURITY_HEADERS, *response.headers]:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are not logged: their URLs may carry a feed token (alerts.atom)


class ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], app: Handler) -> None:
        super().__init__(addr, _Handler)
        self.app = app

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}/"


def serve(listen: str, app: Handler) -> ConsoleServer:
    """Serve `app` on HOST:PORT (port 0: any free one) in a background thread."""
    host, _, port = listen.rpartition(":")
    server = ConsoleServer((host.strip("[]") or "127.0.0.1", int(port)), app)
    threading.Thread(target=server.serve_forever, name="console", daemon=True).start()
    return server
