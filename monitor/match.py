"""Item x RuleSet -> Matches: rules compiled once, one pass over each text, every hit explained.

Matching semantics (the contract rule authors write against):

Text. The title and summary are split into words and folded
(`monitor.textnorm`): compatibility forms, case and accents are ignored, so
"Génocide", "GENOCIDE" and "genocide" are the same word; punctuation and
hyphens separate words ("El-Fasher" is "el fasher"). Terms are folded the
same way, so a term matches a phrase word by word, in order, adjacent.

Terms. A term is exact, prefix, fuzzy or case-sensitive:
- exact: every word equal after folding. Terms of 4 characters or fewer
  are exact unless the term says `fuzzy = true`, and even then each word of 4
  characters or fewer is compared exactly (one edit turns "rape" into "tape").
- prefix ("displac*", "recognis* as"): a word written with a trailing "*"
  need only start with the stem (3 letters at least); it is never fuzzy.
- fuzzy (the default for longer terms): each word of 5 or more characters
  matches a text word when (a) both start with the same letter (misspellings
  rarely touch the first letter; this keeps "killed" off "skilled") and
  (b) its score reaches the term's `min_score` (default 88) and, for words of
  5-6 characters, 90. The score is the best of rapidfuzz `fuzz.ratio` of the
  two words, and `fuzz.ratio` of their light stems and transliteration
  skeletons (common EN/FR/ES endings removed, doubled letters single, y as i,
  ph as f), the latter capped at 95. So "Rohingyas", "massacred" and
  "ethnicaly cleansed" match "Rohingya", "massacre" and "ethnic cleansing",
  and "Tigrai" matches "Tigray"; "genome" and "Genoa" do not match "genocide".
  A min_score above 95 thus allows misspellings of long words only, not
  inflections. A hit's score is 100 when every word is equal after folding.
- case-sensitive: a term written in capitals ("ICC", "CPI", "RSF") is an
  acronym: the text must show it in the same capitals, so "icc" or "Icc"
  do not match, while an all-capitals headline does. A term can set
  `case_sensitive = false` (or true) to override.

Rules. A rule fires when the item is in scope (feeds, tags, countries; terms
count only in the rule's `fields`) AND one `any` term matched (when `any` is
given) AND every `all` group has a match AND every `near` clause holds (an
`a` term and a `b` term in the same field, at most `within` words apart:
adjacent words are 1 apart) AND the weights of the distinct `weights` terms
found reach `threshold` AND no `none` term matched in the rule's fields.
The match lists each matched term once per group, first occurrence, with the
text as it appeared, a snippet, and its score; the match's score is the mean.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz, process

from monitor.countries import gazetteer
from monitor.model import Item, Match, TermHit
from monitor.rules import Rule, RuleSet, Term
from monitor.textnorm import WORD_RE, Words, words

SHORT_WORD = 4  # words this short are never fuzzy
SHORT_FUZZY = (6, 90.0)  # words up to 6 characters need a score of at least 90
STEM_CAP = 95.0  # a match found only through stems/skeletons scores at most this
CACHE_SIZE = 100_000  # distinct text words remembered; cleared when full
SUFFIXES = sorted(
    [
        "ations",
        "ation",
        "ement",
        "ements",
        "ings",
        "ing",
        "edly",
        "ied",
        "ies",
        "ed",
        "es",
        "ly",
        "s",
        "ees",
        "ee",
        "es",
        "e",
        "ados",
        "adas",
        "ado",
        "ada",
        "os",
        "as",
        "a",
        "o",
    ],
    key=len,
    reverse=True,
)
Key = tuple[str, str]  # ("x", word) exact, ("p", stem) prefix, ("f", word) fuzzy
Hits = dict[Key, float]  # what one text word satisfies, with its score


@dataclass(frozen=True)
class _Compiled:
    """A term as the scanner sees it: one (key, cutoff) per word, and the case check."""

    keys: tuple[tuple[Key, float], ...]
    exact: tuple[str, ...]  # original-case words for case-sensitive terms


class Occurrence(NamedTuple):
    """Where a term matched: field, first and last word, score."""

    field: str
    first: int
    last: int
    score: float


def stem(word: str) -> str:
    """The word without one common EN/FR/ES ending, keeping at least 4 letters."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def skeleton(word: str) -> str:
    """A transliteration-tolerant key: stem, doubled letters single, y as i, ph as f."""
    key = stem(word).replace("ph", "f").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", key)


def _compile_term(term: Term) -> _Compiled:
    keys: list[tuple[Key, float]] = []
    for j, word in enumerate(term.words):
        if j in term.prefixes:
            keys.append((("p", word), 100.0))
        elif term.fuzzy and len(word) > SHORT_WORD:
            floor = SHORT_FUZZY[1] if len(word) <= SHORT_FUZZY[0] else 0.0
            keys.append((("f", word), max(term.min_score, floor)))
        else:
            keys.append((("x", word), 100.0))
    exact = ()
    if term.case_sensitive:
        exact = tuple(WORD_RE.findall(unicodedata.normalize("NFKC", term.text)))
    return _Compiled(tuple(keys), exact)


