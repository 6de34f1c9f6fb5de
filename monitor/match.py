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
The match lists each matched term once per group (its first occurrence; for
`near`, the pair that satisfied the clause) with the text as it appeared, a
snippet of about 60 characters either side, and its score; the match's score
is the mean of its hits' scores.

Speed. Compiling indexes every term by its first word's key (or first two
for phrases); each distinct text word is looked up once (exact set, prefix
table by first 3 letters, rapidfuzz `process.extract` over the fuzzy words
sharing its first letter) and the answer cached, so a pass over an item is
a few dict lookups per word. A rule is examined only when a term of a group
it cannot fire without was found.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter
from typing import NamedTuple

from rapidfuzz import fuzz, process

from monitor.countries import gazetteer
from monitor.model import Item, Match, TermHit
from monitor.rules import Rule, RuleSet, Term
from monitor.textnorm import Words, split, words

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


class _Word(NamedTuple):
    """What the matcher remembers of one folded word (cached: words repeat across items)."""

    hits: Hits  # term-word keys this word satisfies, with scores
    sure: tuple[tuple[int, float], ...]  # one-word terms it is, with the score
    check: tuple[int, ...]  # one-word case-sensitive terms it may be
    firsts: tuple[Key, ...]  # its keys that begin a phrase
    seconds: frozenset[Key]  # keys of a next word that would continue one of those phrases
    start: bool  # a term may start here


_NOTHING = _Word({}, (), (), (), frozenset(), False)  # the cached answer for a word in no term
_START = attrgetter("start")
_new = tuple.__new__  # builds a NamedTuple in C, without its Python-level __new__


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
    exact: tuple[str, ...] = ()
    if term.case_sensitive:
        exact = tuple(split(unicodedata.normalize("NFKC", term.text)))
    return _Compiled(tuple(keys), exact)


Found = dict[int, list["Occurrence"]]  # term id -> where it matched
Group = dict[int, Term]  # a rule's terms by compiled id (ids are cheaper keys than Terms)
Pick = tuple[Term, "Occurrence", str]  # a matched term, where, and in which group


@dataclass(frozen=True)
class _RuleRefs:
    """A rule with its term groups keyed by compiled term id."""

    rule: Rule
    groups: tuple[tuple[str, Group], ...]  # ("any", ...), ("all[0]", ...): each needs a hit
    none: frozenset[int]
    weights: Group
    near: tuple[tuple[Group, Group, int], ...]
    required: tuple[frozenset[int], ...]  # each needs a hit for the rule to have a chance
    also: tuple[frozenset[int], ...]  # required[1:]: a candidate rule has a hit in required[0]
    fields: frozenset[str] | None  # None when the rule reads every field (no filtering)


