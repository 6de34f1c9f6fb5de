"""The total deadline of a fetch: a timer that shuts the socket of a fetch out of time.

requests' timeouts are per socket read, so a server that trickles a byte a second (in the
headers or the body, or as compressed bytes that decode to nothing) never trips them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection

# requests' timeouts are per socket read, so a server that trickles a byte a second (in the
# headers or the body, or as compressed bytes that decode to nothing) never trips them.
# A timer shuts the socket of the fetch in progress when the whole fetch is out of time;
# the connection classes below tell the timer which socket that is.


@dataclass
class _Watchdog:
    expired: bool = False
    sock: socket.socket | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, sock: socket.socket) -> None:
        with self.lock:
            self.sock = sock
            if self.expired:
                _shut(sock)

    def fire(self) -> None:
        with self.lock:
            self.expired = True
            if self.sock is not None:
                _shut(self.sock)


_current = threading.local()


@contextmanager
def watchdog(seconds: float) -> Iterator[_Watchdog]:
    watchdog = _Watchdog()
    timer = threading.Timer(seconds, watchdog.fire)
    timer.daemon = True
    timer.start()
    _current.watchdog = watchdog
    try:
        yield watchdog
    finally:
        timer.cancel()
        _current.watchdog = None


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    watchdog: _Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None and sock is not None:
        watchdog.attach(sock)


class _WatchedConnection(HTTPConnection):
    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch(self.sock)
        return super().getresponse()


class _WatchedTLSConnection(HTTPSConnection):
    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch(self.sock)
        return super().getresponse()


class WatchedPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class WatchedTLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedTLSConnection
