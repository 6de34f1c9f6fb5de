"""Peer measurements: rss2email and feed2exec polling the loopback feed server.

This module owns the peer side of issue 6's comparison. For each peer it
creates a throwaway virtualenv under bench/out/ and installs the peer from PyPI
there (never a project dependency), writes the peer's own configuration for N
loopback feeds, and measures two poll cycles in a fresh state directory:

- cold: first run, every feed answers 200 with its full body;
- warm: the same run again at once; every feed answers 304 to a conditional
  request, or 200 with the same body to an unconditional one.

For each cycle: wall time, CPU time (user + sys) and peak RSS of the peer's
process (from `os.wait4` in a tiny launcher process, so each run is measured
alone and not inflated by this process's memory; for a peer that forks workers
the CPU includes reaped workers and the RSS is that of the largest single
process), plus what the feed server saw: requests, conditional requests
(If-None-Match / If-Modified-Since) and 304s sent. Every run has a timeout;
a run that hits it is killed with its process group and reported as such
(with how many feeds it fetched, and CPU and VmHWM read from /proc just
before the kill), and its warm cycle is skipped.

Only 127.0.0.1/8 URLs are configured and proxy variables are removed from the
peers' environment, so nothing leaves the machine.

CLI: `python bench/peers.py --sizes 200,1000,2000 --latency-ms 0,50` appends one
JSON line per cycle to bench/out/peers.jsonl and prints a Markdown table;
`python bench/peers.py --table bench/out/peers.jsonl` prints the table again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.feedserver import FeedServer

OUT = Path(__file__).resolve().parent / "out"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "no_proxy")


# --- the peers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """How to install, configure and run one peer for one poll cycle."""

    name: str
    package: str  # pinned PyPI requirement
    executable: str

    @property
    def venv(self) -> Path:
        return OUT / f"venv-{self.package.split('==')[0]}"

    @property
    def bin(self) -> Path:
        return self.venv / "bin" / self.executable

    def configure(self, workdir: Path, urls: Sequence[str]) -> None:
        raise NotImplementedError

    def command(self, workdir: Path) -> list[str]:
        raise NotImplementedError

    def items_seen(self, workdir: Path) -> int:
        """Entries the peer recorded as seen (checks that it really parsed the feeds)."""
        raise NotImplementedError


class Rss2Email(Peer):
    """`r2e run --no-send`: fetch, parse and build every message, but do not mail them."""

    def configure(self, workdir: Path, urls: Sequence[str]) -> None:
        lines = [
            "[DEFAULT]",
            "to = bench@localhost",
            "from = bench@localhost",
            "email-protocol = sendmail",
            "sendmail = /bin/true",  # never called with --no-send; a stub all the same
            "feed-timeout = 60",
        ]
        for number, url in enumerate(urls, start=1):
            lines += ["", f"[feed.bench-{number:04d}]", f"url = {url}"]
        (workdir / "rss2email.cfg").write_text("\n".join(lines) + "\n")

    def command(self, workdir: Path) -> list[str]:
        cfg, data = workdir / "rss2email.cfg", workdir / "rss2email.json"
        return [str(self.bin), "-c", str(cfg), "-d", str(data), "run", "--no-send"]

    def items_seen(self, workdir: Path) -> int:
        path = workdir / "rss2email.json"
        if not path.exists():
            return 0
        data = json.loads(path.read_text())
        return sum(len(feed.get("seen", {})) for feed in data.get("feeds", []))


class Feed2Exec(Peer):
    """`feed2exec fetch` with the null output plugin: fetch, parse, record as seen."""

    jobs: int = 0  # 0: sequential; N: parse in a pool of N processes (`--jobs N`)

    def configure(self, workdir: Path, urls: Sequence[str]) -> None:
        lines: list[str] = []
        for number, url in enumerate(urls, start=1):
            lines += [f"[bench-{number:04d}]", f"url = {url}"]
            lines += ["output = feed2exec.plugins.null", ""]
        (workdir / "feed2exec.ini").write_text("\n".join(lines))

    def command(self, workdir: Path) -> list[str]:
        cmd = [str(self.bin), "--config", str(workdir / "feed2exec.ini")]
        cmd += ["--database", str(workdir / "feed2exec.db"), "fetch"]
        return cmd + (["--jobs", str(self.jobs)] if self.jobs else [])

    def items_seen(self, workdir: Path) -> int:
        path = workdir / "feed2exec.db"
        if not path.exists():
            return 0
        with sqlite3.connect(path) as con:
            return int(con.execute("SELECT count(*) FROM feedcache").fetchone()[0])


class Feed2ExecJobs(Feed2Exec):
    jobs = 2  # both cores of the bench machine


PEERS: dict[str, Peer] = {
    "rss2email": Rss2Email("rss2email", "rss2email==3.14", "r2e"),
    "feed2exec": Feed2Exec("feed2exec", "feed2exec==0.23.0", "feed2exec"),
    "feed2exec-j2": Feed2ExecJobs("feed2exec-j2", "feed2exec==0.23.0", "feed2exec"),
}


def install(peer: Peer, timeout: float = 600) -> None:
    """Create the peer's throwaway virtualenv and pip-install it there, once."""
    if peer.bin.exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(peer.venv)], check=True, timeout=120)
    pip = [str(peer.venv / "bin" / "pip"), "install", "--quiet", peer.package]
    subprocess.run(pip, check=True, timeout=timeout)


