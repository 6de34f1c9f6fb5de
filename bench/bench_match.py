"""Benchmark of the watchlist matcher: compiled `monitor.match.Matcher` against a naive matcher.

Both run in this one process over the same synthetic items (deterministic
from --seed; a mix of atrocity-like and ordinary headlines, some misspelt,
some French or Spanish) with the same rules: the pack in ./rules, or the
test fixtures when the pack is empty. The naive matcher is what the issue
forbids: rapidfuzz `fuzz.partial_ratio` of every term of every rule against
every item's folded text. Matching only; no feed parsing.

    .venv/bin/python bench/bench_match.py [--items 5000] [--seed 7] [--rules PATH] [--no-naive]

`--no-naive` stops after the compiled matcher and rules + model (the naive matcher alone
takes minutes at 5,000 items; leave it out for interleaved A/B runs).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rapidfuzz import fuzz

from monitor.errors import ConfigError
from monitor.match import Matcher
from monitor.match.decision import screen
from monitor.match.fold import fold
from monitor.model import Item, Severity
from monitor.rules import Rule, RuleSet, Term, load_rules

ROOT = Path(__file__).resolve().parent.parent
FALLBACK = ROOT / "tests" / "data" / "rules_fixtures" / "good"
PLACES = ["Darfur", "El Fasher", "Tigray", "Rakhine", "Gaza", "Goma", "Ituri", "Kherson",
          "Borno", "Cabo Delgado", "Idlib", "Khartoum", "Bamako", "Port-au-Prince", "Mekelle",
          "Geneva", "Brussels", "Nairobi", "Manila", "Lima", "Oslo", "Toronto"]  # fmt: skip
ACTORS = ["militia", "army", "rebels", "RSF", "security forces", "armed men", "soldiers",
          "paramilitaries", "gunmen", "police"]  # fmt: skip
VICTIMS = ["civilians", "villagers", "displaced families", "Rohingya refugees", "children",
           "aid workers", "Masalit men", "students", "worshippers"]  # fmt: skip
ATROCITY = [
    "{actor} killed {n} {victim} in {place}",
    "UN experts warn of genocide risk in {place} as {actor} advance",
    "ICC issues arrest warrant over crimes against humanity in {place}",
    "Mass grave found near {place}; {n} bodies exhumed",
    "Villages burned and thousands displaced after {actor} attack in {place}",
    "Ethnic cleansing feared as {victim} flee {place}",
    "Hospital shelled in {place}, {n} {victim} dead",
    "Reports of rape used as a weapon of war by {actor} in {place}",
    "Génocide : l'ONU alerte sur la situation à {place}",
    "Masacre de {n} {victim} en {place}, denuncia la ONU",
    "Ethnicaly cleansed: {victim} describe massacres in {place}",
    "{actor} accused of summary executions of {victim} in {place}",
]
ORDINARY = [
    "{place} hosts regional trade fair with {n} exhibitors",
    "Football: {place} United thrash rivals in cup massacre",
    "Film review: a genocide drama set in {place} falls flat",
    "Central bank in {place} holds interest rates steady",
    "Climate talks in {place} end with pledge on emissions",
    "Researchers map the genome of a rare {place} orchid",
    "Execution of the contract for the {place} bridge delayed",
    "{n}th anniversary of the genocide commemorated in {place}",
    "UN Security Council elects new members; {place} welcomes vote",
    "Skilled workers in {place} demand higher wages",
    "Tech firm in {place} opens office, hiring {n} staff",
    "Marathon in {place} draws {n} runners despite rain",
]
SUMMARIES = [
    "Witnesses described the events to reporters on {weekday}.",
    "Officials in {place} said the figures could rise.",
    "The statement was released in {place} late on {weekday}.",
    "Local media reported the news; no further details were given.",
    "Les autorités de {place} n'ont pas commenté.",
    "Las autoridades de {place} no respondieron.",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def synthetic_items(count: int, seed: int) -> list[Item]:
    """`count` items, the same for the same seed; about 40% atrocity-like."""
    rnd = random.Random(seed)
    published = datetime(2024, 1, 1, tzinfo=UTC)
    items = []
    for i in range(count):
        template = rnd.choice(ATROCITY if rnd.random() < 0.4 else ORDINARY)
        fill = {
            "actor": rnd.choice(ACTORS),
            "victim": rnd.choice(VICTIMS),
            "place": rnd.choice(PLACES),
            "n": rnd.randint(2, 900),
            "weekday": rnd.choice(WEEKDAYS),
        }
        title = template.format(**fill)
        summary = " ".join(rnd.choice(SUMMARIES).format(**fill) for _ in range(rnd.randint(1, 3)))
        items.append(Item(f"k{i}", "bench", title, summary, None, published))
    return items


class NaiveMatcher:
    """Every term of every rule scored with partial_ratio against the whole folded text."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def match(self, item: Item) -> list[str]:
        text = fold(f"{item.title} {item.summary}")
        return [rule.id for rule in self.rules if self._fires(rule, text)]

    def _fires(self, rule: Rule, text: str) -> bool:
        def hit(term: Term) -> bool:
            return fuzz.partial_ratio(" ".join(term.words), text) >= term.min_score

        if any(hit(t) for t in rule.none):
            return False
        if rule.any and not any(hit(t) for t in rule.any):
            return False
        if not all(any(hit(t) for t in group) for group in rule.all):
            return False
        if not all(
            any(any(map(hit, p.a)) and any(map(hit, p.b)) for p in n.pairs) for n in rule.near
        ):
            return False
        return sum(t.weight for t in rule.weights if hit(t)) >= rule.threshold