def _positive_terms(rule: Rule) -> Iterable[Term]:
    yield from rule.any
    yield from (t for group in rule.all for t in group)
    yield from rule.weights
    yield from (t for clause in rule.near for t in (*clause.a, *clause.b))


Found = dict[int, list["Occurrence"]]  # term id -> where it matched
Ref = tuple[Term, int]  # a rule's term and the id of its compiled form


@dataclass(frozen=True)
class _RuleRefs:
    """A rule with each term paired with its compiled id (ids are cheaper keys than Terms)."""

    rule: Rule
    any: tuple[Ref, ...]
    all: tuple[tuple[Ref, ...], ...]
    none: frozenset[int]
    weights: tuple[Ref, ...]
    near: tuple[tuple[tuple[Ref, ...], tuple[Ref, ...], int], ...]


class Matcher:
    """A RuleSet compiled for fast matching; `match` and `countries` are pure and thread-safe."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._ids: dict[Term, int] = {}  # equal terms of different rules share one id
        self._compiled: list[_Compiled] = []
        self._first: dict[Key, list[int]] = defaultdict(list)
        self._rules_of: dict[int, list[int]] = defaultdict(list)
        self._refs = tuple(self._compile_rule(rule) for rule in rules)
        for index, rule in enumerate(rules):
            for term in _positive_terms(rule):
                self._rules_of[self._ids[term]].append(index)
        self._fields = tuple(sorted({f for r in rules for f in r.fields}))
        self._vocab = _Vocabulary(self._compiled)
        self._cache: dict[str, Hits] = {}

    def _compile_rule(self, rule: Rule) -> _RuleRefs:
        def refs(terms: Iterable[Term]) -> tuple[Ref, ...]:
            return tuple((t, self._term_id(t)) for t in terms)

        near = tuple((refs(c.a), refs(c.b), c.within) for c in rule.near)
        all_ = tuple(refs(g) for g in rule.all)
        none = frozenset(i for _, i in refs(rule.none))
        return _RuleRefs(rule, refs(rule.any), all_, none, refs(rule.weights), near)

    def _term_id(self, term: Term) -> int:
        if term not in self._ids:
            self._ids[term] = len(self._compiled)
            self._compiled.append(_compile_term(term))
            self._first[self._compiled[-1].keys[0][0]].append(self._ids[term])
        return self._ids[term]

    def match(self, item: Item) -> tuple[Match, ...]:
        """Every rule that fires on `item`, in rule-file order."""
        texts = {f: words(getattr(item, f)) for f in self._fields}
        found = self.occurrences(texts)
        if not found:
            return ()
        candidates = sorted({i for tid in found for i in self._rules_of.get(tid, ())})
        out = []
        countries: tuple[str, ...] | None = None
        for index in candidates:
            refs = self._refs[index]
            if refs.rule.countries and countries is None:
                countries = item.countries or gazetteer().mentioned(*texts.values())
            fired = _evaluate(refs, item, countries or (), found, texts)
            if fired is not None:
                out.append(fired)
        return tuple(out)

    def countries(self, item: Item) -> tuple[str, ...]:
        """Sorted unique alpha-2 codes of the countries mentioned in title and summary."""
        return gazetteer().mentioned(words(item.title), words(item.summary))

    def occurrences(self, texts: dict[str, Words]) -> Found:
        """Every occurrence of every compiled term in the given fields."""
        found: Found = {}
        for field, text in texts.items():
            per_word = self._per_word(text.words)
            for i, here in enumerate(per_word):
                if not here:
                    continue
                for key in here:
                    for tid in self._first.get(key, ()):
                        score = self._term_at(tid, text, per_word, i)
                        if score is not None:
                            last = i + len(self._compiled[tid].keys) - 1
                            occ = Occurrence(field, i, last, score)
                            found.setdefault(tid, []).append(occ)
        return found

    def _per_word(self, folded: tuple[str, ...]) -> list[Hits]:
        per_word = list(map(self._cache.get, folded))
        for i, hits in enumerate(per_word):
            if hits is None:
                per_word[i] = self._miss(folded[i])
        return per_word  # type: ignore[return-value]  # every None was replaced

    def _miss(self, word: str) -> Hits:
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()  # bounded memory; the working set refills at once
        hits = self._cache[word] = self._vocab.lookup(word)
        return hits

    def _term_at(self, tid: int, text: Words, per_word: list[Hits], i: int) -> float | None:
        compiled = self._compiled[tid]
        if i + len(compiled.keys) > len(per_word):
            return None
        score = 100.0
        for j, (key, cutoff) in enumerate(compiled.keys):
            got = per_word[i + j].get(key)
            if got is None or got < cutoff:
                return None
            score = min(score, got)
        if compiled.exact:
            spans = text.spans[i : i + len(compiled.exact)]
            found = tuple(unicodedata.normalize("NFKC", text.text[a:b]) for a, b in spans)
            if found != compiled.exact:
                return None
        return score


class _Vocabulary:
    """The words of all compiled terms, indexed for exact, prefix and fuzzy lookup."""

    def __init__(self, compiled: Iterable[_Compiled]) -> None:
        keys = {key: cutoff for c in compiled for key, cutoff in c.keys}
        self.exact = {w for kind, w in keys if kind in "xf"}
        self.prefixes: dict[str, list[str]] = defaultdict(list)
        fuzzy: dict[str, list[str]] = defaultdict(list)
        for (kind, w), _ in keys.items():
            if kind == "p":
                self.prefixes[w[:3]].append(w)
            elif kind == "f":
                fuzzy[w[0]].append(w)
        self.fuzzy = {c: (ws, [skeleton(w) for w in ws]) for c, ws in fuzzy.items()}
        self.cutoff = min([c for (kind, _), c in keys.items() if kind == "f"], default=100.0)

    def lookup(self, word: str) -> Hits:
        found: Hits = {}
        if word in self.exact:
            found["x", word] = found["f", word] = 100.0
        for stem_ in self.prefixes.get(word[:3], ()):
            if word.startswith(stem_):
                found["p", stem_] = 100.0
        if word[:1] in self.fuzzy and len(word) > SHORT_WORD - 1:
            for term_word, score in self._fuzzy(word):
                found.setdefault(("f", term_word), score)
        return found

    def _fuzzy(self, word: str) -> Iterable[tuple[str, float]]:
        plain, skeletons = self.fuzzy[word[0]]
        best: dict[int, float] = {}
        for _, score, j in process.extract(
            word, plain, scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=None
        ):
            best[j] = score
        key = skeleton(word)
        for _, score, j in process.extract(
            key, skeletons, scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=None
        ):
            best[j] = max(best.get(j, 0.0), min(score, STEM_CAP))
        return ((plain[j], score) for j, score in best.items())


def _evaluate(
    refs: _RuleRefs, item: Item, countries: tuple[str, ...], found: Found, texts: dict[str, Words]
) -> Match | None:
    rule = refs.rule
    if not _in_scope(rule, item, countries):
        return None

    def first(tid: int) -> Occurrence | None:
        for occ in found.get(tid, ()):
            if occ.field in rule.fields:
                return occ
        return None

    if any(first(tid) for tid in refs.none.intersection(found)):
        return None
    hits: list[TermHit] = []
    for group, terms in (("any", refs.any), *((f"all[{i}]", g) for i, g in enumerate(refs.all))):
        matched = [(t, o) for t, tid in terms if (o := first(tid)) is not None]
        if terms and not matched:
            return None
        hits += (_hit(t, o, texts, group) for t, o in matched)
    for a, b, within in refs.near:
        pair = _near(a, b, within, rule.fields, found)
        if pair is None:
            return None
        hits += (_hit(t, o, texts, "near") for t, o in pair)
    if refs.weights:
        weighed = [(t, o) for t, tid in refs.weights if (o := first(tid)) is not None]
        if sum(t.weight for t, _ in weighed) < rule.threshold:
            return None
        hits += (_hit(t, o, texts, "weights") for t, o in weighed)
    return _make_match(rule, tuple(hits))


def _in_scope(rule: Rule, item: Item, countries: tuple[str, ...]) -> bool:
    if rule.feeds and item.feed not in rule.feeds:
        return False
    if rule.tags and not set(rule.tags) & set(item.tags):
        return False
    return not rule.countries or bool(set(rule.countries) & set(countries))


def _near(
    a_refs: tuple[Ref, ...],
    b_refs: tuple[Ref, ...],
    within: int,
    fields: tuple[str, ...],
    found: Found,
) -> tuple[tuple[Term, Occurrence], tuple[Term, Occurrence]] | None:
    """The first (a, b) pair of occurrences in one field at most `within` words apart."""
    bs = [(t, o) for t, tid in b_refs for o in found.get(tid, ()) if o.field in fields]
    for a, tid in a_refs:
        for oa in found.get(tid, ()):
            for b, ob in bs:
                gap = max(ob.first - oa.last, oa.first - ob.last)
                if ob.field == oa.field and gap <= within:
                    return (a, oa), (b, ob)
    return None


def _hit(term: Term, occ: Occurrence, texts: dict[str, Words], group: str) -> TermHit:
    text = texts[occ.field]
    return TermHit(
        term=term.text,
        text=text.original(occ.first, occ.last),
        field=occ.field,
        score=round(occ.score, 1),
        snippet=text.snippet(occ.first, occ.last),
        group=group,
    )


def _make_match(rule: Rule, hits: tuple[TermHit, ...]) -> Match:
    score = sum(h.score for h in hits) / len(hits) if hits else 0.0
    return Match(
        rule_id=rule.id,
        title=rule.title,
        severity=rule.severity,
        description=rule.description,
        score=round(score, 1),
        hits=hits,
        theme=rule.theme,
        channels=rule.channels,
        route_tags=rule.route_tags,
        cooldown=rule.cooldown,
    )
