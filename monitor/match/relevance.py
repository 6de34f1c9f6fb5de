"""The learned relevance model at run time: load the shipped file, score items, say why.

The file (`data/relevance.json.gz`, written by `make model` from corpus/) holds two linear
models over `monitor.match.features`: the probability that an item deserves an alert, and,
for a model-decided alert, the theme it reads most like. Scoring adds, for each word, the
weights of the features it brings (cached per distinct word: words repeat across items),
plus the weights of the word pairs, scales by the square root of the number of feature
occurrences and applies the logistic function. Nothing is downloaded; a missing or damaged
file is a configuration error naming the file.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise, repeat
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from monitor.errors import ConfigError
from monitor.match.features import GRAMS, MAX_WORDS
from monitor.match.themes import Themes, logistic

CACHE_SIZE = 200_000  # distinct words whose weight is remembered; cleared when full
_REAL = attrgetter("real")
_new = tuple.__new__


class Evidence(NamedTuple):
    """One word or word pair of an item and how much it moved the score (log-odds); a
    NamedTuple: an item the model decides alone gets one per word and per pair."""

    field: str
    first: int  # word index in the field
    last: int
    weight: float


class Linear:
    """One logistic model: bias and feature weights."""

    def __init__(self, bias: float, weights: Mapping[str, float]) -> None:
        self.bias = bias
        self.weights = dict(weights)
        # Word pairs keyed by (first, second), so scoring never builds a feature string;
        # a word's own features keyed without their "w:" / "c:" prefix, so a new word's
        # weight is looked up from slices of the word (`_grams`), not from f-strings.
        self._pairs: dict[tuple[str, str], float] = {}
        self._own: dict[str, float] = {}  # "w:massacre" -> "massacre"
        self._gram: dict[str, float] = {}  # "c:<ma" -> "<ma"
        for feature, weight in list(self.weights.items()):
            kind, rest = feature[:2], feature[2:]
            if kind == "b:":
                first, _, second = rest.partition(" ")
                self._pairs[first, second] = weight
            elif kind == "w:":
                self._own[rest] = weight
            elif kind == "c:":
                self._gram[rest] = weight
            else:
                continue  # no feature of `word_features` has another kind
            del self.weights[feature]  # held once, in its table
        # A model trained on words alone (the theme models) is scored on words alone: each
        # word one feature occurrence, no n-grams, no pairs, as it was trained.
        self._words_only = not self._gram and not self._pairs
        # Per distinct word, its own features' summed weight and their number, held as one
        # complex number (weight + count j): one C-level sum over a field adds up both.
        self._words: dict[str, complex] = {}

    def word(self, word: str) -> float:
        """The summed weight of a word's own features."""
        return self._known(word).real

    def _known(self, word: str) -> complex:
        known = self._words.get(word)
        if known is None:
            known = self._weigh(word)
            if len(self._words) >= CACHE_SIZE:
                self._words.clear()
            self._words[word] = known
        return known

    def _weigh(self, word: str) -> complex:
        if self._words_only:
            return complex(self._own.get(word, 0.0), 1)
        # `word_features(word)` summed in its order (the word, then its n-grams by n and
        # position: the same floating-point sum), every slice taken and looked up in C.
        marked = f"<{word}>"
        cuts = _cuts(len(marked))
        grams = map(self._gram.get, map(marked.__getitem__, cuts), repeat(0.0))
        start = 0.0 + self._own.get(word, 0.0)  # as sum() from 0 begins: 0.0 + the first
        return complex(sum(grams, start), len(cuts) + 1)

    def probability(self, fields: Sequence[Sequence[str]]) -> float:
        # The model's hot path (every item of every feed): two whole-field passes in C over
        # per-word caches and the pair table; Python touches only words never seen before.
        total = 0j
        pairs = 0.0
        for words in fields:
            if len(words) > MAX_WORDS:
                words = words[:MAX_WORDS]
            try:
                total += sum(map(self._words.__getitem__, words))
            except KeyError:  # words never seen before: weigh them, then the same sum
                total += sum(map(self._known, words))
            if not self._words_only:
                pairs += sum(map(self._pairs.get, pairwise(words), repeat(0.0)))
                total += max(0, len(words) - 1) * 1j  # every pair is a feature occurrence
        count = total.imag
        weight = total.real + pairs
        return logistic(self.bias + (weight / math.sqrt(count) if count else 0.0))

    def evidence(self, named: Mapping[str, Sequence[str]]) -> list[Evidence]:
        """Each word and pair's contribution, before scaling: the strongest explain a score."""
        out: list[Evidence] = []
        for field, words in named.items():
            words = words[:MAX_WORDS]
            at = range(len(words))
            try:  # as in `probability`: the cached words in C, new ones weighed first
                known = list(map(self._words.__getitem__, words))
            except KeyError:
                known = list(map(self._known, words))
            # Each Evidence built in C (tuple.__new__: a NamedTuple without its __new__).
            words_at = zip(repeat(field), at, at, map(_REAL, known))  # as `word` gives
            out += map(_new, repeat(Evidence), words_at)
            pairs = map(self._pairs.get, pairwise(words), repeat(0.0))
            out += map(_new, repeat(Evidence), zip(repeat(field), at, range(1, len(words)), pairs))
        return out


