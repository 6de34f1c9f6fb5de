"""One story across languages, measured on real pairs of the corpus (corpus/pairs.tsv).

Each row pairs two positives of the corpus in different languages, read by a helper who
saw both: `same` (one event: one strike, one verdict, one report) or `different` (the same
country and theme, another event). For each pair this prints whether monitor would take the
two for one story on their content (monitor.alerts.across: a common country, and a place
and a figure, or two places, in common), and lists the `same` pairs that split and the
`different` pairs that merge; then the same with the shipped rules, as the daemon decides:
one story only when both reports also fire rules of a common theme. The story window is left
out (the pairs' dates are not all known): it only splits more.

    .venv/bin/python corpus/pairs.py [--list]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import folds

from monitor.alerts import across
from monitor.match.countries import mentioned
from monitor.match.matcher import Matcher
from monitor.model import Item, Severity
from monitor.rules import load_rules

PAIRS = folds.ROOT / "corpus" / "pairs.tsv"
WHEN = datetime(2025, 1, 1, tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="the pairs judged wrongly")
    args = ap.parse_args(argv)
    by_title = {r.title: r for r in folds.read()}
    matcher = Matcher(load_rules([folds.ROOT / "rules"]))
    tally: Counter[tuple[str, bool]] = Counter()
    ruled: Counter[tuple[str, bool]] = Counter()
    wrong = []
    with PAIRS.open(encoding="utf-8", newline="") as f:
        for p in csv.DictReader(f, delimiter="\t"):
            a, b = by_title[p["title_a"]], by_title[p["title_b"]]
            merged = judge(a, b) >= 88
            tally[p["kind"], merged] += 1
            ruled[p["kind"], merged and bool(themes(matcher, a) & themes(matcher, b))] += 1
            if merged != (p["kind"] == "same"):
                wrong.append((p, a, b))
    same, different = (
        tally["same", True] + tally["same", False],
        tally["different", True] + tally["different", False],
    )
    print(f"same event, merged: {tally['same', True]} of {same}")
    print(f"different events, kept apart: {tally['different', False]} of {different}")
    print(
        f"with the shipped rules (a common theme too): same merged {ruled['same', True]} "
        f"of {same}, different kept apart {ruled['different', False]} of {different}"
    )
    if args.list:
        for p, a, b in wrong:
            print(
                f"{p['kind']}: {a.lang} {a.title[:70]} | {b.lang} {b.title[:70]} | {shared(a, b)}"
            )
    return 0


def themes(matcher: Matcher, row: folds.Row) -> set[str]:
    """The themes of the rules a report fires (reports in two languages share a theme)."""
    item = Item("pair", "corpus", row.title, row.summary, None, WHEN)
    return {m.theme for m in matcher.match(item) if m.severity >= Severity.LOW}


def judge(a: folds.Row, b: folds.Row) -> float:
    _, anchors_a = across.anchors(a.title, a.summary, a.lang)
    _, anchors_b = across.anchors(b.title, b.summary, b.lang)
    return across.similarity(mentioned(a.title, a.summary), anchors_a,
                             mentioned(b.title, b.summary), anchors_b)  # fmt: skip


def shared(a: folds.Row, b: folds.Row) -> str:
    _, x = across.anchors(a.title, a.summary, a.lang)
    _, y = across.anchors(b.title, b.summary, b.lang)
    return f"shared {sorted(x & y)}; only a {sorted(x - y)}; only b {sorted(y - x)}"


if __name__ == "__main__":
    raise SystemExit(main())
