"""Text normalisation for matching: words folded for comparison, spans kept for display.

A text becomes a sequence of words. A word is a run of letters and digits
(with any combining accents inside it); everything else - spaces,
punctuation, hyphens, apostrophes - separates words, so "El-Fasher" is
two words and "d'Ivoire" is "d" + "ivoire". Each word is folded by
`fold_word`: Unicode compatibility decomposition (NFKD, so ligatures and
full-width forms become plain letters), case folding, and removal of
combining marks (so "Génocide" and "GENOCIDE" both become "genocide").
Every folded word keeps the span of the original word, so a match can be
shown as it appeared in the feed.

Pure functions; the folding of a word is cached because words repeat.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain, compress
from operator import not_

# Letters, digits and combining marks (decomposed accents). "\w" also takes "_",
# which `_scannable` turns into a space first: one plain class is twice as fast.
# Arabic vowel marks (harakat, tanween, shadda, sukun, superscript alef, Quranic signs)
# too: they sit inside words, and a word split at each mark would be letters.
_MARKS = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
)
WORD_RE = re.compile(rf"[\w{_MARKS}]+")
_SPAN = re.Match.span
_GROUP = re.Match.group
# UTF-8 bytes: ASCII letters lower-cased, ASCII digits and every non-ASCII byte kept, any
# other ASCII byte a space. Splitting the result on whitespace gives runs: an ASCII run is
# one folded word, a run with non-ASCII characters is folded word by word (`_fold_run`).
_RUNS = bytes(c + 32 * (65 <= c <= 90) if c > 127 or chr(c).isalnum() else 32 for c in range(256))
# Arabic letters written in several ways, unified (the hamza forms of alef, waw and yeh are
# already their base letters once NFKD has split off the hamza mark, which is dropped):
# tatweel removed, alef wasla, alef maksura and Persian yeh/kaf to alef, yeh and kaf, teh
# marbuta to heh; Arabic-Indic and Persian digits to ASCII digits, so figures compare.
_ARABIC = str.maketrans(
    {"\u0640": None, "\u0671": "\u0627", "\u0649": "\u064a", "\u06cc": "\u064a",
     "\u06a9": "\u0643", "\u0629": "\u0647"}
    | {chr(0x0660 + d): str(d) for d in range(10)}
    | {chr(0x06F0 + d): str(d) for d in range(10)}
)  # fmt: skip
_ARABIC_LETTERS = re.compile("[\u0620-\u064a]")
# The conjunctions wa and fa, the prepositions bi, li, ka, and the article al, alone or
# combined (li + al is written "لل"): longest first.
_PREFIXES = ("وال", "فال", "بال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
_ROOT = 3  # letters a word keeps: no stripping leaves fewer
SNIPPET_WIDTH = 60
ELLIPSIS = "…"


class Words:
    """A text split into folded words; `spans` gives each word's (start, end) in the original."""

    __slots__ = ("_spans", "text", "words")

    def __init__(
        self, text: str, words: tuple[str, ...], spans: tuple[tuple[int, int], ...] | None = None
    ) -> None:
        self.text = text  # the original text
        self.words = words  # folded words
        self._spans = spans

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        # Computed on first use: most texts match nothing and never need them.
        if self._spans is None:
            if self.text.isascii():
                self._spans = _ascii_spans(self.text, self.words)
                return self._spans
            found = list(finditer(self.text))
            if not _one_each(list(map(_GROUP, found))):
                self._spans = tuple(m.span() for m in found for _ in _parts(m.group()))
            else:  # every word folds to one word: the usual case, all in C
                self._spans = tuple(map(_SPAN, found))
        return self._spans

    def original(self, first: int, last: int) -> str:
        """The original text from word `first` to word `last` inclusive."""
        return self.text[self.spans[first][0] : self.spans[last][1]]

    def snippet(self, first: int, last: int, width: int = SNIPPET_WIDTH) -> str:
        """About `width` characters of original text either side of words first..last."""
        return snippet(self.text, self.spans[first][0], self.spans[last][1], width)


Texts = dict[str, Words]  # an item's fields folded, by name: "summary", "title" ("article")
ARTICLE_BYTES = 20 * 1024  # of an article's text, matched beside a teaser's title and summary


def texts(title: str, summary: str) -> Texts:
    """An item's title and summary folded, once for everything that reads them (countries,
    rules, the model, the story key). Summary first, as the fields sort: a term in both is
    explained by its first occurrence."""
    return {"summary": words(summary), "title": words(title)}


