"""What the language term packs (rules/lang/) cost the matcher: the same synthetic items as
bench/bench_match.py, the default pack with and without rules/lang/, interleaved in one
process (7 rounds each after a warm-up) so that a noisy machine moves both alike; prints the
best and the median rate of each.

    .venv/bin/python bench/pack_cost.py [--items 5000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_match import screen, synthetic_items

from monitor.match.matcher import Matcher
from monitor.model import Item
from monitor.rules import load_rules

RULES = Path(__file__).resolve().parent.parent / "rules"
ROUNDS = 7


def seconds(match: Callable[[Item], object], items: Sequence[Item]) -> float:
    started = time.process_time()
    for item in items:
        match(item)
    return time.process_time() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=5000)
    items = synthetic_items(ap.parse_args().items, 7)
    with tempfile.TemporaryDirectory() as bare:
        for f in RULES.glob("*.toml"):
            shutil.copy(f, bare)  # the theme files alone: no rules/lang/
        both, themes = load_rules([RULES]), load_rules([Path(bare)])
    judges = {
        "compiled matcher, with packs": Matcher(both).match,
        "compiled matcher, without": Matcher(themes).match,
        "rules + model, with packs": screen(both).match,
        "rules + model, without": screen(themes).match,
    }
    times: dict[str, list[float]] = {name: [] for name in judges}
    for match in judges.values():
        seconds(match, items)  # warm-up: caches filled as in a running daemon
    for _ in range(ROUNDS):
        for name, match in judges.items():
            times[name].append(seconds(match, items))
    for name, got in times.items():
        best, median = min(got), sorted(got)[ROUNDS // 2]
        rates = f"best {len(items) / best:,.0f} items/s, median {len(items) / median:,.0f}"
        print(f"{name:30s} {rates}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