def peer_version(peer: Peer) -> str:
    pip = [str(peer.venv / "bin" / "pip"), "show", peer.package.split("==")[0]]
    out = subprocess.run(pip, capture_output=True, text=True, timeout=60).stdout
    return next((ln.split()[-1] for ln in out.splitlines() if ln.startswith("Version:")), "?")


# --- measuring one run -----------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    returncode: int
    timed_out: bool


def peer_env(workdir: Path) -> dict[str, str]:
    """The parent's environment without proxies, with HOME and XDG dirs in the workdir."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    env["HOME"] = str(workdir)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[name] = str(workdir / name.lower())
    return env


# Linux starts a child's peak RSS at its parent's RSS at fork time, and exec keeps
# it, so a peer forked straight from this process (which holds the feed server,
# 100+ MB at 2,000 feeds) would report at least that. A tiny launcher (python -S,
# about 10 MB) forks the peer instead, reaps it with wait4 and reports the peer's
# own usage: exact CPU, and peak RSS with a floor of the launcher's size.
LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"user": ru.ru_utime, "sys": ru.ru_stime, "maxrss_kb": ru.ru_maxrss}, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(cmd: Sequence[str], env: dict[str, str], log: Path, timeout: float) -> Measurement:
    """Run `cmd` to completion or `timeout` (then kill its process group); its own usage."""
    usage_file = log.with_name("usage.json")
    usage_file.unlink(missing_ok=True)
    launcher = [sys.executable, "-S", "-c", LAUNCHER, str(usage_file), *cmd]
    start = time.monotonic()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            launcher, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    timed_out = threading.Event()

    partial: dict[str, float] = {}

    def kill() -> None:
        partial.update(group_usage(proc.pid))  # the launcher will not report: read /proc
        timed_out.set()
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        returncode = proc.wait()
    finally:
        timer.cancel()
    wall = time.monotonic() - start
    usage = json.loads(usage_file.read_text()) if usage_file.exists() else partial
    return Measurement(
        wall_s=round(wall, 2),
        user_s=round(usage.get("user", float("nan")), 2),
        sys_s=round(usage.get("sys", float("nan")), 2),
        peak_rss_mb=round(usage.get("maxrss_kb", float("nan")) / 1024, 1),  # Linux: KiB
        returncode=returncode,
        timed_out=timed_out.is_set(),
    )


def group_usage(pgid: int) -> dict[str, float]:
    """CPU seconds and largest VmHWM of the live processes of a process group, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    hwm_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == pgid:  # skip the launcher itself
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # fields[2] is pgrp (field 5 of stat)
                continue
            user += int(fields[11]) / ticks  # utime
            system += int(fields[12]) / ticks  # stime
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm_kb = max(hwm_kb, int(line.split()[1]))
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return {"user": user, "sys": system, "maxrss_kb": hwm_kb}


# --- one configuration: a peer, N feeds, a latency, two cycles ----------------------------


