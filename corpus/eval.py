"""`make eval`: precision and recall on the real labelled corpus, source-grouped 5-fold CV.

Three judges are measured on every item of corpus/dev and corpus/real:
- rules: the default rule pack alone (an alert when a rule of severity low or above fires;
  info rules annotate). The rules are hand-written, so they are not refitted per fold.
- model: the relevance model alone (an alert at probability >= 0.5);
- decision: rules and model together as the daemon decides (monitor.match.decision).
The model of each fold is trained (corpus/train.py) on the other four folds
(corpus/folds.py: all items of one source in one fold) and scores only its own fold's
items, so every figure is on items the model never saw. Figures come with 95 % Wilson
intervals, overall, per language, per file and (recall) per category; `--grid` prints the
decision's precision and recall over a grid of thresholds from the same held-out
probabilities; `--misses` lists the decision's false alarms and misses. `--titles` judges
every item from its title alone (summaries removed at test time, the model trained as
usual): what a headline-only feed gives. `--shipped` judges with the shipped model file
instead of cross-validation: honest only for items it was not trained on (round 2 was
measured so once, before it was added to the training data). `--learned` adds the decisions
of corpus/learned.py, learned from the training folds by nested cross-validation (20 more
models: about five minutes more).

    .venv/bin/python corpus/eval.py [--rules rules/] [--grid] [--misses] [--titles] [--shipped]
                                    [--learned]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import folds
import learned
import train

from monitor.match.decision import Screen
from monitor.match.matcher import Matcher
from monitor.match.relevance import Decision, Relevance, load
from monitor.model import Item, Severity
from monitor.rules import load_rules

ROOT = folds.ROOT
HELD_OUT = 0  # the fold of each round kept out of the pack revisions of issue 15


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

    def add(self, row: folds.Row, predicted: bool, why: str) -> None:
        self.overall.add(predicted, row.label)
        for key in (f"lang {row.lang}", f"file {row.file}"):
            self.by[key].add(predicted, row.label)
        if row.label:
            self.by[f"category {row.note}"].add(predicted, row.label)
        if predicted != row.label:
            kind = "FP" if predicted else "FN"
            self.misses.append(f"{kind} [{row.lang}] {row.title[:100]!r} {why} {row.note}")

    def lines(self) -> list[str]:
        return [self.overall.line("overall"), *(self.by[k].line(k) for k in sorted(self.by))]


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


def item(n: int, row: folds.Row) -> Item:
    return Item(
        key=f"corpus-{n}", feed="corpus", title=row.title, summary=row.summary,
        link=None, published=datetime(2025, 1, 1, tzinfo=UTC),
    )  # fmt: skip


@dataclass(frozen=True)
class Seen:
    """One held-out item: did a rule fire, the model's probability, the decision."""

    rule: bool
    probability: float
    decision: bool
    why: str
    case: learned.Case  # what a learned decision sees of it (corpus/learned.py)
    title_probability: float  # the model's for the title alone
    words: learned.Fields  # its folded title and summary
    learned: dict[str, float] = field(default_factory=dict)  # --learned: each one's score


def cross_validate(
    rows: Sequence[folds.Row], matcher: Matcher, k: int = folds.K, titles: bool = False
) -> list[Seen]:
    fold_of = folds.folds(list(rows), k)
    seen: list[Seen | None] = [None] * len(rows)
    for fold in range(k):
        model = Relevance(train.train([r for r, f in zip(rows, fold_of, strict=True) if f != fold]))
        screen = Screen(matcher, model)
        for n, (row, f) in enumerate(zip(rows, fold_of, strict=True)):
            if f == fold:
                seen[n] = _judge(screen, n, replace(row, summary="") if titles else row)
        print(f"fold {fold}: trained on {sum(f != fold for f in fold_of)} items", file=sys.stderr)
    return [s for s in seen if s is not None]


def shipped(rows: Sequence[folds.Row], matcher: Matcher, titles: bool = False) -> list[Seen]:
    """Every item judged by the rules and the shipped model file (no refitting)."""
    screen = Screen(matcher, load())
    return [_judge(screen, n, replace(r, summary="") if titles else r) for n, r in enumerate(rows)]


def _judge(screen: Screen, n: int, row: folds.Row) -> Seen:
    it = item(n, row)
    texts = screen.texts(it)
    got = screen.assess(it, texts)
    decided = [m.rule_id for m in got.matches if m.severity >= Severity.LOW]
    # A rule fired when one stands or the model overruled it; the model's own match is not one.
    fired = [
        *got.vetoed,
        *(m for m in got.matches if m.severity >= Severity.LOW and m is not got.alone),
    ]
    p = got.probability or 0.0
    words = (texts["title"].words, texts["summary"].words)
    case = learned.Case(
        tuple(sorted({m.rule_id for m in fired})),
        any(h.field == "title" for m in fired for h in m.hits),
        bool(words[1]),
        row.label,
    )
    title_p = screen.model.probability([words[0], ()]) if screen.model else 0.0
    why = f"{decided or [m.rule_id for m in got.vetoed]} p={p:.2f}"
    return Seen(bool(fired), p, bool(decided), why, case, title_p, words)


def report(
    rows: Sequence[folds.Row], seen: Sequence[Seen], judge: Callable[[Seen], bool]
) -> Report:
    out = Report()
    for row, s in zip(rows, seen, strict=True):
        out.add(row, judge(s), s.why)
    return out


