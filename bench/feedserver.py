"""Loopback feed server for benchmarks, and the monitor config that points at it.

This module owns:

- `Headlines`: a deterministic generator of news items that mixes atrocity-like
  headlines ("Dozens of civilians killed in shelling of market in Kramatorsk",
  "ICC issues arrest warrant for ...") with ordinary news.
- `FeedServer`: serves N feeds, RSS 2.0 for odd numbers and Atom for even ones,
  ~30 items and ~20-25 KB each (the size of real news feeds), at
  `http://127.0.0.X:PORT/feed/N.xml`, feed N on loopback host (N-1) % hosts.
  Each response carries ETag and Last-Modified; If-None-Match (which takes
  precedence) and If-Modified-Since get correct 304s; gzip when Accept-Encoding
  allows; an optional per-request latency; and a growth mode in which random
  feeds gain a new item at a given rate (a Poisson process), each logged to
  JSONL with its publication time. `stats()` counts requests, conditional
  requests and 304s, so a benchmark can tell whether a client revalidates.
  Also `/feeds.opml` (all feed URLs) and `/_stats` (JSON; `?reset=1` resets).
- `write_monitor_config`: a monitor config.toml watching those feeds.

CLI: `python bench/feedserver.py --feeds 2000 --port 0 --latency-ms 50 --growth-rate 0.5
--log out.jsonl --duration 600` prints its base URL, then one JSON line of stats at exit.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import random
import signal
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from bench.common import (
    JsonlLog,
    LoopbackHTTPServer,
    Request,
    Response,
    http_date,
    loopback_host,
)

REPO = Path(__file__).resolve().parent.parent

# --- the items -------------------------------------------------------------------------

PLACES = [
    "El Fasher", "Goma", "Bunia", "Khartoum", "Kherson", "Kramatorsk", "Gaza City",
    "Rafah", "Sittwe", "Mekelle", "Geneina", "Beni", "Maiduguri", "Ouagadougou",
    "Bamako", "Port-au-Prince", "Idlib", "Marib", "Juba", "Bangui", "Mogadishu",
    "Kidal", "Djibo", "Nyala", "Zalingei", "Pokrovsk", "Sumy", "Tal Afar",
]  # fmt: skip
REGIONS = [
    "Darfur", "North Kivu", "Ituri", "Tigray", "Amhara", "Rakhine", "South Kordofan",
    "the Sahel", "Cabo Delgado", "Borno", "Donetsk", "the West Bank", "Upper Nile",
    "Blue Nile", "Kasai", "Oromia", "northern Burkina Faso", "central Mali",
]  # fmt: skip
COUNTRIES = [
    "Sudan", "DR Congo", "Ethiopia", "Myanmar", "Ukraine", "Nigeria", "Mali", "Haiti",
    "Syria", "Yemen", "South Sudan", "Somalia", "France", "Brazil", "Japan", "Canada",
    "Kenya", "India", "Germany", "Chile",
]  # fmt: skip
ACTORS = [
    "the Rapid Support Forces", "M23 rebels", "an armed militia", "government forces",
    "the Arakan Army", "jihadist fighters", "gang members", "unidentified gunmen",
]  # fmt: skip
OFFICIALS = [
    "a former militia commander", "a senior army general", "a rebel leader",
    "a former interior minister", "two paramilitary commanders",
]  # fmt: skip

ATROCITY = [
    "Dozens of civilians killed in shelling of market in {place}",
    "ICC issues arrest warrant for {official} over crimes in {region}",
    "UN warns of genocide risk in {region}",
    "Mass grave with {n} bodies found near {place}",
    "{actor_cap} accused of ethnic cleansing in {region}",
    "Airstrike on hospital in {place} kills {n}, say medics",
    "Thousands flee as {actor} burn villages in {region}",
    "UN rights chief condemns summary executions in {place}",
    "Survivors describe massacre of {n} villagers in {region}",
    "Security Council to meet as violence against civilians escalates in {country}",
    "Aid workers report mass rape and killings in {place}",
    "Famine used as a weapon of war in {region}, UN experts say",
]
ORDINARY = [
    "{country} central bank holds interest rates at {pct}%",
    "Heatwave grips {country} as temperatures pass {n} degrees",
    "New high-speed rail line opens in {country}",
    "{country} wins regional football championship after penalty shoot-out",
    "Tech start-up in {country} raises {n} million dollars",
    "Parliament in {country} passes annual budget",
    "Scientists in {country} discover new species of tree frog",
    "Film festival opens with record attendance",
    "Storm causes power cuts across {country}",
    "Election campaign enters final week in {country}",
    "Farmers in {country} expect a record harvest",
    "Museum returns looted artefacts to {country}",
]
SENTENCES = [
    "Witnesses said the situation remained tense on {day}.",
    "Officials in {country} have not yet commented on the reports.",
    "The United Nations said it was gathering information from partners on the ground.",
    "Local sources put the figure at {n}, though it could not be independently verified.",
    "Humanitarian agencies say access to the area has been restricted for weeks.",
    "Analysts said the development could affect the wider region.",
    "The announcement was welcomed by several neighbouring governments.",
    "More details are expected to be released later this week.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
AUTHORS = ["Staff reporter", "Wire desk", "Regional correspondent", "News agency"]


@dataclass(frozen=True)
class Item:
    number: int  # 1, 2, ... within its feed; higher is newer
    guid: str
    title: str
    summary_html: str
    category: str
    author: str
    published: float  # POSIX time
    atrocity: bool


class Headlines:
    """Deterministic items: the same (seed, feed, number) always gives the same item."""

    def __init__(self, seed: int = 0, atrocity_share: float = 0.2) -> None:
        self.seed = seed
        self.atrocity_share = atrocity_share

    def item(self, feed: int, number: int, published: float, atrocity: bool | None = None) -> Item:
        rng = random.Random(f"{self.seed}:{feed}:{number}")
        if atrocity is None:
            atrocity = rng.random() < self.atrocity_share
        words = self._words(rng)
        title = rng.choice(ATROCITY if atrocity else ORDINARY).format(**words)
        sentences = [s.format(**words) for s in rng.sample(SENTENCES, 3)]
        summary = f"<p>{title}.</p><p>{' '.join(sentences)}</p>"
        return Item(
            number=number,
            guid=f"urn:bench:feed:{feed}:item:{number}",
            title=title,
            summary_html=summary,
            category="conflict" if atrocity else rng.choice(["world", "business", "science"]),
            author=rng.choice(AUTHORS),
            published=published,
            atrocity=atrocity,
        )

    @staticmethod
    def _words(rng: random.Random) -> dict[str, str]:
        actor = rng.choice(ACTORS)
        return {
            "place": rng.choice(PLACES),
            "region": rng.choice(REGIONS),
            "country": rng.choice(COUNTRIES),
            "actor": actor,
            "actor_cap": actor[0].upper() + actor[1:],
            "official": rng.choice(OFFICIALS),
            "n": str(rng.randint(12, 480)),
            "pct": f"{rng.uniform(1, 9):.2f}",
            "day": rng.choice(DAYS),
        }


# --- the feeds -------------------------------------------------------------------------


@dataclass
class Feed:
    number: int
    host: str
    items: list[Item]  # newest first
    last_modified: int  # whole seconds: HTTP dates have no finer resolution
    version: int = 1
    body: bytes = b""
    body_gzip: bytes = b""
    etag: str = ""

    @property
    def atom(self) -> bool:
        return self.number % 2 == 0

    @property
    def content_type(self) -> str:
        kind = "atom" if self.atom else "rss"
        return f"application/{kind}+xml; charset=utf-8"


def rfc822(epoch: float) -> str:
    return http_date(epoch).replace("GMT", "+0000")


def rfc3339(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def render_rss(feed: Feed, base: str) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"  <title>Bench Wire {feed.number:04d}</title>\n"
        f"  <link>{base}/</link>\n"
        f"  <description>World news and crisis reports, feed {feed.number}</description>\n"
        "  <language>en</language>\n"
        f"  <lastBuildDate>{rfc822(feed.last_modified)}</lastBuildDate>\n"
        f'  <atom:link href="{base}/feed/{feed.number}.xml" rel="self"'
        ' type="application/rss+xml"/>\n  <ttl>15</ttl>\n'
    ]
    for item in feed.items:
        parts.append(
            "  <item>\n"
            f"    <title>{escape(item.title)}</title>\n"
            f"    <link>{base}/story/{feed.number}/{item.number}.html</link>\n"
            f'    <guid isPermaLink="false">{item.guid}</guid>\n'
            f"    <pubDate>{rfc822(item.published)}</pubDate>\n"
            f"    <dc:creator>{escape(item.author)}</dc:creator>\n"
            f"    <category>{item.category}</category>\n"
            f"    <description>{escape(item.summary_html)}</description>\n"
            "  </item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def render_atom(feed: Feed, base: str) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        f"  <title>Bench Dispatch {feed.number:04d}</title>\n"
        f"  <subtitle>Reports and statements, feed {feed.number}</subtitle>\n"
        f"  <id>urn:bench:feed:{feed.number}</id>\n"
        f"  <updated>{rfc3339(feed.last_modified)}</updated>\n"
        f'  <link rel="self" type="application/atom+xml" href="{base}/feed/{feed.number}.xml"/>\n'
        f'  <link rel="alternate" type="text/html" href="{base}/"/>\n'
    ]
    for item in feed.items:
        link = quoteattr(f"{base}/story/{feed.number}/{item.number}.html")
        parts.append(
            "  <entry>\n"
            f"    <title>{escape(item.title)}</title>\n"
            f"    <id>{item.guid}</id>\n"
            f'    <link rel="alternate" type="text/html" href={link}/>\n'
            f"    <published>{rfc3339(item.published)}</published>\n"
            f"    <updated>{rfc3339(item.published)}</updated>\n"
            f"    <author><name>{escape(item.author)}</name></author>\n"
            f'    <category term="{item.category}"/>\n'
            f'    <summary type="html">{escape(item.summary_html)}</summary>\n'
            "  </entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts)


# --- HTTP semantics --------------------------------------------------------------------


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 8.8.3.2), as If-None-Match requires."""
    if if_none_match.strip() == "*":
        return True
    strong = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == strong for tag in if_none_match.split(","))