@lru_cache(maxsize=256)
def _cuts(length: int) -> tuple[slice, ...]:
    """The slices of a marked word of `length` characters that give its n-grams, in the
    order of `word_features`."""
    return tuple(slice(i, i + n) for n in GRAMS for i in range(length - n + 1))


@dataclass(frozen=True)
class Decision:
    """The thresholds of the rules-plus-model decision (see monitor.match.decision)."""

    veto: float  # a rule's match is dropped when the probability is below this
    alone: float  # with no rule firing, the model alerts from this probability
    # ... and from this one for an item with no summary (a headline carries fewer words, so
    # the model is less sure of it); None: `alone` for every item
    alone_headline: float | None = None

    def alone_for(self, headline: bool) -> float:
        """The model-alone threshold for an item (headline: it has no summary)."""
        return self.alone if not headline or self.alone_headline is None else self.alone_headline


class Relevance:
    """The shipped model: `probability` of an item, `themes` ranked for one, `evidence`."""

    def __init__(self, content: Mapping[str, Any], source: str = "model") -> None:
        try:
            rel = content["relevance"]
            self.model = Linear(float(rel["bias"]), rel["weights"])
            self.theme_models = Themes(content.get("themes", {}))
            d = content["decision"]
            headline = d.get("alone_headline")
            self.decision = Decision(
                float(d["veto"]), float(d["alone"]), None if headline is None else float(headline)
            )
            self.trained_on = dict(content.get("trained_on", {}))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            msg = f"{source}: not a relevance model file ({e!r}); run `make model`"
            raise ConfigError([msg]) from e

    def probability(self, fields: Sequence[Sequence[str]]) -> float:
        return self.model.probability(fields)

    def themes(self, fields: Sequence[Sequence[str]]) -> list[tuple[str, float]]:
        """Every theme with its probability, most likely first (ties by name)."""
        return self.theme_models.ranked(fields)

    def evidence(self, named: Mapping[str, Sequence[str]]) -> list[Evidence]:
        return self.model.evidence(named)


def load(path: Path | None = None) -> Relevance:
    """The model at `path`, or the one shipped in the package (read once per file version:
    every reload would otherwise parse it again)."""
    stamp = None
    if path is not None:
        try:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError as e:
            msg = f"{path}: cannot read the relevance model: {e}; run `make model`"
            raise ConfigError([msg]) from e
    return _load(path, stamp)


@lru_cache(maxsize=4)
def _load(path: Path | None, stamp: tuple[int, int] | None) -> Relevance:
    name = str(path) if path else "monitor/match/data/relevance.json.gz"
    try:
        if path is None:
            raw = resources.files("monitor.match").joinpath("data/relevance.json.gz").read_bytes()
        else:
            raw = path.read_bytes()
        content = json.loads(gzip.decompress(raw))
    except (OSError, EOFError, ValueError) as e:
        msg = f"{name}: cannot read the relevance model: {e}; run `make model`"
        raise ConfigError([msg]) from e
    return Relevance(content, name)
