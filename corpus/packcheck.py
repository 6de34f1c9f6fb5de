"""Rules alone on one language's corpus items of folds 1-4, the folds a term pack is written
from: fold 0 of every round is held out, never printed, never counted (`make eval` measures it).

    .venv/bin/python corpus/packcheck.py LANG [--rules DIR] [--list]

Prints precision and recall of the rules alone (a rule of severity low or above fires), per
category, and with --list every miss (FN) and false alarm (FP) with the rules that fired.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import folds

from monitor.match.matcher import Matcher
from monitor.model import Item, Severity
from monitor.rules import load_rules

WHEN = datetime(2025, 1, 1, tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lang")
    ap.add_argument("--rules", default=str(folds.ROOT / "rules"))
    ap.add_argument("--list", action="store_true", help="every miss and false alarm")
    args = ap.parse_args(argv)
    rows = folds.read()
    matcher = Matcher(load_rules([Path(args.rules)]))
    tally: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    wrong = []
    for n, (row, fold) in enumerate(zip(rows, folds.folds(rows), strict=True)):
        if row.lang != args.lang or fold == 0:
            continue
        item = Item(f"c{n}", "corpus", row.title, row.summary, None, WHEN)
        fired = [m.rule_id for m in matcher.match(item) if m.severity >= Severity.LOW]
        kind = ("tp" if row.label else "fp") if fired else ("fn" if row.label else "tn")
        tally[kind] += 1
        if row.label:
            seen[row.note] += 1
            hit[row.note] += bool(fired)
        if kind in ("fp", "fn"):
            wrong.append((kind, row, fired))
    tp, fp, fn = tally["tp"], tally["fp"], tally["fn"]
    precision = f"{tp / (tp + fp):.3f}" if tp + fp else "-"
    recall = f"{tp / (tp + fn):.3f}" if tp + fn else "-"
    print(f"{args.lang} folds 1-4: n={sum(tally.values())} P {precision} R {recall} "
          f"(tp {tp} fp {fp} fn {fn})")  # fmt: skip
    for category in sorted(seen):
        print(f"  {category:16s} R {hit[category]}/{seen[category]}")
    if args.list:
        for kind, row, fired in wrong:
            print(f"{kind.upper()} [{row.note}] {row.title} || {row.summary[:160]} || {fired}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
