"""Places of the situations on the agenda, by id, in every language monitor reads.

`monitor/match/data/places.toml` names each place ("el-fasher") in English, French,
Spanish, Portuguese, Arabic, Russian and Ukrainian. Two reports in different languages
cannot be compared word by word; the places and figures they share are what tells that
they report one event (monitor.alerts.stories). Names are matched as whole folded words
(monitor.match.fold), longest first, so "Khan Younis" is one place and not "Khan".
`monitor/match/data/actors.toml` does the same for the people, armed groups, courts and
groups at risk the reports name.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from monitor.match.fold import fold_words

PLACES_FILE = Path(__file__).parent / "data" / "places.toml"
ACTORS_FILE = Path(__file__).parent / "data" / "actors.toml"
YEARS = range(1900, 2101)  # a number in this range is a year, not a count of people


class Places:
    """Place names (folded words) to place ids, and a scan of folded words for them."""

    def __init__(self, names: Iterable[tuple[str, str, bool]]) -> None:
        self.country: dict[str, str] = {}
        self.strong: set[str] = set()  # a place that is no region, an actor who is a person
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        # folded name -> the capitalised spellings it must appear in (a name that is a word)
        self._capital: dict[tuple[str, ...], list[re.Pattern[str]]] = defaultdict(list)
        for place, name, capital in names:
            words = fold_words(name)
            if capital:
                self._capital[words].append(re.compile(rf"(?<!\w){re.escape(name)}(?!\w)"))
            if words and (words, place) not in self._by_first[words[0]]:
                self._by_first[words[0]].append((words, place))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))  # the longest name wins

    def find(self, words: Sequence[str], text: str = "") -> frozenset[str]:
        """The ids of the places named in a sequence of folded words (`text`: the original,
        where a name that is also a word must be capitalised)."""
        found: set[str] = set()
        i = 0
        while i < len(words):
            step = 1
            for name, place in self._by_first.get(words[i], ()):
                if tuple(words[i : i + len(name)]) == name and self._written(name, text):
                    found.add(place)
                    step = len(name)
                    break
            i += step
        return frozenset(found)

    def _written(self, name: tuple[str, ...], text: str) -> bool:
        spellings = self._capital.get(name)
        return not spellings or any(p.search(text) for p in spellings)


def figures(words: Sequence[str]) -> frozenset[str]:
    """The counts a text gives ("75" killed, "1,200" displaced read as "1" and "200" by the
    folding, so only whole numbers of two digits or more that are not years)."""
    return frozenset(w for w in words if w.isdigit() and len(w) >= 2 and int(w) not in YEARS)


@lru_cache(maxsize=1)
def places() -> Places:
    """The places file, read once."""
    return _read(PLACES_FILE)


@lru_cache(maxsize=1)
def actors() -> Places:
    """The actors file (people, armed groups, courts, groups at risk), read once."""
    return _read(ACTORS_FILE)


def _read(path: Path) -> Places:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = Places(
        (pid, name, name in entry.get("capitalised", ()))
        for pid, entry in data.items()
        for name in entry["names"]
    )
    table.country.update(
        {pid: entry["country"] for pid, entry in data.items() if "country" in entry}
    )
    places_file = path == PLACES_FILE
    table.strong.update(
        pid for pid, e in data.items() if (not e.get("region") if places_file else e.get("person"))
    )
    return table
