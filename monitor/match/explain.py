"""Explanations: the TermHits of a rule that fired, with text as published and a snippet."""

from __future__ import annotations

from monitor.match.fold import Words, snippet
from monitor.match.scan import Occurrence
from monitor.model import Match, TermHit
from monitor.rules.model import Rule, Term

Pick = tuple[Term, Occurrence, str]  # a matched term, where, and in which group


class Explainer:
    """One item's texts, turning picks into TermHits; each snippet is cut once per item."""

    def __init__(self, texts: dict[str, Words]) -> None:
        self.texts = texts
        self._shown: dict[tuple[str, int, int], tuple[str, str]] = {}

    def match(self, rule: Rule, picks: list[Pick], probability: float | None = None) -> Match:
        return make_match(rule, tuple([self.hit(t, o, g) for t, o, g in picks]), probability)

    def hit(self, term: Term, occ: Occurrence, group: str) -> TermHit:
        where = occ[:3]  # field, first, last
        shown = self._shown.get(where)
        if shown is None:  # as text.original and text.snippet, the spans read once
            text = self.texts[occ.field]
            spans = text.spans
            start, end = spans[occ.first][0], spans[occ.last][1]
            shown = text.text[start:end], snippet(text.text, start, end)
            self._shown[where] = shown
        return TermHit(term.text, shown[0], occ.field, round(occ.score, 1), shown[1], group)


def make_match(rule: Rule, hits: tuple[TermHit, ...], probability: float | None = None) -> Match:
    """The Match of `rule`, scored by the mean of its hits' scores."""
    score = sum(h.score for h in hits) / len(hits) if hits else 0.0
    # Positional, in the fields' order (rule_id, title, severity, description, score, hits,
    # theme, channels, route_tags, cooldown, probability): a quarter cheaper than keywords.
    r = rule
    return Match(r.id, r.title, r.severity, r.description, round(score, 1), hits,
                 r.theme, r.channels, r.route_tags, r.cooldown, probability)  # fmt: skip
