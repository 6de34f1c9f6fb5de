"""Each channel drains on its own: a receiver trickling its answer holds up only its own
channel, and a channel's `timeout` bounds the whole send (status line and headers too)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.channels.email import EmailChannel, EmailSettings
from monitor.errors import DeliveryError
from tests.channel_servers import http_receiver
from tests.e2e import PLACES, daemon, env_with, events, wait_for
from tests.factories import RENDERED, make_alert
from tests.feedfiles import rss, story, write_config
from tests.feedserver import FeedServer
from tests.loopback import LoopbackServer, QuietHandler, running

CHANNELS = """[[channels]]
name = "slow"
type = "webhook"
url_env = "SLOW_HOOK_URL"
timeout = "3s"
min_severity = "info"

[[channels]]
name = "fast"
type = "webhook"
url_env = "FAST_HOOK_URL"
timeout = "3s"
min_severity = "info"
"""
# about a minute's worth of bytes at one a second: a per-read timeout never trips on it
HEAD = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"p" * 60 + b"\r\nContent-Length: 2\r\n\r\nok"


class _Trickler(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_TrickleHandler)
        self.started: list[float] = []  # monotonic time each request arrived


class _TrickleHandler(QuietHandler):
    server: _Trickler

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.started.append(time.monotonic())
        self.close_connection = True
        try:
            for i in range(len(HEAD)):
                self.wfile.write(HEAD[i : i + 1])
                self.wfile.flush()
                if self.server.stopping.wait(1.0):
                    return
        except OSError:
            pass  # the client gave up: that is the point


@contextmanager
def trickler() -> Iterator[_Trickler]:
    with running(_Trickler()) as server:
        yield server


def test_a_trickling_receiver_delays_only_its_own_channel(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """Channel slow answers a byte a second (timeout 3s); channel fast gets all three alerts
    within seconds of slow's first attempt, and slow's attempt ends at its 3 s timeout."""
    now = datetime.now(UTC) - timedelta(hours=1)
    items = [story(f"g{i}", f"Massacre reported in {p}", "Villagers killed.", now) for i, p in
             enumerate(PLACES[:3])]  # fmt: skip
    feed = feeds.publish("news", rss(*items))
    cfg = write_config(tmp_path, {"news": feed}, channels=CHANNELS)
    log = tmp_path / "daemon.log"
    with trickler() as slow, http_receiver() as fast:
        env = env_with(SLOW_HOOK_URL=f"http://127.0.0.1:{slow.port}/hook", FAST_HOOK_URL=fast.url())
        with daemon(cfg, env, log):
            assert wait_for(lambda: bool(slow.started), timeout=30)
            first = slow.started[0]
            assert wait_for(lambda: len(fast.requests) == 3, timeout=30)
            fast_done = time.monotonic() - first
            assert wait_for(lambda: _slow_outcomes(log) != [], timeout=30)
            outcomes = _slow_outcomes(log)
    assert fast_done < 8.0, f"fast channel waited {fast_done:.1f}s behind the slow one"
    event, reason = outcomes[0]
    assert event == "delivery.retry" and "timeout after 3s" in reason, outcomes


def _slow_outcomes(log: Path) -> list[tuple[str, str]]:
    return [
        (str(e["event"]), str(e.get("reason", "")))
        for e in events(log)
        if e.get("channel") == "slow" and e["event"] in ("delivery.retry", "alert.delivered")
    ]


@contextmanager
def trickling_smtp(give_up: float = 15.0) -> Iterator[int]:
    """An SMTP server that greets at once, then answers every command a byte a second
    (hanging up after `give_up` seconds); yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"220 slow.example ESMTP\r\n")
            conn.recv(1024)
            end = time.monotonic() + give_up
            for byte in b"250 " + b"x" * 60 + b"\r\n":
                if done.wait(1.0) or time.monotonic() > end:
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up: that is the point

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        done.set()
        listener.close()
        thread.join(5)


def test_email_timeout_bounds_the_whole_send() -> None:
    """An SMTP server trickling its replies is cut off at the channel's timeout (2 s), not
    after as long as it keeps trickling; the attempt is retried later."""
    with trickling_smtp() as port:
        settings = EmailSettings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            tls="none",
            sender="monitor@alerts.example.org",
            recipients=("desk@example.org",),
            timeout=2.0,
        )
        ch = EmailChannel("desk", settings, now=lambda: RENDERED)
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            ch.send(ch.build(make_alert()))
        took = time.monotonic() - started
    assert took < 6.0, f"the send took {took:.1f}s"
    assert caught.value.retryable and "timeout after 2s" in caught.value.reason