def with_article(folded: Texts, article: str) -> Texts:
    """The item's texts with its article page's text (its first ARTICLE_BYTES, UTF-8) as the
    field "article", read after title and summary: a term in both is explained by the feed."""
    if not article:
        return folded
    raw = article.encode("utf-8")
    if len(raw) > ARTICLE_BYTES:
        article = raw[:ARTICLE_BYTES].decode("utf-8", "ignore")
    return {**folded, "article": words(article)}


def split(text: str) -> list[str]:
    """The words of `text` as written (not folded)."""
    return WORD_RE.findall(_scannable(text))


def finditer(text: str) -> Iterator[re.Match[str]]:
    """The words of `text` as regex matches, for their spans."""
    return WORD_RE.finditer(_scannable(text))


def _scannable(text: str) -> str:
    # Same length, so spans found in the result are spans in `text`.
    return text.replace("_", " ") if "_" in text else text


@lru_cache(maxsize=65536)
def fold_word(word: str) -> tuple[str, ...]:
    """Fold one original word; usually one word, more when compatibility forms split it."""
    if word.isascii():
        return (word.lower(),)
    # Decompose before and after case folding: "𝑨" has no case until NFKD makes it "A".
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", word).casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Compatibility forms may expand to several words ("ﷺ") or to nothing.
    folded = split(unicodedata.normalize("NFC", stripped).translate(_ARABIC))
    return tuple(_clitics(w) if _ARABIC_LETTERS.search(w) else w for w in folded)


def _clitics(word: str) -> str:
    """An Arabic word without its article and clitic prefixes: "والإبادة" and "بالإبادة"
    find "إبادة". Stripped again and again, longest first, while three letters remain, so a
    word and any prefixed form of it meet in one form ("للاجئين", "واللاجئين" and "لاجئين"
    all give "اجئين"), however the word itself begins: both sides are folded alike."""
    while True:
        for prefix in _PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= _ROOT:
                word = word[len(prefix) :]
                break
        else:
            return word


def words(text: str) -> Words:
    """Split `text` into folded words with their original spans."""
    # Spans are computed only when asked for: most texts match nothing.
    return Words(text, fold_words(text))


def _runs(text: str) -> list[str]:
    # Surrogates cannot be UTF-8; "surrogatepass" keeps them for `_fold_run` to drop.
    return (
        text.encode("utf-8", "surrogatepass")
        .translate(_RUNS)
        .decode("utf-8", "surrogatepass")
        .split()
    )


@lru_cache(maxsize=65536)
def _fold_run(run: str) -> tuple[str, ...]:
    # ASCII letters are already lower-cased: case folding would do the same to them.
    return tuple(chain.from_iterable(map(fold_word, split(run))))


def _ascii_spans(text: str, words: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """The spans of an ASCII text's words: they are its runs of letters and digits, the
    same runs lower-cased in `_runs`, so each is found in order in that string (a word
    holds no space: it cannot be found across its predecessor's end). Twice as fast as the
    regex: no match object per word."""
    low = text.encode("ascii").translate(_RUNS).decode("ascii")
    find = low.find
    spans = []
    end = 0
    for word in words:
        start = find(word, end)
        end = start + len(word)
        spans.append((start, end))
    return tuple(spans)


def _one_each(words: list[str]) -> bool:
    """Whether each of `words` folds to exactly one word (the ASCII ones always do)."""
    odd = compress(words, map(not_, map(str.isascii, words)))
    return all(len(fold_word(w)) == 1 for w in odd)


def _parts(word: str) -> tuple[str, ...]:
    return (word,) if word.isascii() else fold_word(word)


def fold_words(text: str) -> tuple[str, ...]:
    """Only the folded words of `text`: `fold_word` of each word of `split(text)`."""
    runs = _runs(text)
    if text.isascii():
        return tuple(runs)
    out: list[str] = []
    for run in runs:
        if run.isascii():  # most words, even in French, Spanish or with curly quotes
            out.append(run)
        else:
            out += _fold_run(run)
    return tuple(out)


def fold(text: str) -> str:
    """`text` folded and with words joined by one space: the comparable form of a phrase."""
    return " ".join(fold_words(text))


def snippet(text: str, start: int, end: int, width: int = SNIPPET_WIDTH) -> str:
    """text[start:end] with about `width` characters either side, cut at spaces, "…" at cuts."""
    lo = max(0, start - width)
    hi = min(len(text), end + width)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    body = " ".join(text[lo:hi].split())
    return (ELLIPSIS if lo > 0 else "") + body + (ELLIPSIS if hi < len(text) else "")
