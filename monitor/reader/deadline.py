"""What a fetch's connections may do: the total deadline (a timer that shuts the socket of
a fetch out of time) and, past a redirect, which addresses they may be connected to.

requests' timeouts are per socket read, so a server that trickles a byte a second (in the
headers or the body, or as compressed bytes that decode to nothing) never trips them.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection

from monitor.errors import FetchError
from monitor.reader import addresses

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


class _Alarms:
    """One thread fires every fetch's deadline: a threading.Timer per fetch cost a thread
    start per poll, a good part of a warm poll's CPU. A cancelled alarm never fires after
    cancel() returns (both hold the lock), so a socket back in the pool is never shut."""

    def __init__(self) -> None:
        self._heap: list[list[Any]] = []  # [deadline, seq, watchdog or None when cancelled]
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, seconds: float, dog: _Watchdog) -> list[Any]:
        entry = [time.monotonic() + seconds, next(self._seq), dog]
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None or not self._thread.is_alive():  # first use, or forked
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0] is entry:
                self._cond.notify()
        return entry

    def cancel(self, entry: list[Any]) -> None:
        with self._cond:
            entry[2] = None  # dropped when it comes up

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2] is None or self._heap[0][0] <= now):
                    dog = heapq.heappop(self._heap)[2]
                    if dog is not None:
                        dog.fire()
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


_alarms = _Alarms()


@contextmanager
def watchdog(seconds: float) -> Iterator[_Watchdog]:
    watchdog = _Watchdog()
    alarm = _alarms.add(seconds, watchdog)
    _current.watchdog = watchdog
    try:
        yield watchdog
    finally:
        _alarms.cancel(alarm)
        _current.watchdog = None


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    watchdog: _Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None and sock is not None:
        watchdog.attach(sock)


@contextmanager
def public_only(on: bool) -> Iterator[None]:
    """While on, a connection of this thread must reach a public address (see _vet)."""
    _current.public_only = on
    try:
        yield
    finally:
        _current.public_only = False


def _vet(sock: socket.socket) -> None:
    """Refuse a socket connected to a private address when the fetch must stay public.

    The address checked is the one connected, not one looked up beforehand: the name may
    resolve differently for the connect (DNS rebinding), and a pooled connection may have
    been opened for another feed that was allowed a private address."""
    if not getattr(_current, "public_only", False):
        return
    peer = sock.getpeername()
    if addresses.is_private_text(str(peer[0])):
        _shut(sock)
        sock.close()
        raise FetchError(addresses.REFUSED, retryable=False)


class _WatchedConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _vet(sock)  # before a byte is sent (or, with TLS, before the handshake)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # a connection reused from the pool
            _vet(self.sock)
        super().request(*args, **kwargs)

    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch(self.sock)
        return super().getresponse()


class _WatchedTLSConnection(_WatchedConnection, HTTPSConnection):
    """The same watch and vetting; HTTPSConnection.connect wraps what _new_conn vetted."""


class WatchedPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class WatchedTLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedTLSConnection
