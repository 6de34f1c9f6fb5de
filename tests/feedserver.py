"""The loopback feed server every test fetches from, scripted per path.

FeedServer runs on 127.0.0.1, port 0, in a thread (tests/loopback.py). Each path answers
from its own script of Responses (then repeats the last one): status, headers, body, a delay
before the headers, a trickle (bytes dribbled one by one), a streamed body of any size, and
validators (etag / last_modified answered with 304 when the client sends them back).
`publish(name, body)` serves a feed that tests change while a daemon polls it.
Every request is recorded with its headers (names lower-cased) so tests can assert what
the client sent. The documents and configs tests serve live in tests/feedfiles.py.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.loopback import LoopbackServer, QuietHandler, Reply, Request, running


@dataclass(frozen=True)
class Response(Reply):
    """A feed's answer: a Reply (empty body by default) that may also trickle, stream, or
    carry validators."""

    body: bytes = b""
    trickle: float = 0.0  # seconds between single bytes of the body
    trickle_head: bool = False  # dribble the status line and headers too (with trickle)
    stream: Callable[[], Iterable[bytes]] | None = None  # body of unknown length; closes after
    etag: str | None = None  # sent, and answered with 304 when If-None-Match matches
    last_modified: str | None = None  # likewise with If-Modified-Since


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


class _Server(LoopbackServer):
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.scripts: dict[str, deque[Response]] = {}
        self.requests: list[Request] = []

    def next_response(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            script = self.scripts.get(request.path.split("?", 1)[0])
            if not script:
                return Response(404, b"not found")
            return script.popleft() if len(script) > 1 else script[0]


class _Handler(QuietHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        headers = self.lowered_headers()
        r = self.server.next_response(Request("GET", self.path, headers))
        if r.delay and self.server.stopping.wait(r.delay):
            return
        if r.trickle_head:
            self._trickle_all(r)
            return
        if _not_modified(r, headers):
            self.send_response(304)
            self._validators(r)
            for name, value in r.headers.items():  # RFC 9110 15.4.5: a 304 repeats these
                if name.lower() in ("cache-control", "expires", "date", "vary"):
                    self.send_header(name, value)
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
        return self._server.port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def serve(self, path: str, *responses: Response) -> str:
        """Script a path (answered in order, the last one repeated); returns its URL."""
        with self._server.lock:
            self._server.scripts[path] = deque(responses or (Response(),))
        return self.url(path)

    def publish(self, name: str, body: bytes) -> str:
        """Serve body at /<name>.xml as a live feed would (an RSS Content-Type, an ETag made
        from the bytes, so 304 while they stay the same); returns its URL. Call again to
        change what the feed says."""
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        rss_type = {"Content-Type": "application/rss+xml"}
        return self.serve(f"/{name}.xml", Response(body=body, headers=rss_type, etag=etag))

    def requests(self, path: str | None = None) -> list[Request]:
        with self._server.lock:
            return [r for r in self._server.requests if path is None or r.path == path]


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    with running(_Server()) as server:
        yield FeedServer(server)
