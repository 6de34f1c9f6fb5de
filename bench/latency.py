"""Alert latency and peak memory of the `monitor run` daemon (issue 6, items 2 and 3).

The daemon watches N loopback feeds (20 per host) with a 60 s poll interval while the
feed server publishes new items at random (growth mode, logged with their publication
time) and a webhook receiver logs each alert's receipt time and links. For every growth
item whose alert arrives:

    delay = (receipt - published) - (next poll of the feed after publication - published)
          = receipt - start of the poll that saw the item

The poll's start is the arrival of the feed request at the feed server (its request log,
kept here by a FeedServer subclass), so the delay covers fetch, parse, match, store and
delivery: everything monitor does after the poll that saw the item. Alerts join items on
the item link in the webhook body (`item.link`, then `sources[].link`: /story/F/N.html);
only `match` alerts and the first receipt per item count. The state is primed first by
one `monitor run --once` without a channel (the cold cycle: every feed's first 30 items
recorded, nothing queued), so the daemon starts in steady state; items published before
the end of the warm-up (--warmup, after the daemon starts) are left out. Story grouping
is narrowed to `[alerts] story_window = "1s"` (--story-window): the generated headlines
are so alike that with the default 72 h nearly every new item joins a story already
alerted (a source added, rightly no alert), which leaves nothing to time.

Memory: every few seconds the RSS of the daemon process and of each of its descendants
(forkserver, parse workers, resource tracker) is sampled from /proc; the peaks reported are
the daemon's VmHWM (its true peak) and the largest sampled RSS of the parse workers.

    .venv/bin/python bench/latency.py --feeds 2000 --minutes 4 --warmup 30
    .venv/bin/python bench/latency.py --quick            # 300 feeds, 90 s after warm-up
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.feedserver import FeedServer, write_monitor_config
from bench.peers import OUT, peer_env
from bench.receiver import WebhookReceiver

REPO = Path(__file__).resolve().parent.parent
STORY = re.compile(r"/story/(\d+)/(\d+)\.html")
GUID = re.compile(r"urn:bench:feed:(\d+):item:(\d+)")


class LoggingFeedServer(FeedServer):
    """FeedServer that remembers when each feed was requested (the start of each poll)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: dict[int, list[float]] = {}

    def _answer_feed(self, request: Any, feed: Any, stats: Any) -> Any:
        self.requests.setdefault(feed.number, []).append(time.time())
        return super()._answer_feed(request, feed, stats)


