"""The relevance model's features of one item: the same function trains and scores.

An item's features are its folded words (`w:`), adjacent word pairs within a field (`b:`),
and the character 3- to 5-grams of each word with its boundaries marked (`c:<ma`, `c:sacr`),
which carry a word's family across languages and inflections ("massacre", "masacraron",
"massacrés") without a stemmer. A word's own features do not depend on its neighbours, so
they are produced once per distinct word (`word_features`, cached) and a scorer can cache a
word's weight the same way. The vector is the feature counts divided by the square root of
the number of feature occurrences: long summaries do not outweigh headlines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import pairwise

GRAMS = (3, 4, 5)
MAX_WORDS = 400  # words read per field: a summary's first few hundred words decide


@lru_cache(maxsize=100_000)
def word_features(word: str) -> tuple[str, ...]:
    """The features a folded word brings wherever it stands: itself and its n-grams."""
    marked = f"<{word}>"
    grams = [f"c:{marked[i : i + n]}" for n in GRAMS for i in range(len(marked) - n + 1)]
    return (f"w:{word}", *grams)


def pairs(words: Sequence[str]) -> list[str]:
    """The adjacent-word features of one field's folded words."""
    return [f"b:{a} {b}" for a, b in pairwise(words)]


def item_features(fields: Iterable[Sequence[str]]) -> list[str]:
    """Every feature occurrence of an item whose fields are given as folded words."""
    out: list[str] = []
    for words in fields:
        words = words[:MAX_WORDS]
        for word in words:
            out += word_features(word)
        out += pairs(words)
    return out
