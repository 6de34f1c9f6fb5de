"""Word families: Snowball stems in English, French and Spanish, and the index of family words.

A family word is a term word of a `family = true` term, keyed ("s" + lang,
word) with lang "" for all three languages. A text word satisfies it when it
is equal (score 100), or when both words have the same Snowball stem in one of
the term's languages and that stem has at least `MIN_STEM` letters (score
`FAMILY_SCORE`, so explanations show a family form): "executed" for
"executions", "masacraron" for "masacre"; "war" (stem "war") only matches
"war". Words are stemmed folded (no accents, lower case), as both sides are
compared. Stemming is slow next to a dict lookup, so a text word is stemmed
in a language only when its first letters begin a family stem of that
language: Snowball only rewrites endings, so a stem of 4 letters or more
starts with its word's first 3 (tests/test_family.py checks it on corpus/).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable

import snowballstemmer

from monitor.rules.model import LANGS

MIN_STEM = 4  # shorter stems match only the equal word
FAMILY_SCORE = 95.0  # a family form that is not the word itself
START = 3  # letters a text word shares with a stem it can have
SNOWBALL = {"en": "english", "fr": "french", "es": "spanish"}
Key = tuple[str, str]  # ("s", word), ("sen", word), ...: a family word and its languages

_STEMMERS = {lang: snowballstemmer.stemmer(SNOWBALL[lang]) for lang in LANGS}
_LOCK = threading.Lock()  # a Snowball stemmer keeps its working state in the object


def family_stem(lang: str, word: str) -> str:
    """The Snowball stem of a folded word in one of LANGS."""
    with _LOCK:
        stem: str = _STEMMERS[lang].stemWord(word)
    return stem


def languages(kind: str) -> tuple[str, ...]:
    """The languages of a family key's kind: "sfr" -> ("fr",), "s" -> all of LANGS."""
    return (kind[1:],) if kind[1:] else LANGS


class Families:
    """Family words by stem, per language; `lookup` adds a text word's family keys to hits."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self.equal: dict[str, list[Key]] = defaultdict(list)
        self.stems: dict[str, dict[str, list[Key]]] = {}  # lang -> stem -> keys
        self.starts: dict[str, frozenset[str]] = {}  # lang -> first letters of those stems
        for key in keys:
            self.equal[key[1]].append(key)
            for lang in languages(key[0]):
                stem = family_stem(lang, key[1])
                if len(stem) >= MIN_STEM:
                    self.stems.setdefault(lang, defaultdict(list))[stem].append(key)
        for lang, stems in self.stems.items():
            self.starts[lang] = frozenset(stem[:START] for stem in stems)

    def __bool__(self) -> bool:
        return bool(self.equal)

    def lookup(self, word: str, found: dict[Key, float]) -> None:
        """Add to `found` every family key `word` satisfies, with its score."""
        for key in self.equal.get(word, ()):
            found[key] = 100.0
        if len(word) < MIN_STEM:
            return
        for lang, stems in self.stems.items():
            if word[:START] in self.starts[lang]:
                for key in stems.get(family_stem(lang, word), ()):
                    found.setdefault(key, FAMILY_SCORE)
