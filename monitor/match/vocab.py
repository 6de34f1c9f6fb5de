"""Term words compiled for lookup: exact set, prefix table, fuzzy batches, light stemming.

Each term becomes one key per word (`compile_term`): ("x", word) compared
exactly, ("p", stem) as a prefix, ("f", word) fuzzily with a cutoff, ("s" +
lang, word) by word family (`monitor.match.family`). A
`TermTable` gives equal terms one id and indexes them by their first key (or
first two for phrases); a `Vocabulary` answers, for one text word, every key
it satisfies and with what score. The rules for fuzziness are documented in
`monitor.match`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from monitor.match.family import FAMILY_SCORE, Families
from monitor.match.fold import split
from monitor.rules.model import Term

SHORT_WORD = 4  # words this short are never fuzzy
SHORT_FUZZY = (6, 90.0)  # words up to 6 characters need a score of at least 90
STEM_CAP = 95.0  # a match found only through stems/skeletons scores at most this
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
Key = tuple[str, str]  # ("x", word) exact, ("p", stem) prefix, ("f", word) fuzzy, ("s"...) family
Hits = dict[Key, float]  # what one text word satisfies, with its score
First = Key | tuple[Key, Key]  # a term's index key: its first word's, or first two for phrases
Candidates = tuple[list[str], list[int]]  # term words (or skeletons), their list indexes


@dataclass(frozen=True)
class CompiledTerm:
    """A term as the scanner sees it: one (key, cutoff) per word, and the case check."""

    keys: tuple[tuple[Key, float], ...]
    exact: tuple[str, ...]  # original-case words for case-sensitive terms


# The suffixes by their last letter, longest first as in SUFFIXES: a word is tried only
# against the endings that end like it (stemming every word of every story key tried all).
_BY_LAST: dict[str, tuple[str, ...]] = {
    last: tuple(x for x in SUFFIXES if x[-1] == last) for last in {x[-1] for x in SUFFIXES}
}


def stem(word: str) -> str:
    """The word without one common EN/FR/ES ending, keeping at least 4 letters."""
    if len(word) <= 4:
        return word
    for suffix in _BY_LAST.get(word[-1], ()):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def skeleton(word: str) -> str:
    """A transliteration-tolerant key: stem, doubled letters single, y as i, ph as f."""
    key = stem(word).replace("ph", "f").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", key)


def compile_term(term: Term) -> CompiledTerm:
    """One key per word of the term, with the score each word needs."""
    keys: list[tuple[Key, float]] = []
    for j, word in enumerate(term.words):
        if j in term.prefixes:
            keys.append((("p", word), 100.0))
        elif term.family:
            keys.append((("s" + term.lang, word), FAMILY_SCORE))
        elif term.fuzzy and len(word) > SHORT_WORD:
            floor = SHORT_FUZZY[1] if len(word) <= SHORT_FUZZY[0] else 0.0
            keys.append((("f", word), max(term.min_score, floor)))
        else:
            keys.append((("x", word), 100.0))
    exact: tuple[str, ...] = ()
    if term.case_sensitive:
        exact = tuple(split(unicodedata.normalize("NFKC", term.text)))
    return CompiledTerm(tuple(keys), exact)


class TermTable:
    """Every distinct term of a rule set, by id, indexed by its first key(s)."""

    def __init__(self) -> None:
        self.ids: dict[Term, int] = {}  # equal terms of different rules share one id
        self.compiled: list[CompiledTerm] = []
        self.first: dict[First, list[int]] = defaultdict(list)

    def id(self, term: Term) -> int:
        """The term's id, compiling it on first sight."""
        if term not in self.ids:
            self.ids[term] = len(self.compiled)
            self.compiled.append(compile_term(term))
            keys = self.compiled[-1].keys
            first = keys[0][0] if len(keys) == 1 else (keys[0][0], keys[1][0])
            self.first[first].append(self.ids[term])
        return self.ids[term]


class Vocabulary:
    """The words of all compiled terms, indexed for exact, prefix, fuzzy and family lookup."""

    def __init__(self, compiled: Iterable[CompiledTerm]) -> None:
        # A word shared by terms with different min_scores is looked up with the
        # lowest; each term still applies its own cutoff when judging its hit.
        keys: dict[Key, float] = {}
        for c in compiled:
            for key, cutoff in c.keys:
                keys[key] = min(cutoff, keys.get(key, cutoff))
        self.exact = {w for kind, w in keys if kind in ("x", "f")}
        self.families = Families(key for key in keys if key[0][0] == "s")
        self.prefixes: dict[str, list[str]] = defaultdict(list)
        fuzzy: dict[str, list[str]] = defaultdict(list)
        for (kind, w), _ in keys.items():
            if kind == "p":
                self.prefixes[w[:3]].append(w)
            elif kind == "f":
                fuzzy[w[0]].append(w)
        self.fuzzy = {c: (ws, [skeleton(w) for w in ws]) for c, ws in fuzzy.items()}
        self.cutoff = min([c for (kind, _), c in keys.items() if kind == "f"], default=100.0)
        # (letter, skeletons?, length) -> the fuzzy words a word of that length can reach
        self._lengths: dict[tuple[str, bool, int], Candidates] = {}

    def lookup(self, word: str) -> Hits:
        """Every key `word` satisfies, with its score (cutoffs are the terms' business)."""
        found: Hits = {}
        if word in self.exact:
            found["x", word] = found["f", word] = 100.0
        for stem_ in self.prefixes.get(word[:3], ()):
            if word.startswith(stem_):
                found["p", stem_] = 100.0
        if word[:1] in self.fuzzy and len(word) > SHORT_WORD - 1:
            for term_word, score in self._fuzzy(word):
                found.setdefault(("f", term_word), score)
        if self.families:
            self.families.lookup(word, found)
        return found

    def _fuzzy(self, word: str) -> Iterable[tuple[str, float]]:
        plain = self.fuzzy[word[0]][0]
        best: dict[int, float] = {}
        # Only the term words whose length lets fuzz.ratio reach the cutoff: the others
        # cannot be in the answer, and leaving them out keeps the answer's order.
        words, where = self._within(word[0], False, len(word))
        for _, score, j in process.extract(
            word, words, scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=None
        ):
            best[where[j]] = score
        key = skeleton(word)
        words, where = self._within(word[0], True, len(key))
        for _, score, j in process.extract(
            key, words, scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=None
        ):
            j = where[j]
            best[j] = max(best.get(j, 0.0), min(score, STEM_CAP))
        return ((plain[j], score) for j, score in best.items())

    def _within(self, letter: str, skeletal: bool, size: int) -> Candidates:
        """The term words (or their skeletons) of `letter` that a word of `size` characters
        can reach the cutoff with, and their indexes in the letter's list (cached)."""
        known = self._lengths.get((letter, skeletal, size))
        if known is None:
            words = self.fuzzy[letter][skeletal]
            kept = [j for j, w in enumerate(words) if _reachable(size, len(w), self.cutoff)]
            known = ([words[j] for j in kept], kept)
            self._lengths[letter, skeletal, size] = known
        return known


def _reachable(a: int, b: int, cutoff: float) -> bool:
    """Whether fuzz.ratio of strings of lengths a and b can reach `cutoff`: its best case
    is the shorter inside the longer, 200 * min / (a + b); a margin for rounding."""
    return a + b == 0 or 200.0 * min(a, b) / (a + b) >= cutoff - 1e-6
