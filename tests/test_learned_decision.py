"""corpus/learned.py, the measuring code of the learned decisions (rules/README.md, "Learned
decisions"): what each candidate learns from training cases, and that it judges by it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "corpus"))
import learned  # noqa: E402


def scored(
    p: float, label: bool, rules: tuple[str, ...] = (), summary: bool = True
) -> learned.Scored:
    return learned.Scored(learned.Case(rules, bool(rules), summary, label), p, p)


def test_a_rule_often_wrong_in_training_learns_a_higher_veto_than_the_others() -> None:
    training = [
        *(scored(0.2, False, ("noisy",)) for _ in range(40)),
        *(scored(0.6, True, ("noisy",)) for _ in range(20)),
        *(scored(0.2, True, ("steady",)) for _ in range(60)),
        *(scored(0.01, False, ("steady",)) for _ in range(5)),
    ]
    t = learned.Thresholds.learn(training, per_rule=True)
    assert t.rule_veto["noisy"] > 0.2 >= t.rule_veto["steady"]
    assert not t.score(scored(0.2, False, ("noisy",)))
    assert t.score(scored(0.2, False, ("steady",)))
    assert t.score(scored(0.2, False, ("noisy", "steady")))  # one rule standing is enough
    assert learned.Thresholds.learn(training, per_rule=False).rule_veto == {}


def test_the_alone_thresholds_are_learned_apart_for_headlines() -> None:
    training = [
        *(scored(0.92, False) for _ in range(10)),
        *(scored(0.97, True) for _ in range(10)),
        *(scored(0.75, True, summary=False) for _ in range(10)),
        *(scored(0.5, False, summary=False) for _ in range(10)),
    ]
    t = learned.Thresholds.learn(training, per_rule=False)
    assert t.alone > 0.92 and 0.5 < t.alone_headline <= 0.75


def test_the_combiner_learns_that_a_rule_and_a_probability_together_alert() -> None:
    training = [
        *(scored(0.6, True, ("r",)) for _ in range(30)),
        *(scored(0.6, False) for _ in range(30)),
        *(scored(0.02, False, ("r",)) for _ in range(30)),
        *(scored(0.98, True) for _ in range(30)),
    ]
    c = learned.Combiner.learn(training)
    assert c.score(scored(0.6, False, ("r",))) >= 0.5 > c.score(scored(0.6, False))
    assert c.score(scored(0.02, False, ("r",))) < 0.5 <= c.score(scored(0.98, False))
