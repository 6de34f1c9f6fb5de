"""Word families: stems in seven languages, and the index of family words.

A family word is a term word of a `family = true` term, keyed ("s" + lang,
word); lang "" means the languages of the word's script (`script_langs`):
English, French and Spanish for a Latin word (as before Portuguese came:
rules without `lang` match what they matched; Portuguese is asked for by
name, `lang = "pt"`), Russian and Ukrainian for a Cyrillic word, Arabic for
an Arabic one. A text word satisfies it when it is equal (score 100), or
when both words have the same stem in one of the term's languages and that
stem has at least `MIN_STEM` letters (score `FAMILY_SCORE`, so explanations
show a family form): "executed" for "executions", "masacraron" for
"masacre", "геноциде" for "геноцид"; "war" (stem "war") only matches "war".
Stems are Snowball's (english, french, spanish, portuguese, russian,
arabic) and, for Ukrainian, `monitor.match.ukstem`. Words are stemmed
folded (no accents, lower case; Arabic without its article and clitics), as
both sides are compared. Stemming is slow next to a dict lookup, so a text
word is stemmed in a language only when its first letters begin a family
stem of that language: those stemmers only rewrite endings, so a stem of 4
letters or more starts with its word's first 3 (tests/test_family.py checks
it on corpus/ and real items). Snowball arabic also takes verb prefixes off
("يستعد" -> "استعد"), so in Arabic the gate is the script: every Arabic word
is stemmed once (the scan caches each word's answer), no Latin one.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable

import snowballstemmer

from monitor.match import ukstem

MIN_STEM = 4  # shorter stems match only the equal word
FAMILY_SCORE = 95.0  # a family form that is not the word itself
START = 3  # letters a text word shares with a stem it can have
SNOWBALL = {"en": "english", "fr": "french", "es": "spanish", "pt": "portuguese",
            "ar": "arabic", "ru": "russian"}  # fmt: skip
LATIN = ("en", "fr", "es")  # lang "" on a Latin word: the three of the first packs
CYRILLIC = ("ru", "uk")
BY_PREFIX = frozenset({"ar"})  # stemmers that also take prefixes off: gated by script
Key = tuple[str, str]  # ("s", word), ("sen", word), ...: a family word and its languages

_STEMMERS = {lang: snowballstemmer.stemmer(name) for lang, name in SNOWBALL.items()}
_LOCK = threading.Lock()  # a Snowball stemmer keeps its working state in the object


def _snowball(lang: str) -> Callable[[str], str]:
    stemmer = _STEMMERS[lang]

    def stem(word: str) -> str:
        with _LOCK:
            out: str = stemmer.stemWord(word)
        return out

    return stem


# ukstem is a pure function: no lock.
_STEM: dict[str, Callable[[str], str]] = {lang: _snowball(lang) for lang in SNOWBALL}
_STEM["uk"] = ukstem.stem


def family_stem(lang: str, word: str) -> str:
    """The stem of a folded word in one of `monitor.rules.model.LANGS`."""
    return _STEM[lang](word)


def is_arabic(word: str) -> bool:
    return "\u0600" <= word[:1] <= "\u06ff"


def is_cyrillic(word: str) -> bool:
    return "\u0400" <= word[:1] <= "\u04ff"


def script_langs(word: str) -> tuple[str, ...]:
    """The languages lang "" stands for, by the script of the word's first letter."""
    if is_arabic(word):
        return ("ar",)
    if is_cyrillic(word):
        return CYRILLIC
    return LATIN


def languages(kind: str, word: str = "") -> tuple[str, ...]:
    """The languages of a family key: ("sfr", w) -> ("fr",), ("s", w) -> by w's script."""
    return (kind[1:],) if kind[1:] else script_langs(word)


class Families:
    """Family words by stem, per language; `lookup` adds a text word's family keys to hits."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self.equal: dict[str, list[Key]] = defaultdict(list)
        self.stems: dict[str, dict[str, list[Key]]] = {}  # lang -> stem -> keys
        self.starts: dict[str, frozenset[str]] = {}  # lang -> first letters of those stems
        for key in keys:
            self.equal[key[1]].append(key)
            for lang in languages(*key):
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
            if is_arabic(word) if lang in BY_PREFIX else word[:START] in self.starts[lang]:
                for key in stems.get(family_stem(lang, word), ()):
                    found.setdefault(key, FAMILY_SCORE)