class Matcher:
    """A RuleSet compiled for fast matching; `match` and `countries` are pure and thread-safe."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._ids: dict[Term, int] = {}  # equal terms of different rules share one id
        self._compiled: list[_Compiled] = []
        # Candidate terms by their first word's key, or first two for phrases.
        self._first: dict[Key | tuple[Key, Key], list[int]] = defaultdict(list)
        self._fields = tuple(sorted({f for r in rules for f in r.fields}))
        self._refs = tuple(self._compile_rule(rule) for rule in rules)
        # A rule is looked at only when a term of one group it cannot fire without
        # (any, else all[0], else a near side, else weights) was found.
        self._rules_of: dict[int, list[int]] = defaultdict(list)
        for index, refs in enumerate(self._refs):
            for tid in refs.required[0] if refs.required else refs.weights:
                self._rules_of[tid].append(index)
        self._vocab = _Vocabulary(self._compiled)
        # Second-word keys of the phrases, by first-word key.
        self._seconds: dict[Key, set[Key]] = defaultdict(set)
        for first in self._first:
            if isinstance(first[0], tuple):
                self._seconds[first[0]].add(first[1])
        self._cache: dict[str, _Word] = {}

    def _compile_rule(self, rule: Rule) -> _RuleRefs:
        def refs(terms: Iterable[Term]) -> Group:
            group: Group = {}
            for term in terms:
                group.setdefault(self._term_id(term), term)
            return group

        near = tuple((refs(c.a), refs(c.b), c.within) for c in rule.near)
        all_ = tuple(refs(g) for g in rule.all)
        none = frozenset(refs(rule.none))
        any_ = refs(rule.any)
        groups = [any_, *all_, *(g for a, b, _ in near for g in (a, b))]
        required = tuple(frozenset(g) for g in groups if g)
        named = (("any", any_), *((f"all[{i}]", g) for i, g in enumerate(all_)))
        fields = None if set(self._fields) <= set(rule.fields) else frozenset(rule.fields)
        weights = refs(rule.weights)
        return _RuleRefs(rule, tuple((n, g) for n, g in named if g), none, weights, near,
                         required, required[1:], fields)  # fmt: skip

    def _term_id(self, term: Term) -> int:
        if term not in self._ids:
            self._ids[term] = len(self._compiled)
            self._compiled.append(_compile_term(term))
            keys = self._compiled[-1].keys
            first = keys[0][0] if len(keys) == 1 else (keys[0][0], keys[1][0])
            self._first[first].append(self._ids[term])
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
        explain: Explainer | None = None
        for index in candidates:
            refs = self._refs[index]
            if refs.also and _hopeless(refs.also, found):
                continue
            picks = _decide(refs, found)
            if picks is None or not _in_feeds(refs.rule, item):
                continue
            if refs.rule.countries:
                if countries is None:
                    countries = item.countries or gazetteer().mentioned(*texts.values())
                if not set(refs.rule.countries) & set(countries):
                    continue
            explain = explain or Explainer(texts)  # built once, for items that match
            out.append(explain.match(refs.rule, picks))
        return tuple(out)

    def countries(self, item: Item) -> tuple[str, ...]:
        """Sorted unique alpha-2 codes of the countries mentioned in title and summary."""
        return gazetteer().mentioned(words(item.title), words(item.summary))

    def occurrences(self, texts: dict[str, Words]) -> Found:
        """Every occurrence of every compiled term in the given fields."""
        found: Found = {}
        for field, text in texts.items():
            per_word = self._per_word(text.words)
            # Only words where a term may start; most words are in no term at all.
            for i in compress(range(len(per_word)), map(_START, per_word)):
                word = per_word[i]
                for tid, score in word.sure:  # one-word terms settled by the cache
                    occ = _new(Occurrence, (field, i, i, score))
                    if tid in found:
                        found[tid].append(occ)
                    else:
                        found[tid] = [occ]
                if word.check or (
                    word.seconds
                    and i + 1 < len(per_word)
                    and not word.seconds.isdisjoint(per_word[i + 1].hits)
                ):
                    self._phrases(found, field, text, per_word, i)
        return found

    def _phrases(
        self, found: Found, field: str, text: Words, per_word: list[_Word], i: int
    ) -> None:
        """Record the multi-word and case-sensitive terms that start at word i."""
        for tid in self._candidates(per_word[i], per_word[i + 1 : i + 2]):
            got = self._term_at(tid, text, per_word, i)
            if got is not None:
                last = i + len(self._compiled[tid].keys) - 1
                found.setdefault(tid, []).append(Occurrence(field, i, last, got))

    def _candidates(self, word: _Word, following: list[_Word]) -> tuple[int, ...]:
        """Terms to check here: one-word acronyms, and phrases whose 2nd word follows."""
        out = word.check
        for key in word.firsts if following else ():
            for key1 in following[0].hits:
                out += tuple(self._first.get((key, key1), ()))
        return out

    def _per_word(self, folded: tuple[str, ...]) -> list[_Word]:
        per_word = list(map(self._cache.get, folded))
        if None in per_word:  # a scan in C; once warm, words are rarely new
            for i, word in enumerate(per_word):
                if word is None:
                    per_word[i] = self._miss(folded[i])
        return per_word  # type: ignore[return-value]  # every None was replaced

    def _miss(self, text: str) -> _Word:
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()  # bounded memory; the working set refills at once
        hits = self._vocab.lookup(text)
        sure, check = [], []
        for key, score in hits.items():
            for tid in self._first.get(key, ()):
                compiled = self._compiled[tid]
                if compiled.exact:
                    check.append(tid)  # case is checked against each text
                elif score >= compiled.keys[0][1]:
                    sure.append((tid, score))
        firsts = tuple(key for key in hits if key in self._seconds)
        seconds = frozenset().union(*(self._seconds[key] for key in firsts))
        start = bool(sure or check or firsts)
        word = _Word(hits, tuple(sure), tuple(check), firsts, seconds, start) if hits else _NOTHING
        self._cache[text] = word
        return word

    def _term_at(self, tid: int, text: Words, per_word: list[_Word], i: int) -> float | None:
        compiled = self._compiled[tid]
        if i + len(compiled.keys) > len(per_word):
            return None
        score = 100.0
        for j, (key, cutoff) in enumerate(compiled.keys):
            got = per_word[i + j].hits.get(key)
            if got is None or got < cutoff:
                return None
            score = min(score, got)
        if compiled.exact:
            if text.text.isascii() and not all(w in text.text for w in compiled.exact):
                return None  # the capitals are nowhere (ASCII: NFKC changes nothing)
            spans = text.spans[i : i + len(compiled.exact)]
            found = tuple(unicodedata.normalize("NFKC", text.text[a:b]) for a, b in spans)
            if found != compiled.exact:
                return None
        return score


class _Vocabulary:
    """The words of all compiled terms, indexed for exact, prefix and fuzzy lookup."""

    def __init__(self, compiled: Iterable[_Compiled]) -> None:
        # A word shared by terms with different min_scores is looked up with the
        # lowest; each term still applies its own cutoff when judging its hit.
        keys: dict[Key, float] = {}
        for c in compiled:
            for key, cutoff in c.keys:
                keys[key] = min(cutoff, keys.get(key, cutoff))
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


def _decide(refs: _RuleRefs, found: Found) -> list[Pick] | None:
    """The hits that make the rule fire, in explanation order, or None (scope aside)."""
    fields = refs.fields
    picks: list[Pick] = []
    for name, group in refs.groups:
        got = _matched(found, group, name, fields)
        if not got:
            return None
        picks += got
    for a, b, within in refs.near:
        pair = _near(_matched(found, a, "near", fields, True),
                     _matched(found, b, "near", fields, True), within)  # fmt: skip
        if pair is None:
            return None
        picks += pair
    if refs.weights:
        weighed = _matched(found, refs.weights, "weights", fields)
        if sum(t.weight for t, _, _ in weighed) < refs.rule.threshold:
            return None
        picks += weighed
    for tid in refs.none & found.keys():
        if fields is None or any(o.field in fields for o in found[tid]):
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


def _hopeless(required: tuple[frozenset[int], ...], found: Found) -> bool:
    """True when a group that needs a hit has none at all: no need to look closer."""
    return any(group.isdisjoint(found) for group in required)


def _in_feeds(rule: Rule, item: Item) -> bool:
    if rule.feeds and item.feed not in rule.feeds:
        return False
    return not rule.tags or bool(set(rule.tags) & set(item.tags))


def _near(a: list[Pick], b: list[Pick], within: int) -> list[Pick] | None:
    """The first (a, b) pair of occurrences in one field at most `within` words apart."""
    for pick_a in a:
        for pick_b in b:
            occ_a, occ_b = pick_a[1], pick_b[1]
            gap = max(occ_b.first - occ_a.last, occ_a.first - occ_b.last)
            if occ_a.field == occ_b.field and gap <= within:
                return [pick_a, pick_b]
    return None


class Explainer:
    """One item's texts, turning picks into TermHits; each snippet is cut once per item."""

    def __init__(self, texts: dict[str, Words]) -> None:
        self.texts = texts
        self._shown: dict[tuple[str, int, int], tuple[str, str]] = {}

    def match(self, rule: Rule, picks: list[Pick]) -> Match:
        return _make_match(rule, tuple([self.hit(t, o, g) for t, o, g in picks]))

    def hit(self, term: Term, occ: Occurrence, group: str) -> TermHit:
        where = (occ.field, occ.first, occ.last)
        shown = self._shown.get(where)
        if shown is None:
            text = self.texts[occ.field]
            shown = text.original(occ.first, occ.last), text.snippet(occ.first, occ.last)
            self._shown[where] = shown
        return TermHit(term.text, shown[0], occ.field, round(occ.score, 1), shown[1], group)


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
