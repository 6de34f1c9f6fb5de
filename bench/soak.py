"""Soak: the real daemon for a chosen time against 500 growing loopback feeds and a webhook
receiver, sampling its memory, file descriptors and threads; checks every alert arrived.

    python bench/soak.py --minutes 30 --feeds 500 --interval 60s --growth-rate 0.5

Prints one JSON line per sample and a summary (start, peak, end; growth in %), and exits
1 when a target is missed: RSS growth over 10% (measured from the first sample after the
first full poll cycle, when caches are warm), any growth in fds or threads, or an alert
recorded in the state database that the receiver never got.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.feedserver import FeedServer, write_monitor_config
from bench.receiver import WebhookReceiver

REPO = Path(__file__).resolve().parents[1]


def sample(pid: int) -> dict[str, float]:
    """RSS (MB) of the daemon and its parse workers, its open fds and its threads."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss = int(fields["VmRSS"].split()[0]) / 1024
    children = _children_rss(pid)
    return {
        "t": time.time(),
        "rss_mb": round(rss, 1),
        "children_rss_mb": round(children, 1),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(fields["Threads"]),
    }


def _children_rss(pid: int) -> float:
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            try:
                st = Path(f"/proc/{kid}/status").read_text()
            except OSError:
                continue
            for line in st.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            total += _children_rss(int(kid))
    return total


def delivered_everything(db: Path, received: set[str]) -> tuple[int, list[str]]:
    """Alert ids with an outbox row that the receiver never got."""
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT DISTINCT alert_id FROM outbox")]
    return len(ids), [i for i in ids if i not in received]


def summarise(samples: list[dict[str, float]], warm_from: int) -> dict[str, object]:
    """Start and end summarise the first and last quarter of the warm samples: the maximum
    for memory, the median for fds and threads, which go up and down with the fetches in
    flight at the moment of a sample (each has a socket and a deadline timer thread)."""
    warm = samples[warm_from:] or samples
    quarter = max(1, len(warm) // 4)
    out: dict[str, object] = {}
    for key in ("rss_mb", "children_rss_mb", "fds", "threads"):
        values = [s[key] for s in warm]
        pick = max if key.endswith("_mb") else statistics.median
        start, end, peak = pick(values[:quarter]), pick(values[-quarter:]), max(values)
        out[key] = {
            "start": start,
            "peak": peak,
            "end": end,
            "growth_pct": round(100 * (end - start) / start, 1) if start else 0.0,
        }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--feeds", type=int, default=500)
    p.add_argument("--interval", default="60s")
    p.add_argument("--growth-rate", type=float, default=0.5, help="new items per second")
    p.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "soak")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="soak-", dir=args.out))
    seconds = args.minutes * 60
    interval = float(args.interval.rstrip("s"))
    with (
        FeedServer(
            args.feeds,
            hosts=25,
            growth_rate=args.growth_rate,
            log_path=str(work / "published.jsonl"),
            duration=seconds + 600,
        ) as feeds,
        WebhookReceiver(log_path=str(work / "hooks.jsonl"), duration=seconds + 600) as hooks,
    ):
        cfg = work / "monitor.toml"
        write_monitor_config(
            str(cfg),
            feeds.feed_urls,
            "BENCH_WEBHOOK_URL",
            str(work / "state.db"),
            interval=args.interval,
        )
        env = dict(os.environ, BENCH_WEBHOOK_URL=hooks.hook_url)
        with (work / "daemon.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "-c", str(cfg)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
            )
            samples: list[dict[str, float]] = []
            began = time.monotonic()
            warm_from = 0
            try:
                while time.monotonic() - began < seconds:
                    time.sleep(args.every)
                    s = sample(proc.pid)
                    samples.append(s)
                    if not warm_from and time.monotonic() - began > interval + 10:
                        warm_from = len(samples) - 1
                    print(json.dumps(s), flush=True)
                time.sleep(min(interval, 60) + 10)  # let the last polls deliver
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
        total, missing = delivered_everything(work / "state.db", set(hooks.ids()))
    summary = summarise(samples, warm_from)
    summary.update(
        {
            "minutes": args.minutes,
            "feeds": args.feeds,
            "interval": args.interval,
            "growth_rate": args.growth_rate,
            "alerts": total,
            "missing": len(missing),
            "exit_code": proc.returncode,
            "work": str(work),
        }
    )
    print(json.dumps(summary, indent=2))
    rss = summary["rss_mb"]
    ok = (
        isinstance(rss, dict)
        and rss["growth_pct"] < 10
        and summary["fds"]["end"] <= summary["fds"]["start"]  # type: ignore[index]
        and summary["threads"]["end"] <= summary["threads"]["start"]  # type: ignore[index]
        and not missing
        and proc.returncode == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
