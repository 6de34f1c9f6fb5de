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
PAIR_CACHE_SIZE = 20_000  # word pairs where a phrase may start (~220 B each); cleared when full


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
Phrases = tuple[tuple[int, float | None], ...]  # (term id, score; None: check the text)


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
        # Per pair of folded words where a phrase may start: the phrases there (`_pair_miss`)
        self._pairs: dict[tuple[str, str], Phrases] = {}

    def occurrences(self, texts: dict[str, Words]) -> Found:
        """Every occurrence of every compiled term in the given fields."""
        found: Found = {}
        for field, text in texts.items():
            folded = text.words
            per_word = self._per_word(folded)
            # Only words where a term may start; most words are in no term at all.
            for i in compress(range(len(per_word)), map(_START, per_word)):
                word = per_word[i]
                for tid, score in word.sure:  # one-word terms settled by the cache
                    occ = _new(Occurrence, (field, i, i, score))
                    if tid in found:
                        found[tid].append(occ)
                    else:
                        found[tid] = [occ]
                for tid in word.check:  # one-word case-sensitive terms: case checked here
                    self._record(found, field, text, per_word, i, tid, None)
                if (
                    word.seconds
                    and i + 1 < len(per_word)
                    and not word.seconds.isdisjoint(per_word[i + 1].hits)
                ):
                    pair = (folded[i], folded[i + 1])
                    phrases = self._pairs.get(pair)
                    if phrases is None:
                        phrases = self._pair_miss(pair, word, per_word[i + 1])
                    for tid, settled in phrases:
                        self._record(found, field, text, per_word, i, tid, settled)
        return found

    def _record(
        self,
        found: Found,
        field: str,
        text: Words,
        per_word: list[WordInfo],
        i: int,
        tid: int,
        score: float | None,
    ) -> None:
        """Record term `tid` at word i: `score` when the word pair settled it, else checked."""
        got = self._term_at(tid, text, per_word, i) if score is None else score
        if got is not None:
            last = i + len(self._compiled[tid].keys) - 1
            found.setdefault(tid, []).append(Occurrence(field, i, last, got))

    def _pair_miss(self, pair: tuple[str, str], word: WordInfo, following: WordInfo) -> Phrases:
        """The phrases that may start on a word pair, in the order they are checked: a
        two-word phrase without case check is settled by the pair (its score, or left
        out), the others (None) are checked against the text at each occurrence."""
        out: list[tuple[int, float | None]] = []
        for key in word.firsts:
            for key1 in following.hits:
                for tid in self._first.get((key, key1), ()):
                    compiled = self._compiled[tid]
                    if len(compiled.keys) > 2 or compiled.exact:
                        out.append((tid, None))
                        continue
                    (k0, cut0), (k1, cut1) = compiled.keys
                    s0, s1 = word.hits[k0], following.hits[k1]
                    if s0 >= cut0 and s1 >= cut1:
                        out.append((tid, min(100.0, s0, s1)))
        if len(self._pairs) >= PAIR_CACHE_SIZE:
            self._pairs.clear()  # bounded memory; the working set refills at once
        phrases = self._pairs[pair] = tuple(out)
        return phrases

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
