"""`make bench`: the quick version of every benchmark, then a summary (about 6 minutes).

1. bench/bench_match.py: compiled matcher against the naive one (2,000 items);
2. bench/peers.py: rss2email, 200 feeds, no added latency (the peers' full table is in
   bench/README.md: it takes about an hour);
3. bench/cycle.py: `monitor run --once`, cold and warm, 200 and 1,000 feeds, 0 and 50 ms;
4. bench/latency.py --quick: the daemon, 300 feeds, alert latency and peak memory;
5. bench/console.py --quick: the console's API answer times with 20,000 alerts (SQLite).

Each step is a subprocess with a timeout; a step that fails or times out is reported and
the others still run. Output of each step goes to bench/out/run_all/<step>.txt; the
summary (the lines of each step that say what was measured) is printed at the end.
Full runs: see bench/README.md ("## monitor").
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "run_all"
PY = sys.executable

STEPS: list[tuple[str, list[str], float, tuple[str, ...]]] = [
    (
        "match",
        [PY, "bench/bench_match.py", "--items", "2000"],
        120,
        ("rules:", "compiled matcher", "naive matcher", "ratio"),
    ),
    (
        "peers",
        [
            PY,
            "bench/peers.py",
            "--peers",
            "rss2email",
            "--sizes",
            "200",
            "--latency-ms",
            "0",
            "--timeout",
            "120",
            "--out",
            str(OUT / "peers.jsonl"),
        ],
        300,
        ("| rss2email",),
    ),
    (
        "cycle",
        [
            PY,
            "bench/cycle.py",
            "--sizes",
            "200,1000",
            "--latency-ms",
            "0,50",
            "--timeout",
            "200",
            "--out",
            str(OUT / "cycle.jsonl"),
        ],
        600,
        ("| monitor", "| 200 ", "| 1000 ", "PASS", "MISS"),
    ),
    (
        "latency",
        [PY, "bench/latency.py", "--quick", "--out", str(OUT / "latency.jsonl")],
        420,
        ('"delay_', '"main_peak', '"worker_peak', '"alerts_joined', "PASS", "MISS"),
    ),
    (
        "console",
        [PY, "bench/console.py", "--quick", "--out", str(OUT / "console.jsonl")],
        300,
        ("| ", "PASS", "MISS"),
    ),
]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    summary: list[str] = []
    failed = 0
    for name, cmd, timeout, keep in STEPS:
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        began = time.monotonic()
        log = OUT / f"{name}.txt"
        try:
            done = subprocess.run(
                cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
            )
            text, status = done.stdout + done.stderr, f"exit {done.returncode}"
            failed += done.returncode != 0
        except subprocess.TimeoutExpired as exc:
            text = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else ""
            status, failed = f"TIMEOUT after {timeout:g}s", failed + 1
        log.write_text(text)
        took = time.monotonic() - began
        summary.append(f"## {name} ({status}, {took:.0f} s; full output {log})")
        summary += [ln for ln in text.splitlines() if ln.lstrip().startswith(keep)]
        print(f"   {status} in {took:.0f} s", flush=True)
    print("\n".join(["", *summary]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