def not_modified_since(if_modified_since: str, last_modified: int) -> bool:
    try:
        since = parsedate_to_datetime(if_modified_since).timestamp()
    except (TypeError, ValueError, IndexError):
        return False  # an invalid date is ignored (RFC 9110 13.1.3)
    return last_modified <= since


def accepts_gzip(accept_encoding: str) -> bool:
    for coding in accept_encoding.lower().split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params and q.replace(".", "").strip("0") == "")
    return False


@dataclass
class Stats:
    requests: int = 0
    feed_requests: int = 0
    if_none_match: int = 0
    if_modified_since: int = 0
    conditional: int = 0  # requests with either validator
    not_modified: int = 0  # 304s sent
    full: int = 0  # 200s with a feed body
    not_found: int = 0
    gzip: int = 0
    body_bytes: int = 0
    feeds: set[int] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)
    user_agents: set[str] = field(default_factory=set)

    def snapshot(self) -> dict[str, object]:
        out: dict[str, object] = {k: v for k, v in vars(self).items() if not isinstance(v, set)}
        out["distinct_feeds"] = len(self.feeds)
        out["distinct_hosts"] = len(self.hosts)
        out["user_agents"] = sorted(self.user_agents)[:10]
        return out


class FeedServer(LoopbackHTTPServer):
    """N feeds on loopback; see the module docstring. Start with `with FeedServer(...) as s:`."""

    def __init__(
        self,
        feeds: int = 200,
        *,
        port: int = 0,
        hosts: int = 1,
        latency_ms: float = 0.0,
        growth_rate: float = 0.0,
        log_path: str | Path | None = None,
        items_per_feed: int = 30,
        seed: int = 0,
        atrocity_share: float = 0.2,
        growth_atrocity_share: float = 0.5,
        conditional: bool = True,
        cache_control: str | None = None,
        epoch: float | None = None,
        duration: float | None = 3600.0,
    ) -> None:
        if feeds < 1 or hosts < 1:
            raise ValueError("feeds and hosts must be at least 1")
        hosts = min(hosts, feeds)
        super().__init__([loopback_host(i) for i in range(hosts)], port, duration)
        self.latency = latency_ms / 1000.0
        self.growth_rate = growth_rate
        self.items_per_feed = items_per_feed
        self.conditional = conditional  # False: ignore validators, always 200 with the body
        self.cache_control = cache_control
        self.headlines = Headlines(seed, atrocity_share)
        self.growth_atrocity_share = growth_atrocity_share
        self.seed = seed
        self.growth_log = JsonlLog(log_path)
        self._stats = Stats()
        start = int(time.time() if epoch is None else epoch)
        self.feeds = [self._new_feed(n, start) for n in range(1, feeds + 1)]

    # --- public API ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.url("")

    @property
    def feed_urls(self) -> list[str]:
        return [self.feed_url(feed) for feed in self.feeds]

    def feed_url(self, feed: Feed) -> str:
        return f"http://{feed.host}:{self.port}/feed/{feed.number}.xml"

    def stats(self, reset: bool = False) -> dict[str, object]:
        """Counters since the start or the last reset (read from any thread)."""
        snap = self._stats.snapshot()
        snap["connections_total"] = self.connections_total
        snap["connections_peak"] = self.connections_peak
        if reset:
            self.reset_stats()
        return snap

    def reset_stats(self) -> None:
        self._stats = Stats()
        self.connections_total = 0
        self.connections_peak = self.connections_open

    def stop(self) -> None:
        super().stop()
        self.growth_log.close()

    # --- feeds -----------------------------------------------------------------------------

    def _new_feed(self, number: int, start: int) -> Feed:
        rng = random.Random(f"{self.seed}:spacing:{number}")
        spacing = rng.uniform(600, 6 * 3600)  # seconds between items: busy to quiet feeds
        count = self.items_per_feed
        items = [
            self.headlines.item(number, k, start - (count - k + 1) * spacing)
            for k in range(count, 0, -1)
        ]
        host = self.hosts[(number - 1) % len(self.hosts)]
        return Feed(number, host, items, last_modified=start)

    def _render(self, feed: Feed) -> None:
        base = f"http://{feed.host}:{self.port}"
        text = render_atom(feed, base) if feed.atom else render_rss(feed, base)
        feed.body = text.encode("utf-8")
        feed.body_gzip = gzip.compress(feed.body, compresslevel=6, mtime=0)
        digest = hashlib.blake2b(feed.body, digest_size=8).hexdigest()
        feed.etag = f'"{feed.number}-{feed.version}-{digest}"'

    def prepare(self) -> None:
        for feed in self.feeds:  # render before the first request: no server work mid-cycle
            self._render(feed)

    async def background(self) -> None:
        if self.growth_rate <= 0:
            return
        rng = random.Random(f"{self.seed}:growth")
        while True:
            await asyncio.sleep(rng.expovariate(self.growth_rate))
            self.grow(rng.choice(self.feeds), rng.random() < self.growth_atrocity_share)

    def grow(self, feed: Feed, atrocity: bool) -> Item:
        """Publish a new item at the top of `feed` (loop thread only) and log it."""
        now = time.time()
        number = feed.items[0].number + 1
        item = self.headlines.item(feed.number, number, now, atrocity)
        feed.items = [item, *feed.items[: self.items_per_feed - 1]]
        feed.version += 1
        # Last-Modified must move on even for two items in one second, or an
        # If-Modified-Since client would be told 304 and miss the second one.
        feed.last_modified = max(int(now), feed.last_modified + 1)
        self._render(feed)
        self.growth_log.write(
            {
                "t": now,
                "feed": feed.number,
                "url": self.feed_url(feed),
                "guid": item.guid,
                "title": item.title,
                "atrocity": item.atrocity,
            }
        )
        return item

    # --- HTTP ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        split = urlsplit(request.path)
        if split.path == "/_stats":
            reset = parse_qs(split.query).get("reset") == ["1"]
            body = json.dumps(self.stats(reset=reset)).encode()
            return Response(200, [("Content-Type", "application/json")], body)
        stats = self._stats
        stats.requests += 1
        if request.method not in ("GET", "HEAD"):
            return Response(405, [("Allow", "GET, HEAD")], b"method not allowed\n")
        if split.path == "/feeds.opml":
            return Response(200, [("Content-Type", "text/x-opml")], self._opml().encode())
        feed = self._feed_for(split.path)
        if feed is None:
            stats.not_found += 1
            return Response(404, body=b"not found\n", delay=self.latency)
        return self._answer_feed(request, feed, stats)

    def _feed_for(self, path: str) -> Feed | None:
        name = path.removeprefix("/feed/")
        if name == path or not name.endswith(".xml"):
            return None
        number = name.removesuffix(".xml")
        if not number.isdigit() or not 1 <= int(number) <= len(self.feeds):
            return None
        return self.feeds[int(number) - 1]

    def _answer_feed(self, request: Request, feed: Feed, stats: Stats) -> Response:
        headers = request.headers
        stats.feed_requests += 1
        stats.feeds.add(feed.number)
        stats.hosts.add(request.local_host)
        if len(stats.user_agents) < 10:
            stats.user_agents.add(headers.get("user-agent", "")[:120])
        inm, ims = headers.get("if-none-match"), headers.get("if-modified-since")
        stats.if_none_match += inm is not None
        stats.if_modified_since += ims is not None
        stats.conditional += inm is not None or ims is not None
        common = [
            ("ETag", feed.etag),
            ("Last-Modified", http_date(feed.last_modified)),
            ("Vary", "Accept-Encoding"),
        ]
        if self.cache_control:
            common.append(("Cache-Control", self.cache_control))
        if self.conditional and self._unchanged(feed, inm, ims):
            stats.not_modified += 1
            return Response(304, common, delay=self.latency)
        stats.full += 1
        common.append(("Content-Type", feed.content_type))
        body = feed.body
        if accepts_gzip(headers.get("accept-encoding", "")):
            stats.gzip += 1
            common.append(("Content-Encoding", "gzip"))
            body = feed.body_gzip
        stats.body_bytes += len(body)
        return Response(200, common, body, delay=self.latency)

    @staticmethod
    def _unchanged(feed: Feed, inm: str | None, ims: str | None) -> bool:
        if inm is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
            return etag_matches(inm, feed.etag)
        return ims is not None and not_modified_since(ims, feed.last_modified)

    def _opml(self) -> str:
        outlines = "".join(
            f'    <outline type="rss" text="bench-{f.number:04d}" xmlUrl="{self.feed_url(f)}"/>\n'
            for f in self.feeds
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
            "  <head><title>bench feeds</title></head>\n  <body>\n"
            f"{outlines}  </body>\n</opml>\n"
        )


