"""Poll cycle of `monitor run --once`, cold and warm, against the loopback feed server.

Issue 6, item 1: the same rig, sizes, latencies and columns as `bench/peers.py`, so the
rows sit beside the peers' and ratios read directly. Per configuration (N feeds, 20 per
loopback host, a per-request latency): a fresh feed server, a fresh webhook receiver, a
fresh state directory and a config from `write_monitor_config` (backfill "all", the rule
pack in ./rules, one webhook channel at min_severity info, JSON logs at info), then

- cold: `monitor run --once -c CONFIG`, every feed 200 with its full body, every alert
  delivered to the receiver before the command exits;
- warm: the same command at once; every feed answers 304 to a conditional request.

Each run goes through `peers.run_measured` (a small launcher that reports the child's own
CPU, which includes its reaped parse workers, and the peak RSS of its largest process).
The feed server's counters give requests, conditional requests and 304s.

    .venv/bin/python bench/cycle.py --sizes 200,1000,2000 --latency-ms 0,50
    .venv/bin/python bench/cycle.py --table bench/out/cycle.jsonl   # tables again

Results are appended to bench/out/cycle.jsonl; the peers' records are read from
bench/out/peers.jsonl for the ratio table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peers
from bench.feedserver import FeedServer, write_monitor_config
from bench.peers import (
    OUT,
    SERVER_KEYS,
    peer_env,
    read_records,
    render_table,
    summary_line,
)
from bench.receiver import WebhookReceiver

REPO = Path(__file__).resolve().parent.parent
TOOL = "monitor run --once"
MONITOR = [sys.executable, "-m", "monitor"]


def monitor_cmd(src: Path | None) -> list[str]:
    """`python -m monitor`, or the same from a copy of the package in `src` (A/B runs)."""
    if src is None:
        return MONITOR
    boot = f"import sys, runpy; sys.path.insert(0, {str(src)!r}); "
    return [sys.executable, "-c", boot + "runpy.run_module('monitor', run_name='__main__')"]


# peers.run_measured's launcher, made a child subreaper: monitor's parse workers are
# grandchildren (forked by a forkserver that monitor does not reap), so a plain wait4 misses
# their CPU. This one reaps every orphan too (at most 10 s after monitor exits) and adds
# "tree_user"/"tree_sys"/"tree_maxrss_kb" (RUSAGE_CHILDREN: the whole process tree).
TREE_LAUNCHER = """
import ctypes, json, os, resource, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        if os.waitpid(-1, os.WNOHANG)[0] == 0:
            time.sleep(0.05)
    except ChildProcessError:
        break
tree = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    json.dump({"user": ru.ru_utime, "sys": ru.ru_stime, "maxrss_kb": ru.ru_maxrss,
               "tree_user": tree.ru_utime, "tree_sys": tree.ru_stime,
               "tree_maxrss_kb": tree.ru_maxrss}, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured_tree(
    cmd: Sequence[str], env: dict[str, str], log: Path, timeout: float
) -> tuple[peers.Measurement, dict[str, float]]:
    """peers.run_measured with TREE_LAUNCHER; also the CPU of the whole tree (workers)."""
    saved, peers.LAUNCHER = peers.LAUNCHER, TREE_LAUNCHER
    try:
        m = peers.run_measured(cmd, env, log, timeout)
    finally:
        peers.LAUNCHER = saved
    usage_file = log.with_name("usage.json")
    usage = json.loads(usage_file.read_text()) if usage_file.exists() else {}
    tree = {
        "tree_cpu_s": round(usage.get("tree_user", 0) + usage.get("tree_sys", 0), 2),
        "tree_peak_rss_mb": round(usage.get("tree_maxrss_kb", 0) / 1024, 1),
    }
    return m, tree


def poll_span(log: Path, offset: int) -> float | None:
    """Seconds from the first poll's start to the last poll's end in this run's JSON log
    lines (after `offset`): the cycle a running daemon repeats, without the command's start
    (imports, config, rules, model) and exit, which `wall_s` includes."""
    if not log.exists():
        return None
    starts, ends = [], []
    with log.open("rb") as f:
        f.seek(offset)
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict) or not str(event.get("event", "")).startswith("feed."):
                continue
            if "elapsed" not in event or "timestamp" not in event:
                continue
            end = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
            ends.append(end.timestamp())
            starts.append(end.timestamp() - float(event["elapsed"]))
    return round(max(ends) - min(starts), 3) if ends else None


