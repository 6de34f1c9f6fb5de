"""One story across languages: what two reports in different languages must share to be
taken for reports of one event, since their words cannot be compared.

A report's anchors are the places of the situations it names (monitor.match.places: one
id for "El Fasher", "الفاشر" and "Эль-Фашере"), the people, armed groups, courts and groups
it names (one id for "Putin", "بوتين", "Путина") and the counts it gives ("75" killed).
Two reports in different languages, which already fired rules of a common theme within the
story window (monitor.alerts.stories) and name no different countries, are one story when they
share a strong anchor (a town or a site, or a named person) or two anchors that are not both
figures (a region and an armed group; a court and a group at risk); a region, a court or a
figure alone is not enough: those are in the news every day. Measured on real pairs of the
corpus (corpus/pairs.py; rules/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from sys import intern

from monitor.match import language
from monitor.match.fold import words
from monitor.match.places import actors, figures, places

SAME = 100.0  # a town, a site or a person in common: one event
TWO = 95.0  # two anchors in common, not both figures
APART = 0.0


@lru_cache(maxsize=4096)  # a poll's candidates are placed right after they are built
def anchors(title: str, summary: str, lang: str | None = None) -> tuple[str | None, frozenset[str]]:
    """The report's language (`lang` when already known) and its anchors: "p:<place id>",
    "a:<actor id>" ("p!:" and "a!:" when strong) and "n:<figure>"."""
    texts = (words(title), words(summary))
    found = {f"n:{n}" for t in texts for n in figures(t.words)}
    for kind, table in (("p", places()), ("a", actors())):
        for i in table.find(*texts):
            found.add(f"{kind}{'!' if i in table.strong else ''}:{i}")
    # kept with every report of the window: the same anchor is one string, not one a report
    return lang or language.detect(title, summary), frozenset(map(intern, found))


def similarity(
    countries_a: Sequence[str], anchors_a: frozenset[str],
    countries_b: Sequence[str], anchors_b: frozenset[str],
) -> float:  # fmt: skip
    """SAME, TWO or APART for two reports in different languages (a place named counts as
    its country named, where the country tagger missed it)."""
    a, b = _countries(countries_a, anchors_a), _countries(countries_b, anchors_b)
    if a and b and not a & b:
        return APART
    shared = anchors_a & anchors_b
    if any(x[1] == "!" for x in shared):
        return SAME
    return TWO if len(shared) >= 2 and any(not x.startswith("n:") for x in shared) else APART


def _countries(tagged: Sequence[str], anchors: frozenset[str]) -> set[str]:
    of = places().country
    ids = (a.partition(":")[2] for a in anchors if a.startswith("p"))
    return {*tagged, *(of[i] for i in ids if i in of)}
