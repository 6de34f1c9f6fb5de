"""A scriptable loopback feed server for fetch, parse and end-to-end tests.

FeedServer runs a ThreadingHTTPServer on 127.0.0.1, port 0, in a thread. Each path answers
from its own script of Responses (then repeats the last one): status, headers, body, a delay
before the headers, a trickle (bytes dribbled one by one), a streamed body of any size, and
validators (etag / last_modified answered with 304 when the client sends them back).
Every request is recorded with its headers (names lower-cased) so tests can assert what
the client sent.
"""

from __future__ import annotations

import gzip
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line (cut short when the server stops)
    trickle: float = 0.0  # seconds between single bytes of the body
    trickle_head: bool = False  # dribble the status line and headers too (with trickle)
    stream: Callable[[], Iterable[bytes]] | None = None  # body of unknown length; closes after
    etag: str | None = None  # sent, and answered with 304 when If-None-Match matches
    last_modified: str | None = None  # likewise with If-Modified-Since


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased


def redirect(to: str, status: int = 302) -> Response:
    return Response(status, headers={"Location": to})


def gzipped(body: bytes, times: int = 1) -> Response:
    """body gzip-compressed `times` times, with the matching Content-Encoding."""
    for _ in range(times):
        body = gzip.compress(body, compresslevel=9)
    return Response(body=body, headers={"Content-Encoding": ", ".join(["gzip"] * times)})


def zeros(total: int, chunk: int = 1 << 16) -> Callable[[], Iterator[bytes]]:
    """A streamed body of `total` bytes, generated on the fly (never held in memory)."""

    def gen() -> Iterator[bytes]:
        sent = 0
        while sent < total:
            n = min(chunk, total - sent)
            yield b"x" * n
            sent += n

    return gen


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scripts: dict[str, deque[Response]] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def next_response(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            script = self.scripts.get(request.path.split("?", 1)[0])
            if not script:
                return Response(404, b"not found")
            return script.popleft() if len(script) > 1 else script[0]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up mid-body are what several tests want


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        r = self.server.next_response(Request("GET", self.path, headers))
        if r.delay and self.server.stopping.wait(r.delay):
            return
        if r.trickle_head:
            self._trickle_all(r)
            return
        if _not_modified(r, headers):
            self.send_response(304)
            self._validators(r)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(r.status)
        self._validators(r)
        for name, value in r.headers.items():
            self.send_header(name, value)
        if r.stream is not None or r.trickle:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(r.body)))
        self.end_headers()
        self._body(r)

    def _trickle_all(self, r: Response) -> None:
        head = f"HTTP/1.1 {r.status} OK\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in {**r.headers, "Connection": "close"}.items()
        )
        self.close_connection = True
        self._body(Response(body=head.encode() + b"\r\n" + r.body, trickle=r.trickle))

    def _validators(self, r: Response) -> None:
        if r.etag:
            self.send_header("ETag", r.etag)
        if r.last_modified:
            self.send_header("Last-Modified", r.last_modified)

    def _body(self, r: Response) -> None:
        try:
            if r.stream is not None:
                for chunk in r.stream():
                    if self.server.stopping.is_set():
                        return
                    self.wfile.write(chunk)
            elif r.trickle:
                for i in range(len(r.body)):
                    self.wfile.write(r.body[i : i + 1])
                    self.wfile.flush()
                    if self.server.stopping.wait(r.trickle):
                        return
            else:
                self.wfile.write(r.body)
        except OSError:
            pass  # the client gave up (cap, deadline): that is the point

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _not_modified(r: Response, headers: dict[str, str]) -> bool:
    if r.etag and headers.get("if-none-match") == r.etag:
        return True
    return bool(r.last_modified and headers.get("if-modified-since") == r.last_modified)


class FeedServer:
    """A running server: .serve(path, *responses), .url(path), .requests(path)."""

    def __init__(self, server: _Server) -> None:
        self._server = server

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def serve(self, path: str, *responses: Response) -> str:
        """Script a path (answered in order, the last one repeated); returns its URL."""
        with self._server.lock:
            self._server.scripts[path] = deque(responses or (Response(),))
        return self.url(path)

    def requests(self, path: str | None = None) -> list[Request]:
        with self._server.lock:
            return [r for r in self._server.requests if path is None or r.path == path]


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield FeedServer(server)
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


def rss(*items: str, title: str = "Test feed", link: str = "http://example.org/") -> bytes:
    """An RSS 2.0 document around the given <item> elements."""
    body = "".join(items)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>{link}</link><description>d</description>"
        f"{body}</channel></rss>"
    ).encode()


def item(
    title: str,
    *,
    guid: str | None = None,
    link: str | None = None,
    date: str | None = "Mon, 02 Mar 2026 10:00:00 GMT",
    description: str = "",
    extra: str = "",
) -> str:
    parts = [f"<title>{title}</title>"]
    if guid is not None:
        parts.append(f"<guid isPermaLink='false'>{guid}</guid>")
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    if description:
        parts.append(f"<description>{description}</description>")
    return "<item>" + "".join(parts) + extra + "</item>"


RULES = """theme = "test"

[[rules]]
id = "massacre"
title = "Massacre reported"
severity = "high"
description = "A test rule."
any = ["massacre"]
"""


def write_config(
    folder: Path,
    feeds: dict[str, str],
    *,
    defaults: str = "",
    channels: str = '[[channels]]\nname = "console"\ntype = "console"\ncolor = false\n',
) -> Path:
    """A config in folder (with a one-rule rules/ beside it): backfill all, fast timeouts."""
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "test.toml").write_text(RULES, encoding="utf-8")
    tables = "".join(
        f'[[feeds]]\nname = "{name}"\nurl = "{url}"\njitter = "0s"\n\n'
        for name, url in feeds.items()
    )
    path = folder / "config.toml"
    path.write_text(
        '[state]\npath = "state/monitor.db"\n\n[defaults]\nbackfill = "all"\n'
        'connect_timeout = "2s"\nread_timeout = "3s"\ntotal_timeout = "5s"\n'
        f'interval = "10m"\nmax_backoff = "6h"\n{defaults}\n'
        '[logging]\nformat = "json"\nlevel = "info"\n\n'
        f"{tables}{channels}",
        encoding="utf-8",
    )
    return path