def rate(match: Callable[[Item], object], items: Sequence[Item]) -> tuple[float, int]:
    """Items per CPU second of this process (other load on the machine counts less), and
    the number of items with at least one match."""
    start = time.process_time()
    matched = sum(1 for item in items if match(item))
    return len(items) / (time.process_time() - start), matched


def _steady(match: Callable[[Item], object], items: Sequence[Item], passes: int = 5) -> float:
    """The median rate of `passes` more passes: a running daemon's state, once its caches
    have stopped growing (the first passes also pay the garbage collector for their growth)."""
    return sorted(rate(match, items)[0] for _ in range(passes))[passes // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument(
        "--skip-invalid", action="store_true", help="leave out rule files that fail to load"
    )
    parser.add_argument("--no-naive", action="store_true", help="no naive matcher, no recall")
    args = parser.parse_args()
    rules, source = _rules(args.rules, args.skip_invalid), args.rules
    if not len(rules):
        rules, source = load_rules([FALLBACK]), FALLBACK
    items = synthetic_items(args.items, args.seed)
    terms = sum(1 for r in rules for _ in _all_terms(r))
    print(f"rules: {len(rules)} ({terms} terms) from {source}; items: {len(items)}")
    start = time.perf_counter()
    matcher = Matcher(rules)
    print(f"compile: {(time.perf_counter() - start) * 1000:.1f} ms")
    cold, _ = rate(matcher.match, items)
    warm, hits = rate(matcher.match, items)
    steady = _steady(matcher.match, items)
    print(f"compiled matcher: {cold:,.0f} items/s cold cache, {warm:,.0f} warm, {steady:,.0f} "
          f"steady; {hits} matched")  # fmt: skip
    start = time.perf_counter()
    both = screen(rules)  # what the daemon runs: rules and the relevance model beside them
    print(f"model load: {(time.perf_counter() - start) * 1000:.1f} ms")
    cold, _ = rate(both.match, items)
    warm, hits = rate(both.match, items)
    steady = _steady(both.match, items)
    print(f"rules + model:    {cold:,.0f} items/s cold cache, {warm:,.0f} warm, {steady:,.0f} "
          f"steady; {hits} alerted")  # fmt: skip
    if args.no_naive:
        return
    naive, naive_hits = rate(NaiveMatcher(rules).match, items)
    print(f"naive matcher:    {naive:,.0f} items/s; {naive_hits} matched")
    print(f"ratio (cold compiled / naive): {cold / naive:.1f}x")
    _recall(rules, matcher)


def _recall(rules: RuleSet, matcher: Matcher) -> None:
    """Recall of both matchers on the labelled positives of the evaluation set: the issue
    asks that the compiled one (tokens, stems, fuzzy words) loses none against partial_ratio."""
    path = ROOT / "tests" / "data" / "eval.tsv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["label"] == "1"]
    when = datetime(2024, 1, 1, tzinfo=UTC)
    positives = [
        Item(f"e{i}", "eval", r["title"], r["summary"], None, when) for i, r in enumerate(rows)
    ]
    alerting = {r.id for r in rules if r.severity >= Severity.LOW}
    naive = NaiveMatcher(rules)
    compiled = sum(1 for it in positives if {m.rule_id for m in matcher.match(it)} & alerting)
    plain = sum(1 for it in positives if set(naive.match(it)) & alerting)
    print(
        f"recall on {path.name} ({len(positives)} positives): compiled "
        f"{compiled / len(positives):.3f}, naive {plain / len(positives):.3f}"
    )


def _rules(path: Path, skip_invalid: bool) -> RuleSet:
    if not path.exists():
        return RuleSet()
    if not skip_invalid:
        try:
            return load_rules([path])
        except ConfigError as exc:
            sys.exit(f"invalid rules (or use --skip-invalid):\n{exc}")
    files = sorted(path.rglob("*.toml")) if path.is_dir() else [path]
    loaded: list[Rule] = []
    for file in files:
        try:
            loaded.extend(load_rules([file]))
        except ConfigError as exc:
            print(f"skipped {file}: {len(exc.problems)} problem(s)", file=sys.stderr)
    return RuleSet(tuple(loaded))


def _all_terms(rule: Rule) -> list[Term]:
    near = [t for n in rule.near for p in n.pairs for t in (*p.a, *p.b)]
    return [*rule.any, *(t for g in rule.all for t in g), *rule.none, *rule.weights, *near]


if __name__ == "__main__":
    main()
