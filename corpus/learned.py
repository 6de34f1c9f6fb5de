"""`make eval` with `--learned`: decisions learned from data, measured by nested cross-validation.

Today's decision (monitor.match.decision) has three hand-set thresholds. The candidates here
learn more from the corpus; each is measured without leakage:
- the outer loop is `make eval`'s: the model of fold k is trained on the other four folds and
  scores fold k;
- what a candidate learns on outer fold k it learns only from the four training folds, from
  probabilities given to items the model did not see: inside them, an inner model is trained
  on three and scores the fourth (4 inner models per outer fold, 20 in all);
- the learned parameters then judge fold k with the outer model's probabilities.

Candidates (each alerts on the same inputs the daemon has: which rules of severity low or
above fired, the model's probability, whether the item has a summary):
- thresholds: today's rule with its three thresholds (`veto`, `alone`, `alone_headline`)
  learned per outer fold instead of set by hand;
- per-rule veto: the same, and each rule with at least MIN_RULE training matches gets its own
  veto (a rule whose matches were often false alarms needs a higher probability to stand);
- combiner: a logistic regression over the model's logit, whether a rule fired, which rules
  fired, how many, whether one fired in the title, whether the item has a summary (and, for
  an item with one, the logit of its title alone), alerting from 0.5 (`make eval --learned`
  also shows it cut elsewhere, CUTS, beside the --grid of today's thresholds).
A threshold is chosen to maximise hits minus false alarms on the training items it governs.
The figures are in rules/README.md ("Learned decisions").
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import folds
import train

from monitor.match.relevance import Linear

VETOES = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
ALONES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 1.01)  # 1.01: never alone
MIN_RULE = 50  # training matches a rule needs for a veto of its own
C_COMBINER = 0.3
Fields = tuple[tuple[str, ...], tuple[str, ...]]  # an item's folded title and summary
CANDIDATES = ("thresholds", "per-rule veto", "combiner")
CUTS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)


@dataclass(frozen=True)
class Case:
    """What a learned decision sees of one item."""

    rules: tuple[str, ...]  # alerting rules that fired (vetoed or not)
    title_rule: bool  # one of them fired on a title term
    summary: bool
    label: bool


@dataclass(frozen=True)
class Scored:
    case: Case
    p: float  # the whole item's probability
    title_p: float  # the title's alone


def nested(
    rows: Sequence[folds.Row], outer: Sequence[Scored], words: Sequence[Fields]
) -> dict[str, list[float]]:
    """Each candidate's score of every item, an alert from 0.5 (`outer`: the item as `make eval`
    scored it; `words`: its folded title and summary), learned without seeing its fold."""
    fold_of = folds.folds(list(rows))
    out: dict[str, list[float]] = {name: [0.0] * len(rows) for name in CANDIDATES}
    for k in sorted(set(fold_of)):
        learning: list[Scored] = []
        for inner in sorted(set(fold_of) - {k}):
            fit = [r for r, f in zip(rows, fold_of, strict=True) if f not in (k, inner)]
            rel = train.fit_relevance(fit)
            model = Linear(rel["bias"], rel["weights"])
            for n, f in enumerate(fold_of):
                if f == inner:
                    learning.append(scored(model, outer[n].case, words[n]))
            print(f"fold {k}, inner fold {inner}: trained on {len(fit)} items", file=sys.stderr)
        judges: dict[str, Thresholds | Combiner] = {
            "thresholds": Thresholds.learn(learning, per_rule=False),
            "per-rule veto": Thresholds.learn(learning, per_rule=True),
            "combiner": Combiner.learn(learning),
        }
        for name, judge in judges.items():
            print(f"fold {k} {name}: {judge}", file=sys.stderr)
            for n, f in enumerate(fold_of):
                if f == k:
                    out[name][n] = judge.score(outer[n])
    return out


def scored(model: Linear, case: Case, words: Fields) -> Scored:
    title, summary = words
    return Scored(case, model.probability([title, summary]), model.probability([title, ()]))


def _best(items: Sequence[tuple[float, bool]], grid: Sequence[float]) -> float:
    """The threshold of `grid` that maximises hits minus false alarms among `items` at or
    above it (ties: the lowest)."""
    best, at = -math.inf, grid[0]
    for t in grid:
        gain = sum(1 if label else -1 for p, label in items if p >= t)
        if gain > best:
            best, at = gain, t
    return at


@dataclass(frozen=True)
class Thresholds:
    veto: float
    alone: float
    alone_headline: float
    rule_veto: dict[str, float]

    @classmethod
    def learn(cls, cases: Sequence[Scored], per_rule: bool) -> Thresholds:
        ruled = [(s.p, s.case.label) for s in cases if s.case.rules]
        whole = [(s.p, s.case.label) for s in cases if not s.case.rules and s.case.summary]
        bare = [(s.p, s.case.label) for s in cases if not s.case.rules and not s.case.summary]
        by_rule: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        for s in cases:
            for r in s.case.rules:
                by_rule[r].append((s.p, s.case.label))
        own = {r: _best(m, VETOES) for r, m in sorted(by_rule.items()) if len(m) >= MIN_RULE}
        return cls(_best(ruled, VETOES), _best(whole, ALONES), _best(bare, ALONES),
                   own if per_rule else {})  # fmt: skip

    def score(self, s: Scored) -> float:
        if s.case.rules:
            return float(any(s.p >= self.rule_veto.get(r, self.veto) for r in s.case.rules))
        return float(s.p >= (self.alone if s.case.summary else self.alone_headline))

    def __str__(self) -> str:
        own = {r: v for r, v in self.rule_veto.items() if v != self.veto}
        return f"veto {self.veto} alone {self.alone} headlines {self.alone_headline} rules {own}"


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Combiner:
    names: tuple[str, ...]
    bias: float
    weights: tuple[float, ...]

    @staticmethod
    def features(s: Scored, rules: Sequence[str]) -> list[float]:
        c = s.case
        fired, whole = float(bool(c.rules)), float(c.summary)
        return [_logit(s.p), fired, whole, whole * (1 - fired), max(0, len(c.rules) - 1),
                float(c.title_rule), whole * _logit(s.title_p),
                *(float(r in c.rules) for r in rules)]  # fmt: skip

    @classmethod
    def learn(cls, cases: Sequence[Scored]) -> Combiner:
        from sklearn.linear_model import LogisticRegression

        rules = sorted({r for s in cases for r in s.case.rules})
        x = [cls.features(s, rules) for s in cases]
        model = LogisticRegression(C=C_COMBINER, solver="lbfgs", max_iter=5000)
        model.fit(x, [s.case.label for s in cases])
        names = ("logit", "rule", "summary", "alone-with-summary", "more-rules", "title-rule",
                 "title-logit", *rules)  # fmt: skip
        return cls(names, float(model.intercept_[0]), tuple(float(w) for w in model.coef_[0]))

    def score(self, s: Scored) -> float:
        """The combined probability that the item deserves an alert."""
        x = self.features(s, self.names[7:])
        return 1 / (
            1 + math.exp(-(self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))))
        )

    def __str__(self) -> str:
        top = sorted(zip(self.names, self.weights, strict=True), key=lambda nw: -abs(nw[1]))[:8]
        return f"bias {self.bias:.2f} " + " ".join(f"{n} {w:+.2f}" for n, w in top)