def items_seen(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        return int(con.execute("SELECT count(*) FROM seen").fetchone()[0])


def bench_monitor(
    feeds: int,
    latency_ms: float,
    feeds_per_host: int,
    timeout: float,
    extra_defaults: dict[str, Any] | None = None,
    label: str = "",
    src: Path | None = None,
    items: int = 30,
    warm_runs: int = 1,
) -> list[dict[str, Any]]:
    hosts = max(1, feeds // feeds_per_host)
    workdir = OUT / "runs" / f"monitor{label}-{feeds}-{int(latency_ms)}ms"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    records = []
    with (
        FeedServer(
            feeds,
            hosts=hosts,
            latency_ms=latency_ms,
            duration=4 * timeout * (1 + warm_runs),
            items_per_feed=items,
        ) as server,
        WebhookReceiver(
            log_path=str(workdir / "hooks.jsonl"), duration=4 * timeout * (1 + warm_runs)
        ) as hooks,
    ):
        cfg = write_monitor_config(
            workdir / "monitor.toml",
            server.feed_urls,
            "BENCH_WEBHOOK_URL",
            workdir / "state" / "monitor.db",
        )
        if extra_defaults:  # e.g. {"workers": 32}: appended to [defaults] for A/B runs
            text = cfg.read_text()
            extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in extra_defaults.items())
            cfg.write_text(text.replace("[defaults]\n", "[defaults]\n" + extra, 1))
        env = peer_env(workdir)
        env["BENCH_WEBHOOK_URL"] = hooks.hook_url
        env["PYTHONPATH"] = str(REPO)
        for cycle in ("cold", *["warm"] * warm_runs):
            server.reset_stats()
            before = len(hooks.received)
            cmd = [*monitor_cmd(src), "run", "--once", "-c", str(cfg)]
            offset = (workdir / "log").stat().st_size if (workdir / "log").exists() else 0
            m, tree = run_measured_tree(cmd, env, workdir / "log", timeout)
            seen = server.stats()
            records.append(
                {
                    "peer": TOOL + label,
                    "feeds": feeds,
                    "hosts": hosts,
                    "items_per_feed": items,
                    "latency_ms": latency_ms,
                    "cycle": cycle,
                    **asdict(m),
                    **tree,
                    "timeout_s": timeout,
                    "items_seen": items_seen(workdir / "state" / "monitor.db"),
                    "poll_span_s": poll_span(workdir / "log", offset),
                    "alerts_received": len(hooks.received) - before,
                    "defaults": extra_defaults or {},
                    "server": {k: seen[k] for k in SERVER_KEYS},
                }
            )
            print(
                f"  {summary_line(records[-1])} alerts {records[-1]['alerts_received']} "
                f"tree cpu {tree['tree_cpu_s']}s polls {records[-1]['poll_span_s']}s",
                flush=True,
            )
            if m.timed_out:
                break
    return records


def fastest_peers(peers: Iterable[dict[str, Any]]) -> dict[tuple[int, float, str], dict]:
    """Per (feeds, latency, cycle): the peer record with the least wall time (not timed out)."""
    best: dict[tuple[int, float, str], dict] = {}
    for r in peers:
        if r["timed_out"] or r["returncode"]:
            continue
        key = (r["feeds"], float(r["latency_ms"]), r["cycle"])
        if key not in best or r["wall_s"] < best[key]["wall_s"]:
            best[key] = r
    return best


def render_ratios(mine: Iterable[dict[str, Any]], peers: Iterable[dict[str, Any]]) -> str:
    best = fastest_peers(peers)
    rows = [
        "| feeds | latency | cycle | fastest peer | wall monitor / peer | CPU monitor / peer "
        "| peak RSS monitor / peer |",
        "|---:|---:|---|---|---|---|---|",
    ]
    for r in mine:
        p = best.get((r["feeds"], float(r["latency_ms"]), r["cycle"]))
        if p is None:
            continue
        cpu, pcpu = r["user_s"] + r["sys_s"], p["user_s"] + p["sys_s"]
        rows.append(
            f"| {r['feeds']} | {r['latency_ms']:g} ms | {r['cycle']} | {p['peer']} "
            f"| {r['wall_s']:.1f} / {p['wall_s']:.1f} = **{r['wall_s'] / p['wall_s']:.2f}** "
            f"| {cpu:.1f} / {pcpu:.1f} = {cpu / pcpu:.2f} "
            f"| {r['peak_rss_mb']:.0f} / {p['peak_rss_mb']:.0f} = "
            f"{r['peak_rss_mb'] / p['peak_rss_mb']:.2f} |"
        )
    return "\n".join(rows) + "\n"


def check_targets(records: Sequence[dict[str, Any]], peers: Sequence[dict[str, Any]]) -> list[str]:
    """Issue 6's cycle targets, as lines of text (PASS/MISS)."""
    out = []
    best = fastest_peers(peers)
    for r in records:
        if r["cycle"] == "warm" and r["feeds"] == 2000:
            ok = r["wall_s"] < 10 and not r["timed_out"]
            out.append(
                f"{'PASS' if ok else 'MISS'} warm 2000 feeds {r['latency_ms']:g} ms: "
                f"{r['wall_s']:.1f} s (target < 10 s)"
            )
        if r["cycle"] == "warm" and r["feeds"] == 2000 and r.get("hosts") == 40:
            # issue 13: two requests per host in flight allow 25 round trips; 1.5 x that
            limit = 2000 / 40 / 2 * r["latency_ms"] / 1000
            ok = r["wall_s"] <= 1.5 * limit and not r["timed_out"]
            out.append(
                f"{'PASS' if ok else 'MISS'} warm 2000 feeds on 40 hosts {r['latency_ms']:g} ms: "
                f"{r['wall_s']:.2f} s (target <= {1.5 * limit:.2f} s)"
            )
            span = r.get("poll_span_s")
            if span is not None:  # the cycle itself, as a running daemon repeats it
                out.append(
                    f"{'PASS' if span <= 1.5 * limit else 'MISS'} warm 2000 feeds on 40 hosts, "
                    f"polls alone (first start to last end): {span:.2f} s "
                    f"(target <= {1.5 * limit:.2f} s)"
                )
        if r["cycle"] == "cold":
            p = best.get((r["feeds"], float(r["latency_ms"]), "cold"))
            if p is not None:
                ok = r["wall_s"] <= p["wall_s"] and not r["timed_out"]
                out.append(
                    f"{'PASS' if ok else 'MISS'} cold {r['feeds']} feeds {r['latency_ms']:g} ms: "
                    f"{r['wall_s']:.1f} s vs {p['peer']} {p['wall_s']:.1f} s"
                )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1000,2000", help="numbers of feeds")
    parser.add_argument("--latency-ms", default="0,50", help="per-request latencies")
    parser.add_argument("--feeds-per-host", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=290.0, help="seconds per run")
    parser.add_argument("--set", action="append", default=[], help="[defaults] KEY=VALUE (A/B)")
    parser.add_argument("--label", default="", help="suffix of the tool name (A/B runs)")
    parser.add_argument("--src", type=Path, help="run the monitor package copied in this dir")
    parser.add_argument("--out", type=Path, default=OUT / "cycle.jsonl")
    parser.add_argument("--peers", type=Path, default=OUT / "peers.jsonl")
    parser.add_argument("--table", type=Path, help="only print the tables of this JSONL")
    parser.add_argument("--items", type=int, default=30, help="items per feed (cold cost only)")
    parser.add_argument("--warm-runs", type=int, default=1, help="warm runs after the cold one")
    args = parser.parse_args(argv)
    peers = read_records(args.peers) if args.peers.exists() else []
    if args.table:
        records = read_records(args.table)
    else:
        extra = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
        records = []
        args.out.parent.mkdir(parents=True, exist_ok=True)
        for latency in [float(ms) for ms in args.latency_ms.split(",")]:
            for feeds in [int(n) for n in args.sizes.split(",")]:
                new = bench_monitor(
                    feeds, latency, args.feeds_per_host, args.timeout, extra, args.label, args.src,
                    args.items, args.warm_runs,
                )  # fmt: skip
                with open(args.out, "a") as out:
                    out.writelines(json.dumps(r) + "\n" for r in new)
                records += new
    # CPU column: monitor's whole process tree (parse workers included), as for the peers
    shown = [{**r, "user_s": r.get("tree_cpu_s", r["user_s"] + r["sys_s"]), "sys_s": 0.0}
             for r in records]  # fmt: skip
    print(render_table(shown), end="")
    print()
    print(render_ratios(shown, peers), end="")
    print()
    print("\n".join(check_targets(records, peers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