# --- monitor config --------------------------------------------------------------------


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def write_monitor_config(
    path: str | Path,
    feed_urls: Iterable[str],
    webhook_url_env: str,
    state_path: str | Path,
    interval: str = "60s",
    *,
    rules_paths: Sequence[str | Path] = (REPO / "rules",),
    backfill: str = "all",
    log_format: str = "json",
    log_level: str = "info",
    min_severity: str = "info",
    tags: Sequence[str] = ("news",),
) -> Path:
    """Write a monitor config.toml watching `feed_urls` (named bench-0001, ...) with one
    webhook channel whose URL is read from the environment variable `webhook_url_env`."""
    lines = [
        "# Generated by bench/feedserver.py: monitor watching the loopback feed server.",
        "[state]",
        f"path = {_toml_str(str(state_path))}",
        "",
        "[defaults]",
        f"interval = {_toml_str(interval)}",
        f"backfill = {_toml_str(backfill)}",
        "",
        "[rules]",
        f"paths = [{', '.join(_toml_str(str(p)) for p in rules_paths)}]",
        "",
        "[logging]",
        f"format = {_toml_str(log_format)}",
        f"level = {_toml_str(log_level)}",
        "",
    ]
    tag_list = ", ".join(_toml_str(t) for t in tags)
    for number, url in enumerate(feed_urls, start=1):
        lines += [
            "[[feeds]]",
            f'name = "bench-{number:04d}"',
            f"url = {_toml_str(url)}",
            f"tags = [{tag_list}]",
            "",
        ]
    lines += [
        "[[channels]]",
        'name = "bench"',
        'type = "webhook"',
        f"url_env = {_toml_str(webhook_url_env)}",
        f"min_severity = {_toml_str(min_severity)}",
        "",
    ]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


