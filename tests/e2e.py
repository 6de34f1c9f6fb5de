"""End-to-end helpers: a mutable loopback feed site, config files, and `monitor` as a subprocess."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
MONITOR = [sys.executable, "-m", "monitor"]


def rss(entries: Sequence[tuple[str, str, str, datetime]], title: str = "Feed") -> bytes:
    """RSS 2.0 with (guid, title, summary, published) entries."""
    items = "".join(
        f"<item><guid>{escape(g)}</guid><title>{escape(t)}</title>"
        f"<link>https://example.org/{escape(g)}</link><description>{escape(s)}</description>"
        f"<pubDate>{format_datetime(p)}</pubDate></item>"
        for g, t, s, p in entries
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link>{items}"
        f"</channel></rss>"
    ).encode()


class FeedSite(ThreadingHTTPServer):
    """Serves /<name>.xml from a dict that tests change while the daemon runs; ETag/304."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FeedHandler)
        self.feeds: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}.xml"

    def set(self, name: str, body: bytes) -> None:
        with self.lock:
            self.feeds[name] = body

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _FeedHandler(BaseHTTPRequestHandler):
    server: FeedSite
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        name = self.path.strip("/").removesuffix(".xml")
        with self.server.lock:
            body = self.server.feeds.get(name)
            self.server.hits[name] = self.server.hits.get(name, 0) + 1
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def feed_site() -> Iterator[FeedSite]:
    site = FeedSite()
    thread = threading.Thread(target=site.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.shutdown()
        site.server_close()


def write_config(
    path: Path,
    feeds: dict[str, str],
    *,
    rules: Path,
    channels: str,
    interval: str = "10m",
    extra: str = "",
    state: str = 'path = "state.db"',
) -> Path:
    """A config for tests: JSON logs, backfill all, fast timeouts."""
    feed_tables = "".join(
        f'[[feeds]]\nname = "{n}"\nurl = "{u}"\ntags = ["{n.split("-")[0]}"]\njitter = "0s"\n\n'
        for n, u in feeds.items()
    )
    path.write_text(
        f'[state]\n{state}\n\n[defaults]\ninterval = "{interval}"\nbackfill = "all"\n'
        f'connect_timeout = "2s"\nread_timeout = "5s"\ntotal_timeout = "10s"\n{extra}\n'
        f'[rules]\npaths = ["{rules}"]\n\n[logging]\nformat = "json"\nlevel = "info"\n\n'
        f"{feed_tables}{channels}",
        encoding="utf-8",
    )
    return path


def env_with(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(values)
    env["PYTHONPATH"] = str(REPO)
    return env


def run_monitor(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MONITOR, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


# Distinct countries, so that every story is its own alert (clustering never merges them).
PLACES = [
    "Kenya",
    "Peru",
    "Chile",
    "Nepal",
    "Ghana",
    "Norway",
    "Bolivia",
    "Angola",
    "Zambia",
    "Uruguay",
    "Mongolia",
    "Finland",
    "Canada",
    "Austria",
    "Portugal",
    "Malawi",
    "Senegal",
    "Tunisia",
    "Ecuador",
    "Paraguay",
    "Botswana",
    "Namibia",
    "Lesotho",
    "Jamaica",
    "Iceland",
    "Estonia",
    "Latvia",
    "Lithuania",
    "Croatia",
    "Slovenia",
    "Albania",
    "Armenia",
    "Belize",
    "Bhutan",
    "Brunei",
    "Cambodia",
    "Denmark",
    "Fiji",
    "Gabon",
    "Guyana",
]


class Newsroom:
    """Feeds that gain one distinct genocide-warning story at a time (each a new alert)."""

    def __init__(self, site: FeedSite, feeds: int, places: Sequence[str] = PLACES) -> None:
        self.site = site
        self.places = list(places)
        self.names = [f"feed-{i:03d}" for i in range(feeds)]
        self.entries: dict[str, list[tuple[str, str, str, datetime]]] = {n: [] for n in self.names}
        self.published = 0
        for n in self.names:
            site.set(n, rss([]))

    def publish(self) -> bool:
        """Add the next story to a feed; False once every place has had its story."""
        if self.published >= len(self.places):
            return False
        name = self.names[(self.published * 7) % len(self.names)]
        place = self.places[self.published]
        self.entries[name].append(
            (
                f"{name}-{self.published}",
                f"UN warns of genocide in {place}",
                f"Officials describe genocidal attacks in {place}.",
                datetime.now(UTC),
            )
        )
        self.site.set(name, rss(self.entries[name]))
        self.published += 1
        return True

    def urls(self) -> dict[str, str]:
        return {n: self.site.url(n) for n in self.names}
