"""Whether one compiled rule fires on the terms a scan found, and with which hits."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.match.explain import Pick
from monitor.match.scan import Found, Occurrence
from monitor.rules.model import Rule, Term

Group = dict[int, Term]  # a rule's terms by compiled id (ids are cheaper keys than Terms)
Pair = tuple[str, Group, Group, int]  # a near pair: its hits' group name, a, b, within


@dataclass(frozen=True)
class RuleRefs:
    """A rule with its term groups keyed by compiled term id."""

    rule: Rule
    groups: tuple[tuple[str, Group], ...]  # ("any", ...), ("all[0]", ...): each needs a hit
    none: frozenset[int]
    weights: Group
    near: tuple[tuple[Pair, ...], ...]  # each clause holds when one of its pairs does
    required: tuple[frozenset[int], ...]  # each needs a hit for the rule to have a chance
    also: tuple[frozenset[int], ...]  # required[1:]: a candidate rule has a hit in required[0]
    fields: frozenset[str] | None  # None when the rule reads every field (no filtering)


def decide(refs: RuleRefs, found: Found) -> list[Pick] | None:
    """The hits that make the rule fire, in explanation order, or None (scope aside)."""
    fields = refs.fields
    picks: list[Pick] = []
    for name, group in refs.groups:
        got = _matched(found, group, name, fields)
        if not got:
            return None
        picks += got
    for clause in refs.near:
        pair = _clause(found, clause, fields)
        if pair is None:
            return None
        picks += pair
    if refs.weights:
        weighed = _matched(found, refs.weights, "weights", fields)
        if sum(t.weight for t, _, _ in weighed) < refs.rule.threshold:
            return None
        picks += weighed
    if _vetoed(refs, found, picks):
        return None
    if len(picks) > 1:
        picks.sort(key=lambda p: (p[2] != "any", p[2], p[1].field != "title", p[1].first))
    return picks


def _matched(
    found: Found, group: Group, name: str, fields: frozenset[str] | None, every: bool = False
) -> list[Pick]:
    """The group's terms found in the rule's fields: first occurrence of each, or `every`."""
    # Walk the few terms found in the item, not the many terms of the group.
    picks: list[Pick] = []
    for tid in found.keys() & group.keys():
        occs = found[tid]
        if fields is not None:
            occs = [o for o in occs if o.field in fields]
        if every:
            picks += ((group[tid], o, name) for o in occs)
        elif occs:
            picks.append((group[tid], occs[0], name))
    return picks


def hopeless(required: tuple[frozenset[int], ...], found: Found) -> bool:
    """True when a group that needs a hit has none at all: no need to look closer."""
    return any(group.isdisjoint(found) for group in required)


def sides(clause: tuple[Pair, ...]) -> tuple[Group, Group]:
    """Every a term and every b term of a near clause's pairs."""
    a: Group = {}
    b: Group = {}
    for _, pair_a, pair_b, _ in clause:
        a.update(pair_a)
        b.update(pair_b)
    return a, b


def pair_name(clause: int, pair: int, alternatives: bool) -> str:
    """The group of a near pair's hits: "near", or the pair that held: "near[0].any[1]"."""
    return f"near[{clause}].any[{pair}]" if alternatives else "near"


def _clause(
    found: Found, clause: tuple[Pair, ...], fields: frozenset[str] | None
) -> list[Pick] | None:
    """The hits of the first pair of the clause that holds, or None."""
    for name, a, b, within in clause:
        picks_a = _matched(found, a, name, fields, True)
        pair = _near(picks_a, _matched(found, b, name, fields, True), within) if picks_a else None
        if pair is not None:
            return pair
    return None


def _near(a: list[Pick], b: list[Pick], within: int) -> list[Pick] | None:
    """The first (a, b) pair of occurrences in one field at most `within` words apart."""
    for pick_a in a:
        for pick_b in b:
            if _close(pick_a[1], pick_b[1], within):
                return [pick_a, pick_b]
    return None


def _vetoed(refs: RuleRefs, found: Found, picks: list[Pick]) -> bool:
    """A guard found in the rule's fields (with none_within: near a hit that fired)."""
    within = refs.rule.none_within
    for tid in refs.none.intersection(found):  # walks the few found, not the many guards
        occs = [o for o in found[tid] if refs.fields is None or o.field in refs.fields]
        if occs and (not within or any(_close(o, p[1], within) for o in occs for p in picks)):
            return True
    return False


def _close(a: Occurrence, b: Occurrence, within: int) -> bool:
    """Same field, at most `within` words apart (adjacent words are 1 apart)."""
    return a.field == b.field and max(b.first - a.last, a.first - b.last) <= within
