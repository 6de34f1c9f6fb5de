"""`make eval`: precision and recall of the default rule pack on the real labelled corpus.

An item is an alert when a rule of severity `low` or above fires on its title and summary
(rules of severity `info` annotate; they never wake an analyst). Figures come with 95 %
Wilson intervals, overall, per language, per file and (recall) per category; `--misses`
lists the false alarms and the misses. The rules are not fitted on these files by this
script, so no cross-validation is needed for them; a learned model measured here must be
cross-validated by source (issue 15).

    .venv/bin/python corpus/eval.py [--rules rules/] [--misses] [FILE.tsv ...]
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from monitor.match import Matcher
from monitor.model import Item, Severity
from monitor.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    [*(ROOT / "corpus" / "dev").glob("*.tsv"), *(ROOT / "corpus" / "real").glob("*.tsv")]
)


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, label: bool) -> None:
        if predicted and label:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif label:
            self.fn += 1
        else:
            self.tn += 1

    def line(self, name: str) -> str:
        p = wilson(self.tp, self.tp + self.fp)
        r = wilson(self.tp, self.tp + self.fn)
        n = self.tp + self.fp + self.fn + self.tn
        counts = f"(tp {self.tp} fp {self.fp} fn {self.fn})"
        if name.startswith("category"):  # positives only: precision means nothing here
            return f"{name:28} n={n:5}  {'':27}  R {fmt(r)}  {counts}"
        return f"{name:28} n={n:5}  P {fmt(p)}  R {fmt(r)}  {counts}"


@dataclass
class Report:
    overall: Tally = field(default_factory=Tally)
    by: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[str] = field(default_factory=list)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float, float] | None:
    """The share k/n with its 95 % Wilson score interval; None when n is 0."""
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def fmt(share: tuple[float, float, float] | None) -> str:
    return "   -              " if share is None else "{:.3f} [{:.3f}-{:.3f}]".format(*share)


def rows(path: Path) -> Iterable[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f, delimiter="\t")


def alerts(matcher: Matcher, n: int, row: dict[str, str]) -> tuple[str, ...]:
    item = Item(
        key=f"corpus-{n}", feed="corpus", title=row["title"], summary=row["summary"] or "",
        link=None, published=datetime(2025, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    return tuple(m.rule_id for m in matcher.match(item) if m.severity >= Severity.LOW)


def evaluate(matcher: Matcher, files: list[Path]) -> Report:
    report = Report()
    n = 0
    for path in files:
        for row in rows(path):
            n += 1
            fired = alerts(matcher, n, row)
            label, predicted = row["label"] == "1", bool(fired)
            for key in ("overall", f"lang {row['lang']}", f"file {path.parent.name}/{path.name}"):
                (report.overall if key == "overall" else report.by[key]).add(predicted, label)
            if label:
                report.by[f"category {row['note']}"].add(predicted, label)
            if predicted != label:
                kind = "FP" if predicted else "FN"
                report.misses.append(
                    f"{kind} [{row['lang']}] {row['title'][:100]!r} {fired} {row['note']}"
                )
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=Path, default=ROOT / "rules")
    ap.add_argument("--misses", action="store_true", help="list false alarms and misses")
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args(argv)
    files = args.files or FILES
    report = evaluate(Matcher(load_rules([args.rules])), files)
    names = ", ".join(str(f.resolve().relative_to(ROOT)) for f in files)
    print(f"rules: {args.rules}; files: {names}")
    print(report.overall.line("overall"))
    for key in sorted(report.by):
        print(report.by[key].line(key))
    if args.misses:
        print(*report.misses, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