def grid(rows: Sequence[folds.Row], seen: Sequence[Seen]) -> list[str]:
    """Precision and recall of the decision rule at other thresholds (same held-out scores)."""
    lines = []
    for veto in (0.0, 0.02, 0.05, 0.1, 0.2):
        cells = []
        for alone in (0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.01):
            t = Tally()
            for row, s in zip(rows, seen, strict=True):
                t.add((s.rule and s.probability >= veto) or s.probability >= alone, row.label)
            cells.append(f"{t.tp / max(1, t.tp + t.fp):.3f}/{t.tp / max(1, t.tp + t.fn):.3f}")
        lines.append(f"veto {veto:<4}  " + "  ".join(cells))
    return ["decision P/R by veto (rows) and alone (columns 0.6 0.7 0.8 0.85 0.9 0.95 off)", *lines]


def cuts(rows: Sequence[folds.Row], seen: Sequence[Seen], fold_of: Sequence[int]) -> list[str]:
    """The learned combiner's precision and recall cut at other probabilities (same scores)."""
    lines = ["learned combiner P/R by cut (all folds; fold 0 of every round)"]
    for cut in learned.CUTS:
        every, held = Tally(), Tally()
        for row, s, f in zip(rows, seen, fold_of, strict=True):
            every.add(s.learned["combiner"] >= cut, row.label)
            if f == HELD_OUT:
                held.add(s.learned["combiner"] >= cut, row.label)
        cells = [
            f"{t.tp / max(1, t.tp + t.fp):.3f}/{t.tp / max(1, t.tp + t.fn):.3f}"
            for t in (every, held)
        ]
        lines.append(f"cut {cut:<4}  " + "  ".join(cells))
    return lines


def _section(
    pairs: Sequence[tuple[folds.Row, Seen]], judges: dict[str, Callable[[Seen], bool]]
) -> None:
    for name, judge in judges.items():
        got = report([r for r, _ in pairs], [s for _, s in pairs], judge)
        print(f"{name}:", *(line for line in got.lines() if not line.startswith(("file", "cat"))),
              sep="\n  ")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=Path, default=ROOT / "rules")
    ap.add_argument("--grid", action="store_true", help="decision figures at other thresholds")
    ap.add_argument("--misses", action="store_true", help="list the decision's errors")
    ap.add_argument("--titles", action="store_true", help="judge items from their titles alone")
    ap.add_argument("--shipped", action="store_true", help="the shipped model, not CV")
    ap.add_argument("--learned", action="store_true", help="and decisions learned by nested CV")
    ap.add_argument("--only", metavar="DIR", help="report only the items of corpus/DIR (real5)")
    args = ap.parse_args(argv)
    rows = folds.read()
    matcher = Matcher(load_rules([args.rules]))
    if args.shipped:
        seen = shipped(rows, matcher, args.titles)
    else:
        seen = cross_validate(rows, matcher, titles=args.titles)
    d = Decision(train.VETO, train.ALONE, train.ALONE_HEADLINE)
    how = "the shipped model" if args.shipped else f"{folds.K} source-grouped folds"
    only = "; titles alone" if args.titles else ""
    print(f"rules: {args.rules}; corpus: {len(rows)} items, {how}{only}")
    judges = {
        "rules alone": lambda s: s.rule,
        "model alone (probability >= 0.5)": lambda s: s.probability >= 0.5,
        f"decision (veto {d.veto}, alone {d.alone}, headlines {d.alone_headline})": (
            lambda s: s.decision
        ),
    }
    if args.learned and not args.shipped:
        outer = [learned.Scored(s.case, s.probability, s.title_probability) for s in seen]
        got = learned.nested(rows, outer, [s.words for s in seen])
        seen = [replace(s, learned={k: v[n] for k, v in got.items()}) for n, s in enumerate(seen)]
        for name in got:
            judges[f"learned {name} (nested CV)"] = lambda s, name=name: s.learned[name] >= 0.5
    # The pack was revised reading folds 1-4 only (rules/README.md): on fold 0 the rules,
    # too, are measured on items nobody tuned them on.
    fold_of = folds.folds(rows)
    if args.only:  # scored with every item (CV trains on all), reported for one round only
        keep = [n for n, r in enumerate(rows) if r.file.split("/")[0] == args.only]
        rows, seen = [rows[n] for n in keep], [seen[n] for n in keep]
        fold_of = [fold_of[n] for n in keep]
        print(f"reported: the {len(rows)} items of corpus/{args.only}")
    for name, judge in judges.items():
        print(f"\n== {name}")
        print(*report(rows, seen, judge).lines(), sep="\n")
    # Fold 0 of each round was held out of every revision of the pack (rules/README.md).
    for round_ in sorted({r.round for r in rows}):
        held = [(r, s) for r, s, f in zip(rows, seen, fold_of, strict=True)
                if f == HELD_OUT and r.round == round_]  # fmt: skip
        print(
            f"\n== round {round_}, fold {HELD_OUT} alone: {len(held)} items no rule was revised on"
        )
        _section(held, judges)
    both = [(r, s) for r, s, f in zip(rows, seen, fold_of, strict=True) if f == HELD_OUT]
    print(f"\n== fold {HELD_OUT} of every round: {len(both)} items no rule was revised on")
    _section(both, judges)
    if args.grid:
        print("", *grid(rows, seen), sep="\n")
    if args.learned and not args.shipped:
        print("", *cuts(rows, seen, fold_of), sep="\n")
    if args.misses:
        print("", *report(rows, seen, judges[list(judges)[2]]).misses, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
