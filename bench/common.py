"""Shared plumbing of the benchmark rig: a small loopback HTTP/1.1 server and a JSONL log.

This module owns what `feedserver.py` and `receiver.py` have in common:

- `LoopbackHTTPServer`: an asyncio HTTP/1.1 server (keep-alive, thousands of
  concurrent connections) running its event loop in a background thread. It
  binds loopback addresses only (any of 127.0.0.0/8 on Linux), can listen on
  several of them on one port, and stops by itself after `duration` seconds.
  Subclasses implement `handle(request) -> Response`, called on the loop thread;
  it must be quick (no I/O). A response may carry a `delay` (seconds) that is
  awaited before it is sent, which is how per-request latency is simulated
  without holding a thread.
- `JsonlLog`: one JSON object per line, flushed per write, safe across threads.
- `loopback_host(index)`: the index-th loopback address (127.0.0.1, .2, ...).

No third-party dependencies: the rig must run from any Python 3.11.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

REASONS = {
    200: "OK",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


def loopback_host(index: int) -> str:
    """The index-th loopback address: 0 -> 127.0.0.1, 253 -> 127.0.0.254, 254 -> 127.0.1.1."""
    if not 0 <= index < 254 * 256:
        raise ValueError(f"loopback host index out of range: {index}")
    return f"127.0.{index // 254}.{index % 254 + 1}"


def require_loopback(host: str) -> str:
    """Refuse any address outside 127.0.0.0/8: the rig never listens beyond this machine."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"not a loopback address: {host}")
    return host


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes
    local_host: str  # the loopback address the client connected to


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before sending (simulated round trip)


class JsonlLog:
    """Append JSON objects, one per line, to a file; thread-safe; flushed on every write."""

    def __init__(self, path: str | Path | None) -> None:
        self._lock = threading.Lock()
        self._file = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class LoopbackHTTPServer:
    """An asyncio HTTP/1.1 server on loopback addresses, run in a background thread.

    Use as a context manager, or call `start()` and `stop()`. `wait()` blocks until
    the server stops (its `duration` elapsed, or `stop()` was called elsewhere).
    """

    def __init__(
        self,
        hosts: Sequence[str] = ("127.0.0.1",),
        port: int = 0,
        duration: float | None = None,
    ) -> None:
        if not hosts:
            raise ValueError("at least one host is needed")
        self.hosts = [require_loopback(h) for h in hosts]
        self.port = port
        self.duration = duration
        self.connections_open = 0
        self.connections_peak = 0
        self.connections_total = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._error: BaseException | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # --- subclass API -------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request. Runs on the event loop thread: keep it fast."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Called on the loop thread once the port is known, before any request (override)."""

    async def background(self) -> None:
        """A task run alongside the server for its whole life (override to use)."""

    def url(self, path: str = "/", host_index: int = 0) -> str:
        return f"http://{self.hosts[host_index]}:{self.port}{path}"

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError(f"server failed to start: {self._error}") from self._error
        if not self._ready.is_set():
            raise RuntimeError("server did not start within 30 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._stopped.is_set():
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start() or ignored at shutdown
            self._error = exc
        finally:
            self._stopped.set()
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        servers = await self._bind_all()
        self.prepare()
        extra = asyncio.create_task(self.background())
        self._ready.set()
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=self.duration)
        except TimeoutError:
            pass
        finally:
            extra.cancel()
            for server in servers:
                server.close()
            for writer in list(self._writers):
                writer.close()
            for server in servers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), timeout=2)

    async def _bind_all(self) -> list[asyncio.Server]:
        """Listen on every host on one port; with port 0, retry until a port is free on all."""
        for _attempt in range(20):
            servers: list[asyncio.Server] = []
            port = self.port
            try:
                for host in self.hosts:
                    server = await asyncio.start_server(
                        self._serve_connection, host, port, backlog=4096, limit=MAX_HEAD
                    )
                    servers.append(server)
                    port = server.sockets[0].getsockname()[1]
                self.port = port
                return servers
            except OSError as exc:
                for server in servers:
                    server.close()
                if self.port != 0 or exc.errno != errno.EADDRINUSE:
                    raise
        raise OSError(errno.EADDRINUSE, "no port free on every loopback host")

    # --- HTTP ---------------------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections_open += 1
        self.connections_total += 1
        self.connections_peak = max(self.connections_peak, self.connections_open)
        self._writers.add(writer)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        local_host = (writer.get_extra_info("sockname") or ("127.0.0.1", 0))[0]
        try:
            while await self._serve_one(reader, writer, local_host):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.connections_open -= 1
            self._writers.discard(writer)
            writer.close()

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, local_host: str
    ) -> bool:
        """Read one request, answer it; return whether the connection stays open."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request = parse_head(head, local_host)
        if request is None:
            await _send(writer, Response(400, body=b"bad request\n"), keep_alive=False)
            return False
        if "chunked" in request.headers.get("transfer-encoding", ""):
            await _send(writer, Response(411, body=b"length required\n"), keep_alive=False)
            return False
        length = int(request.headers.get("content-length", "0") or 0)
        if length > MAX_BODY:
            await _send(writer, Response(400, body=b"body too large\n"), keep_alive=False)
            return False
        if length:
            request = _with_body(request, await reader.readexactly(length))
        try:
            response = self.handle(request)
        except Exception as exc:  # a rig bug must not kill the connection loop silently
            response = Response(500, body=f"{type(exc).__name__}: {exc}\n".encode())
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        keep_alive = wants_keep_alive(request)
        await _send(writer, response, keep_alive, head_only=request.method == "HEAD")
        return keep_alive


def parse_head(head: bytes, local_host: str) -> Request | None:
    """Parse a request line and headers; None if malformed."""
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return Request(method.upper(), target, version, headers, b"", local_host)


def _with_body(request: Request, body: bytes) -> Request:
    return Request(
        request.method, request.path, request.version, request.headers, body, request.local_host
    )


def wants_keep_alive(request: Request) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


async def _send(
    writer: asyncio.StreamWriter, response: Response, keep_alive: bool, head_only: bool = False
) -> None:
    reason = REASONS.get(response.status, "Status")
    lines = [f"HTTP/1.1 {response.status} {reason}", f"Date: {http_date(time.time())}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    if response.status != 304:
        lines.append(f"Content-Length: {len(response.body)}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    body = b"" if head_only or response.status == 304 else response.body
    writer.write(head + body)
    await writer.drain()


def http_date(epoch: float) -> str:
    """An IMF-fixdate (RFC 9110) for a POSIX time."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch))
