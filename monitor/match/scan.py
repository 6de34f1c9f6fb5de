"""One pass over a text: every occurrence of every compiled term, with a per-word cache.

A text word is looked up in the `Vocabulary` once (then cached, words repeat
across items) and remembered as a `WordInfo`: the term keys it satisfies,
the one-word terms it settles, and whether a phrase may start on it. The
scan then checks phrases only where the next word can continue one, and
case-sensitive terms against the original text.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from itertools import compress
from operator import attrgetter
from typing import NamedTuple

from monitor.match.fold import Words
from monitor.match.vocab import Hits, Key, TermTable, Vocabulary

CACHE_SIZE = 100_000  # distinct text words remembered; cleared when full


class WordInfo(NamedTuple):
    """What the matcher remembers of one folded word (cached: words repeat across items)."""

    hits: Hits  # term-word keys this word satisfies, with scores
    sure: tuple[tuple[int, float], ...]  # one-word terms it is, with the score
    check: tuple[int, ...]  # one-word case-sensitive terms it may be
    firsts: tuple[Key, ...]  # its keys that begin a phrase
    seconds: frozenset[Key]  # keys of a next word that would continue one of those phrases
    start: bool  # a term may start here


_NOTHING = WordInfo({}, (), (), (), frozenset(), False)  # the cached answer for a word in no term
_START = attrgetter("start")
_new = tuple.__new__  # builds a NamedTuple in C, without its Python-level __new__


class Occurrence(NamedTuple):
    """Where a term matched: field, first and last word, score."""

    field: str
    first: int
    last: int
    score: float


Found = dict[int, list[Occurrence]]  # term id -> where it matched


class Scanner:
    """Finds the terms of a TermTable in texts; `occurrences` is pure and thread-safe."""

    def __init__(self, table: TermTable) -> None:
        self._compiled = table.compiled
        self._first = table.first
        self._vocab = Vocabulary(table.compiled)
        # Second-word keys of the phrases, by first-word key.
        self._seconds: dict[Key, set[Key]] = defaultdict(set)
        for first in self._first:
            if isinstance(first[0], tuple):
                self._seconds[first[0]].add(first[1])
        self._cache: dict[str, WordInfo] = {}

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
        self, found: Found, field: str, text: Words, per_word: list[WordInfo], i: int
    ) -> None:
        """Record the multi-word and case-sensitive terms that start at word i."""
        for tid in self._candidates(per_word[i], per_word[i + 1 : i + 2]):
            got = self._term_at(tid, text, per_word, i)
            if got is not None:
                last = i + len(self._compiled[tid].keys) - 1
                found.setdefault(tid, []).append(Occurrence(field, i, last, got))

    def _candidates(self, word: WordInfo, following: list[WordInfo]) -> tuple[int, ...]:
        """Terms to check here: one-word acronyms, and phrases whose 2nd word follows."""
        out = word.check
        for key in word.firsts if following else ():
            for key1 in following[0].hits:
                out += tuple(self._first.get((key, key1), ()))
        return out

    def _per_word(self, folded: tuple[str, ...]) -> list[WordInfo]:
        per_word = list(map(self._cache.get, folded))
        if None in per_word:  # a scan in C; once warm, words are rarely new
            for i, word in enumerate(per_word):
                if word is None:  # a word twice in one new text is looked up once
                    per_word[i] = self._cache.get(folded[i]) or self._miss(folded[i])
        return per_word  # type: ignore[return-value]  # every None was replaced

    def _miss(self, text: str) -> WordInfo:
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
        word = WordInfo(hits, tuple(sure), tuple(check), firsts, seconds, start)
        word = word if hits else _NOTHING
        self._cache[text] = word
        return word

    def _term_at(self, tid: int, text: Words, per_word: list[WordInfo], i: int) -> float | None:
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
