"""Loopback HTTP plumbing shared by the test servers: a quiet threaded server on 127.0.0.1
(port 0), its start and stop, the requests it records and the answers it is scripted with,
and a port with nothing listening on it.

The feed server (tests/feedserver.py) and the channel receiver (tests/channel_servers.py)
subclass LoopbackServer and QuietHandler; `running()` serves one in a thread for a `with`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Its delay holds the status line back (cut short when the server
    stops), to play a hanging server."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class LoopbackServer(ThreadingHTTPServer):
    """A server on a free loopback port; `lock` guards what handlers record, `stopping` is set
        when the test is done, so a handler holding its answer back returns at once. A given port
    (one closed_port() found) plays a receiver that was down and is back at the same address."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up mid-answer are what several tests want


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps the test output clean and hands over headers with lower-case names."""

    def lowered_headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def log_message(self, format: str, *args: Any) -> None:
        pass


S = TypeVar("S", bound=LoopbackServer)


@contextmanager
def running(server: S) -> Iterator[S]:
    """Serve in a daemon thread; on exit release held answers, stop, close and join."""
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A loopback port with nothing listening on it (just released by the OS)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