# --- CLI -------------------------------------------------------------------------------


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the CLI cleanly, printing its stats


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200, help="number of feeds (default 200)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--hosts", type=int, default=1, help="spread feeds over 127.0.0.1..N")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of every response")
    parser.add_argument("--growth-rate", type=float, default=0.0, help="new items per second")
    parser.add_argument("--growth-atrocity-share", type=float, default=0.5)
    parser.add_argument("--atrocity-share", type=float, default=0.2, help="of initial items")
    parser.add_argument("--log", help="JSONL file of published items (growth mode)")
    parser.add_argument("--items", type=int, default=30, help="items per feed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epoch", type=float, help="POSIX time of the feeds (default: now)")
    parser.add_argument(
        "--ignore-validators", action="store_true", help="never 304: 200 with the same body"
    )
    parser.add_argument("--cache-control", help='e.g. "max-age=300" (default: no header)')
    parser.add_argument("--duration", type=float, default=600.0, help="seconds, then exit")
    parser.add_argument("--config", help="also write a monitor config.toml here")
    parser.add_argument("--state", default="state/bench.db", help="state path for --config")
    parser.add_argument("--interval", default="60s", help="poll interval for --config")
    parser.add_argument("--webhook-env", default="BENCH_WEBHOOK_URL", help="for --config")
    args = parser.parse_args(argv)
    server = FeedServer(
        args.feeds,
        port=args.port,
        hosts=args.hosts,
        latency_ms=args.latency_ms,
        growth_rate=args.growth_rate,
        log_path=args.log,
        items_per_feed=args.items,
        seed=args.seed,
        atrocity_share=args.atrocity_share,
        growth_atrocity_share=args.growth_atrocity_share,
        conditional=not args.ignore_validators,
        cache_control=args.cache_control,
        epoch=args.epoch,
        duration=args.duration,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    with server:
        if args.config:
            write_monitor_config(
                args.config, server.feed_urls, args.webhook_env, args.state, args.interval
            )
        print(server.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
    print(json.dumps(server.stats()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
