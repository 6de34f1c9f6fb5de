"""The theme models at run time: which theme a model-decided alert reads most like.

The model file holds one words-only logistic model per theme (one against the rest over the
positives' categories). Held as eleven models they were eleven dictionaries of mostly the
same words (79,000 entries for 9,500 distinct words, about 9 MB) plus a per-word cache each;
here the words are one table, each word's weights for every theme one row of a flat array
of doubles (about 2 MB). Scoring adds the rows of an item's words in the order the words
stand, field by field, as a separate model per theme would: the same sums, the same floats.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from operator import add
from typing import Any

from monitor.match.features import MAX_WORDS


class Themes:
    """Every theme's probability for an item, from the file's `themes` section."""

    def __init__(self, models: Mapping[str, Mapping[str, Any]]) -> None:
        self.names = tuple(sorted(models))
        self.biases = tuple(float(models[t]["bias"]) for t in self.names)
        width = len(self.names)
        self._index: dict[str, int] = {}
        rows: list[list[float]] = []
        for column, name in enumerate(self.names):
            for feature, weight in models[name]["weights"].items():
                if not feature.startswith("w:"):  # trained on words alone: nothing else counts
                    raise ValueError(f"theme {name}: feature {feature!r} is not a word")
                row = self._index.setdefault(feature[2:], len(rows))
                if row == len(rows):
                    rows.append([0.0] * width)
                rows[row][column] = float(weight)
        self._weights = array("d", (w for row in rows for w in row))

    def ranked(self, fields: Sequence[Sequence[str]]) -> list[tuple[str, float]]:
        """Every theme with its probability, most likely first (ties by name)."""
        scored = zip(self.names, self.probabilities(fields), strict=True)
        return sorted(scored, key=lambda ts: (-ts[1], ts[0]))

    def probabilities(self, fields: Sequence[Sequence[str]]) -> list[float]:
        width = len(self.names)
        totals = [0.0] * width
        count = 0
        for words in fields:
            words = words[:MAX_WORDS]
            sums = [0.0] * width
            for word in words:
                row = self._index.get(word)
                if row is not None:  # a word no theme weighs adds nothing to any sum
                    start = row * width
                    sums = list(map(add, sums, self._weights[start : start + width]))
            totals = list(map(add, totals, sums))
            count += len(words)  # each word is one feature occurrence, as trained
        root = math.sqrt(count)
        return [
            logistic(b + (t / root if count else 0.0))
            for b, t in zip(self.biases, totals, strict=True)
        ]


def logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= -700 else 0.0
