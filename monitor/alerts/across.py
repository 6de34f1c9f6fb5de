"""One story across languages: what two reports in different languages must share to be
taken for reports of one event, since their words cannot be compared.

A report's anchors are the places of the situations it names (monitor.match.places: one
id for "El Fasher", "الفاشر" and "Эль-Фашере") and the counts it gives ("75" killed). Two
reports in different languages, which already fired a common rule within the story window
(monitor.alerts.stories), are one story when they name a common country and share a place
and a figure, or two places; a shared place alone is not enough (a city under attack is
reported every day), nor a figure alone. Measured on real pairs of the corpus: rules/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.match import language
from monitor.match.fold import fold_words
from monitor.match.places import figures, places

SAME = 100.0  # a place and a figure in common: one event
PLACES = 95.0  # two places in common
APART = 0.0

_CACHE: dict[tuple[str, str], tuple[str | None, frozenset[str]]] = {}
_CACHE_SIZE = 4096


def anchors(title: str, summary: str, lang: str | None = None) -> tuple[str | None, frozenset[str]]:
    """The report's language (`lang` when already known) and its anchors: "p:<place id>"
    and "n:<figure>"."""
    key = (title, summary)
    got = _CACHE.get(key)
    if got is None:
        words = [*fold_words(title), *fold_words(summary)]
        named = places().find(words, f"{title}\n{summary}")
        found = {f"p:{p}" for p in named} | {f"n:{n}" for n in figures(words)}
        got = (lang or language.detect(title, summary), frozenset(found))
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()  # bounded: a poll's candidates are placed right after they are built
        _CACHE[key] = got
    return got


def similarity(
    countries_a: Sequence[str], anchors_a: frozenset[str],
    countries_b: Sequence[str], anchors_b: frozenset[str],
) -> float:  # fmt: skip
    """SAME, PLACES or APART for two reports in different languages."""
    if not set(countries_a) & set(countries_b):
        return APART
    shared = anchors_a & anchors_b
    shared_places = sum(a.startswith("p:") for a in shared)
    if shared_places and len(shared) > shared_places:
        return SAME
    return PLACES if shared_places >= 2 else APART
