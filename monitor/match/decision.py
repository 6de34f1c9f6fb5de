"""Rules and the relevance model decide together: which matches make an item an alert.

The decision (documented in rules/README.md, thresholds in the model file or [model]):
1. A rule of severity low or above that fires stands unless the model objects strongly:
   its probability for the item is below `veto`. Vetoed matches are kept aside, shown by
   `test-rules`, never alerted. Rules of severity info annotate and are never vetoed.
2. With no such rule standing, the model alone alerts when its probability reaches
   `alone` (`alone_headline` for an item with no summary; 1 switches this off; veto 0
   never overrules a rule). The match is routed as
   the theme the item reads most like among the themes of the loaded rules: `rule` is
   that theme, severity the lowest alerting severity of its rules, channels and tags
   theirs; `terms` are the item's words and word pairs that weighed most for relevance,
   each with its share of that evidence as `score`.
Every match carries the item's probability, so analysts see whether the model agreed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from monitor.match.fold import Texts
from monitor.match.matcher import Matcher
from monitor.match.relevance import Decision, Evidence, Relevance, load
from monitor.model import Item, Match, Severity, TermHit
from monitor.rules.model import Rule, RuleSet

TERMS_SHOWN = 5


@dataclass(frozen=True)
class Assessment:
    """What rules and model made of one item."""

    matches: tuple[Match, ...]  # what the item alerts with (empty: no alert)
    probability: float | None  # the model's; None when the model is off
    vetoed: tuple[Match, ...] = ()  # rule matches the model objected to
    alone: Match | None = None  # the match the model decided alone (also in `matches`)


class Screen:
    """A Matcher with the relevance model beside it; `match` and `countries` as the Matcher's."""

    def __init__(
        self, matcher: Matcher, model: Relevance | None, decision: Decision | None = None
    ) -> None:
        self.matcher = matcher
        self.rules = matcher.rules
        self.model = model
        self.decision = decision or (model.decision if model else Decision(0.0, 2.0))
        self._themes: dict[str, list[Rule]] = defaultdict(list)
        for rule in matcher.rules:
            if rule.theme and rule.severity >= Severity.LOW:
                self._themes[rule.theme].append(rule)

    def texts(self, item: Item) -> Texts:
        return self.matcher.texts(item)

    def countries(self, item: Item, texts: Texts | None = None) -> tuple[str, ...]:
        return self.matcher.countries(item, texts)

    def match(self, item: Item, texts: Texts | None = None) -> tuple[Match, ...]:
        return self.assess(item, texts).matches

    def assess(self, item: Item, texts: Texts | None = None) -> Assessment:
        """The decision on `item` (its `texts` when already folded, as by `countries`)."""
        texts = texts or self.matcher.texts(item)
        if self.model is None:
            return Assessment(self.matcher.match_texts(item, texts), None)
        fields = [texts["title"].words, texts["summary"].words]
        p = self.model.probability(fields)
        matches = self.matcher.match_texts(item, texts, round(p, 4))
        alerting = [m for m in matches if m.severity >= Severity.LOW]
        if alerting and p < self.decision.veto:
            kept = tuple(m for m in matches if m.severity < Severity.LOW)
            return Assessment(kept, p, tuple(alerting))
        alone = self.decision.alone_for(not texts["summary"].words)
        if not alerting and p >= alone and alone < 1:
            decided = self._alone(texts, fields, p, alone)
            if decided is not None:
                return Assessment((*matches, decided), p, alone=decided)
        return Assessment(matches, p)

    def _alone(
        self, texts: Texts, fields: list[tuple[str, ...]], p: float, threshold: float
    ) -> Match | None:
        assert self.model is not None
        theme = next((t for t, _ in self.model.themes(fields) if t in self._themes), None)
        if theme is None:
            return None  # the loaded rules have none of the model's themes: nowhere to route
        rules = self._themes[theme]
        evidence = self.model.evidence({f: texts[f].words for f in ("title", "summary")})
        return Match(
            rule_id=theme,
            title=f"Relevance model: reads as {theme}",
            severity=min(r.severity for r in rules),
            description=(
                f"No rule fired; the relevance model gives this item probability {p:.2f} "
                f"(alerts alone from {threshold:.2f}) and it reads most like {theme}."
            ),
            score=round(100 * p, 1),
            hits=_terms(texts, evidence),
            theme=theme,
            channels=()
            if any(not r.channels for r in rules)
            else _union(r.channels for r in rules),
            route_tags=_union(r.route_tags for r in rules),
            cooldown=min(r.cooldown for r in rules),
            probability=round(p, 4),
        )


def screen(
    rules: RuleSet,
    model: bool = True,
    path: Path | None = None,
    veto: float | None = None,
    alone: float | None = None,
    alone_headline: float | None = None,
) -> Screen:
    """The rules compiled with the relevance model (the shipped one unless `path`) beside
    them, its thresholds overridden by `veto` / `alone` / `alone_headline` when given;
    `model=False`: rules alone."""
    if not model:
        return Screen(Matcher(rules), None)
    relevance = load(path)
    d = relevance.decision
    decision = Decision(
        d.veto if veto is None else veto,
        d.alone if alone is None else alone,
        d.alone_headline if alone_headline is None else alone_headline,
    )
    return Screen(Matcher(rules), relevance, decision)


def _union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(sorted({x for g in groups for x in g}))


def _terms(texts: Texts, evidence: list[Evidence]) -> tuple[TermHit, ...]:
    """The strongest positive evidence, words not shown twice, each with its share."""
    # Sorted as tuples, in C: by weight, field and first word, as the evidence's order breaks
    # the only tie (a word before the pair it begins: `last` is one more for the pair).
    ranked = sorted([(-w, field, a, b, w) for field, a, b, w in evidence if w > 0])
    total = sum(r[4] for r in ranked) or 1.0
    used: set[tuple[str, int]] = set()
    hits: list[TermHit] = []
    for _, field, first, last, weight in ranked:
        if (field, first) in used or (field, last) in used:  # a word, or a pair: two words
            continue
        used.update(((field, first), (field, last)))
        text = texts[field]
        term = " ".join(text.words[first : last + 1])
        share = round(100 * weight / total, 1)
        shown, snippet = text.original(first, last), text.snippet(first, last)
        hits.append(TermHit(term, shown, field, share, snippet, "model"))
        if len(hits) == TERMS_SHOWN:
            break
    return tuple(hits)
