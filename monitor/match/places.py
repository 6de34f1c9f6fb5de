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

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from monitor.match.countries import Alias, Gazetteer
from monitor.match.fold import Words, fold_words

PLACES_FILE = Path(__file__).parent / "data" / "places.toml"
ACTORS_FILE = Path(__file__).parent / "data" / "actors.toml"
YEARS = range(1900, 2101)  # a number in this range is a year, not a count of people


@dataclass(frozen=True)
class Places:
    """Ids by name, scanned as the gazetteer scans country names (whole folded words, the
    longest name first, a name that is also a word only capitalised); each place's country,
    and which ids are strong signs of one event (a town or site, a named person)."""

    names: Gazetteer
    country: Mapping[str, str]
    strong: frozenset[str]

    def find(self, *texts: Words) -> frozenset[str]:
        """The ids named in any of `texts`."""
        return frozenset(self.names.mentioned(*texts))


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
    aliases = [
        Alias(pid, fold_words(name), capital=name in entry.get("capitalised", ()))
        for pid, entry in data.items()
        for name in entry["names"]
    ]
    places_file = path == PLACES_FILE
    return Places(
        Gazetteer(aliases, {pid: pid for pid in data}),
        {pid: e["country"] for pid, e in data.items() if "country" in e},
        frozenset(
            pid
            for pid, e in data.items()
            if (not e.get("region") if places_file else e.get("person"))
        ),
    )