def bench_peer(
    peer: Peer, feeds: int, latency_ms: float, feeds_per_host: int, timeout: float
) -> list[dict[str, Any]]:
    hosts = max(1, feeds // feeds_per_host)
    workdir = OUT / "runs" / f"{peer.name}-{feeds}-{int(latency_ms)}ms"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    records = []
    with FeedServer(feeds, hosts=hosts, latency_ms=latency_ms, duration=4 * timeout) as server:
        peer.configure(workdir, server.feed_urls)
        for cycle in ("cold", "warm"):
            server.reset_stats()
            m = run_measured(peer.command(workdir), peer_env(workdir), workdir / "log", timeout)
            seen = server.stats()
            records.append(
                {
                    "peer": peer.name,
                    "feeds": feeds,
                    "hosts": hosts,
                    "latency_ms": latency_ms,
                    "cycle": cycle,
                    **asdict(m),
                    "timeout_s": timeout,
                    "items_seen": peer.items_seen(workdir),
                    "server": {k: seen[k] for k in SERVER_KEYS},
                }
            )
            print(f"  {summary_line(records[-1])}", flush=True)
            if m.timed_out:
                break  # after a partial cold cycle, a second run would not be a warm cycle
    return records


SERVER_KEYS = (
    "feed_requests",
    "distinct_feeds",
    "if_none_match",
    "if_modified_since",
    "conditional",
    "not_modified",
    "full",
    "gzip",
    "body_bytes",
    "connections_total",
    "connections_peak",
    "user_agents",
)


def summary_line(r: dict[str, Any]) -> str:
    s = r["server"]
    status = "TIMEOUT" if r["timed_out"] else f"rc={r['returncode']}"
    return (
        f"{r['peer']} N={r['feeds']} {r['latency_ms']:g}ms {r['cycle']}: "
        f"wall {r['wall_s']}s cpu {r['user_s'] + r['sys_s']:.2f}s rss {r['peak_rss_mb']}MB "
        f"req {s['feed_requests']} cond {s['conditional']} 304 {s['not_modified']} "
        f"seen {r['items_seen']} {status}"
    )


# --- the table -------------------------------------------------------------------------


def render_table(records: Iterable[dict[str, Any]]) -> str:
    head = (
        "| tool | feeds | latency | cycle | wall s | CPU s (user+sys) | peak RSS MB "
        "| requests | conditional (INM / IMS) | 304s | conns | items seen | note |\n"
        "|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|\n"
    )
    rows = []
    for r in records:
        s = r["server"]
        note = f"timeout {r['timeout_s']:g}s" if r["timed_out"] else ""
        if not r["timed_out"] and r["returncode"]:
            note = f"exit {r['returncode']}"
        rows.append(
            f"| {r['peer']} | {r['feeds']} | {r['latency_ms']:g} ms | {r['cycle']} "
            f"| {r['wall_s']:.1f} | {r['user_s'] + r['sys_s']:.1f} | {r['peak_rss_mb']:.0f} "
            f"| {s['feed_requests']} | {s['conditional']} ({s['if_none_match']} / "
            f"{s['if_modified_since']}) | {s['not_modified']} | {s['connections_total']} "
            f"| {r['items_seen']} | {note} |"
        )
    return head + "\n".join(rows) + "\n"


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", default="rss2email,feed2exec", help=",".join(PEERS))
    parser.add_argument("--sizes", default="200,1000,2000", help="numbers of feeds")
    parser.add_argument("--latency-ms", default="0,50", help="per-request latencies")
    parser.add_argument("--feeds-per-host", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=290.0, help="seconds per run")
    parser.add_argument("--out", type=Path, default=OUT / "peers.jsonl")
    parser.add_argument("--table", type=Path, help="only print the table of this JSONL")
    args = parser.parse_args(argv)
    if args.table:
        print(render_table(read_records(args.table)), end="")
        return 0
    peers = [PEERS[name] for name in args.peers.split(",")]
    sizes = [int(n) for n in args.sizes.split(",")]
    latencies = [float(ms) for ms in args.latency_ms.split(",")]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    for peer in peers:
        install(peer)
        print(f"{peer.name} {peer_version(peer)}", flush=True)
        for latency in latencies:
            for feeds in sizes:
                new = bench_peer(peer, feeds, latency, args.feeds_per_host, args.timeout)
                with open(args.out, "a") as out:
                    out.writelines(json.dumps(r) + "\n" for r in new)
                records += new
    print(render_table(records), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