class LinkReceiver(WebhookReceiver):
    """WebhookReceiver that also keeps each alert's kind and item links."""

    def handle(self, request: Any) -> Any:
        response = super().handle(request)
        try:
            body = json.loads(request.body)
        except ValueError:
            body = {}
        links = [((body.get("item") or {}).get("link"))]
        links += [s.get("link") for s in body.get("sources") or []]
        self.received[-1]["kind"] = str(body.get("type", "")).removeprefix("alert.")
        self.received[-1]["links"] = [link for link in links if link]
        return response


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            out += [kid, *descendants(kid)]
    return out


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def role(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    if "resource_tracker" in cmd:
        return "resource_tracker"
    if "forkserver" in cmd:
        return "parse worker" if _parent_is_forkserver(pid) else "forkserver"
    return "other"


def _parent_is_forkserver(pid: int) -> bool:
    try:
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        return b"forkserver" in Path(f"/proc/{ppid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--feeds", type=int, default=2000)
    p.add_argument("--feeds-per-host", type=int, default=20)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--growth-rate", type=float, default=0.5, help="new items per second")
    p.add_argument("--warmup", type=float, default=30.0, help="seconds left out at the start")
    p.add_argument("--minutes", type=float, default=4.0, help="measured time after warm-up")
    p.add_argument("--interval", default="60s")
    p.add_argument(
        "--story-window",
        default="1s",
        help="[alerts] story_window; the default 72h groups nearly every generated headline "
        "into a story seen before (a source added, no alert); '' keeps monitor's default",
    )
    p.add_argument("--every", type=float, default=2.0, help="seconds between memory samples")
    p.add_argument("--quick", action="store_true", help="300 feeds, 20 s warm-up, 90 s")
    p.add_argument("--out", type=Path, default=OUT / "latency.jsonl")
    args = p.parse_args(argv)
    if args.quick:
        args.feeds, args.warmup, args.minutes = 300, 20.0, 1.5
    interval = float(args.interval.rstrip("s"))
    measured = args.minutes * 60
    drain = interval + 20  # the last items published get their poll and delivery
    life = args.warmup + measured + drain + 120
    work = OUT / "runs" / f"latency-{args.feeds}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    hosts = max(1, args.feeds // args.feeds_per_host)
    with (
        LoggingFeedServer(
            args.feeds,
            hosts=hosts,
            latency_ms=args.latency_ms,
            growth_rate=args.growth_rate,
            log_path=str(work / "published.jsonl"),
            duration=life,
        ) as feeds,
        LinkReceiver(log_path=str(work / "hooks.jsonl"), duration=life) as hooks,
    ):
        cfg = write_monitor_config(
            work / "monitor.toml",
            feeds.feed_urls,
            "BENCH_WEBHOOK_URL",
            work / "state" / "monitor.db",
            interval=args.interval,
        )
        if args.story_window:  # every matching new item its own story, hence its own alert
            with open(cfg, "a") as f:
                f.write(f'\n[alerts]\nstory_window = "{args.story_window}"\n')
        env = peer_env(work)
        env["BENCH_WEBHOOK_URL"] = hooks.hook_url
        env["PYTHONPATH"] = str(REPO)
        # Prime the state with one cold cycle (`run --once`, no channel: nothing queued), so
        # that the daemon starts in steady state: otherwise the alerts of every feed's first
        # 30 items (thousands) queue ahead of the new items' alerts on the one channel.
        prime = work / "prime.toml"
        prime.write_text(cfg.read_text().split("[[channels]]")[0])
        with (work / "prime.log").open("wb") as log:
            subprocess.run(
                [sys.executable, "-m", "monitor", "run", "--once", "-c", str(prime)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
                timeout=600,
                check=False,
            )
        began = time.time()
        samples: list[dict[str, Any]] = []
        worker_peak = forkserver_peak = 0.0
        with (work / "daemon.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "-c", str(cfg)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
            )
            main_hwm = 0
            try:
                while time.time() - began < args.warmup + measured + drain:
                    time.sleep(args.every)
                    if proc.poll() is not None:
                        break
                    main_hwm = max(main_hwm, status_kb(proc.pid, "VmHWM"))
                    kids = {pid: role(pid) for pid in descendants(proc.pid)}
                    workers = [
                        status_kb(k, "VmRSS") for k, r in kids.items() if r == "parse worker"
                    ]
                    server = [status_kb(k, "VmRSS") for k, r in kids.items() if r == "forkserver"]
                    s = {
                        "t": round(time.time() - began, 1),
                        "rss_mb": round(status_kb(proc.pid, "VmRSS") / 1024, 1),
                        "workers": len(workers),
                        "worker_rss_mb": [round(w / 1024, 1) for w in workers],
                        "forkserver_rss_mb": round(sum(server) / 1024, 1),
                    }
                    worker_peak = max([worker_peak, *s["worker_rss_mb"]])
                    forkserver_peak = max(forkserver_peak, s["forkserver_rss_mb"])
                    samples.append(s)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        published = [json.loads(line) for line in (work / "published.jsonl").open()]
        received = list(hooks.received)
        requests = {k: sorted(v) for k, v in feeds.requests.items()}
    first_receipt: dict[tuple[int, int], float] = {}
    for r in received:
        if r.get("status") != 200 or r.get("kind") != "match":
            continue
        for link in r.get("links", [])[:1]:  # the alert's own item
            m = STORY.search(link)
            if m:
                key = (int(m.group(1)), int(m.group(2)))
                first_receipt.setdefault(key, r["t"])
    delays: list[float] = []
    waits: list[float] = []
    late = 0
    window = [
        i for i in published if began + args.warmup <= i["t"] <= began + args.warmup + measured
    ]
    for item in window:
        m = GUID.search(item["guid"])
        key = (int(m.group(1)), int(m.group(2))) if m else None
        if key not in first_receipt:
            continue
        poll = next((t for t in requests.get(key[0], []) if t >= item["t"]), None)
        if poll is None:
            late += 1
            continue
        delays.append(first_receipt[key] - poll)
        waits.append(poll - item["t"])
    rss = [s["rss_mb"] for s in samples]
    result = {
        "feeds": args.feeds,
        "hosts": hosts,
        "latency_ms": args.latency_ms,
        "interval": args.interval,
        "growth_rate": args.growth_rate,
        "warmup_s": args.warmup,
        "measured_s": measured,
        "published_in_window": len(window),
        "atrocity_in_window": sum(1 for i in window if i.get("atrocity")),
        "alerts_joined": len(delays),
        "no_poll_seen": late,
        "delay_median_s": round(statistics.median(delays), 3) if delays else None,
        "delay_p95_s": round(percentile(delays, 95), 3) if delays else None,
        "delay_max_s": round(max(delays), 3) if delays else None,
        "wait_for_poll_median_s": round(statistics.median(waits), 1) if waits else None,
        "main_peak_rss_mb": round(main_hwm / 1024, 1),
        "main_rss_sampled_max_mb": max(rss) if rss else None,
        "main_rss_end_mb": rss[-1] if rss else None,
        "worker_peak_rss_mb": worker_peak,
        "workers_seen": max((s["workers"] for s in samples), default=0),
        "forkserver_peak_rss_mb": forkserver_peak,
        "exit_code": proc.returncode,
        "work": str(work),
    }
    (work / "memory.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    with open(args.out, "a") as out:
        out.write(json.dumps(result) + "\n")
    print(json.dumps(result, indent=2))
    ok_latency = bool(delays) and result["delay_median_s"] < 1 and result["delay_p95_s"] < 2
    ok_memory = result["main_peak_rss_mb"] < 150
    print(f"{'PASS' if ok_latency else 'MISS'} latency: median < 1 s, p95 < 2 s")
    print(f"{'PASS' if ok_memory else 'MISS'} daemon peak RSS < 150 MB ({args.feeds} feeds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
