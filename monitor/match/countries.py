"""Country tagging: UN member and observer states and Kosovo, by name, alias, demonym or place.

Country ids are ISO 3166-1 alpha-2 codes ("SD", "MM", "CD"; "XK" for Kosovo).
Names come from pycountry (English, and its French, Spanish, Portuguese,
Arabic, Russian and Ukrainian translations) plus the curated aliases,
demonyms, regions, places and groups in `monitor/data/gazetteer.toml`, with
their inflected forms in Russian and Ukrainian and their demonyms' forms in
those and in Arabic and Portuguese (`monitor.match.forms`).
Matching works on whole folded words
(`monitor.textnorm`), leftmost-longest, so "South Sudan" is not also
"Sudan", "Nigeria" is not "Niger", "woman" holds no "Oman" and "Guinea-Bissau"
is not "Guinea". Two guards keep common words out: names that are also
ordinary words ("turkey", "chad", "jordan") count only when capitalised in
the text, and acronyms ("DRC", "US", "CAR") only in their exact case; those
that spell a word ("US", "CAR") not in a text written all in capitals (a
shouted "CAR BOMB" is no country). Every Cyrillic name written capitalised
(all but demonyms) counts only capitalised, with all its case forms: "Газа"
(Gaza) is "газа" (of gas), "Мали" "мали" (Ukrainian "had").
A name pycountry gives to two countries (bare "Congo", "Korea") is dropped
unless curated: bare "Congo" is taken as the DRC, the Congo most reported
on; the Republic of the Congo is named in full or as Congo-Brazzaville.
"""

from __future__ import annotations

import gettext
import re
import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from pathlib import Path
from typing import Any

import pycountry

from monitor.match.family import is_cyrillic
from monitor.match.fold import Words, fold, fold_words, split, words
from monitor.match.forms import declined, demonym

GAZETTEER_FILE = Path(__file__).parent / "data" / "gazetteer.toml"
LANGUAGES = ("fr", "es", "pt", "ar", "ru", "uk")  # pycountry's translations beside English
CASE_LANGUAGES = ("ru", "uk")  # names declined (monitor.match.forms)


@dataclass(frozen=True)
class Alias:
    """One way of naming a country, as folded words and how strictly to compare them."""

    code: str
    words: tuple[str, ...]
    exact: tuple[str, ...] = ()  # original-case words for acronyms ("DRC"); empty = any case
    capital: bool = False  # first letter must be upper case in the text
    word_like: bool = False  # an acronym that spells a word ("US", "CAR"): not in all capitals


class Gazetteer:
    """Names to codes, and a scan of folded text for the countries it mentions."""

    def __init__(self, aliases: Iterable[Alias], names: dict[str, str]) -> None:
        self.names = names  # code -> display name
        self._by_first: dict[str, list[Alias]] = defaultdict(list)
        self._by_text: dict[str, str] = {}
        for alias in aliases:
            self._by_first[alias.words[0]].append(alias)
            self._by_text.setdefault(" ".join(alias.words), alias.code)
        for entries in self._by_first.values():
            entries.sort(key=lambda a: -len(a.words))  # longest name wins
        # The same lists split by the next word ("the gambia"), and the one-word names:
        # a text word begins few names that its next word can continue.
        self._firsts = frozenset(self._by_first)
        self._by_pair: dict[tuple[str, str], list[Alias]] = defaultdict(list)
        self._single: dict[str, list[Alias]] = defaultdict(list)
        for first, entries in self._by_first.items():
            for alias in entries:
                if len(alias.words) > 1:
                    self._by_pair[first, alias.words[1]].append(alias)
                else:
                    self._single[first].append(alias)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.names)

    def code(self, name: str) -> str | None:
        """The code of a country name, alias or code, any case; None if unknown."""
        name = name.strip()
        if name.upper() in self.names:
            return name.upper()
        return self._by_text.get(fold(name))

    def find(self, text: Words) -> Iterator[tuple[str, int, int]]:
        """(code, first word, last word) of each mention, leftmost-longest, not overlapping."""
        free = 0  # the first word not inside a mention already found
        # Only words that begin some name: a scan in C skips the rest.
        for i in compress(range(len(text.words)), map(self._firsts.__contains__, text.words)):
            if i < free:
                continue
            alias = self._alias_at(text, i)
            if alias is not None:
                yield alias.code, i, i + len(alias.words) - 1
                free = i + len(alias.words)

    def mentioned(self, *texts: Words) -> tuple[str, ...]:
        """Sorted unique codes mentioned in any of `texts`."""
        return tuple(sorted({code for t in texts for code, _, _ in self.find(t)}))

    def _alias_at(self, text: Words, i: int) -> Alias | None:
        # Longest first, as in _by_first: every name of two words or more, then one word.
        words = text.words
        pair = (words[i], words[i + 1]) if i + 1 < len(words) else None
        for alias in self._by_pair.get(pair, ()) if pair else ():
            end = i + len(alias.words)
            if words[i:end] == alias.words and _form_ok(alias, text, i, end):
                return alias
        for alias in self._single.get(words[i], ()):
            if _form_ok(alias, text, i, i + 1):
                return alias
        return None


def _form_ok(alias: Alias, text: Words, i: int, end: int) -> bool:
    if alias.capital and not text.text[text.spans[i][0]].isupper():
        return False
    if alias.exact:
        if alias.word_like and text.text.isupper():
            return False
        found = tuple(unicodedata.normalize("NFKC", text.text[a:b]) for a, b in text.spans[i:end])
        return found == alias.exact
    return True


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer built from pycountry and the curated data file (built once)."""
    data = tomllib.loads(GAZETTEER_FILE.read_text(encoding="utf-8"))
    codes = [*data["members"], *data["observers"]]
    names = {c: _country(c).name for c in codes}
    names.update({code: aliases[0] for code, aliases in data["extra"].items()})
    derived = _derived_names(codes, {fold(n) for n in data["names"]["drop"]})
    curated = [(n, c) for c, ns in {**data["aliases"], **data["extra"]}.items() for n in ns]
    return Gazetteer(_aliases(derived, curated + _local(data), data["names"]), names)


def _country(code: str) -> Any:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:  # only if the data file names a code pycountry lacks
        raise LookupError(f"{GAZETTEER_FILE}: {code} is not an ISO 3166-1 alpha-2 code")
    return country


def _derived_names(codes: list[str], drop: set[str]) -> dict[str, str]:
    """Folded official names (EN/FR/ES) -> code, minus dropped and ambiguous ones."""
    seen: dict[str, set[str]] = defaultdict(set)
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in LANGUAGES
    ]
    for code in codes:
        country = _country(code)
        english = [getattr(country, k, "") for k in ("name", "official_name", "common_name")]
        local = [
            (lang, t.gettext(country.name)) for lang, t in zip(LANGUAGES, translations, strict=True)
        ]
        forms = [*english, *(f for lang, n in local for f in _forms(_short_form(n), lang))]
        for name in filter(None, forms):
            seen[fold(_short_form(name))].add(code)
    return {n: next(iter(c)) for n, c in seen.items() if len(c) == 1 and n and n not in drop}


def _short_form(name: str) -> str:
    """ "Iran, Islamic Republic of" -> "Iran"; "Holy See (Vatican City State)" -> "Holy See"."""
    return re.sub(r"\s*\(.*?\)", "", name).split(",")[0]


def _forms(name: str, lang: str) -> list[str]:
    """A name and, in Russian or Ukrainian, its case forms."""
    return [name, *declined(name, lang)] if lang in CASE_LANGUAGES else [name]


def _local(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, code) of the [places.*] and [demonyms.*] tables, with their forms."""
    out = []
    for lang, table in data["places"].items():
        out += [(f, c) for c, names in table.items() for n in names for f in _forms(n, lang)]
    for lang, table in data["demonyms"].items():
        out += [(f, c) for c, names in table.items() for n in names for f in demonym(n, lang)]
    return out


def _aliases(
    derived: dict[str, str], curated: list[tuple[str, str]], rules: dict[str, Any]
) -> list[Alias]:
    capital = set(rules["capitalised"])
    acronyms = set(rules["case_sensitive"])
    word_like = set(rules["word_like"])
    # Curated names first: where a name is listed twice, the curated code wins. Derived
    # names are folded: a capitalised Cyrillic one is known by its folded form.
    capital |= {n for n in derived if is_cyrillic(n)} - {fold(n) for n, _ in curated}
    capital |= {fold(n) for n, _ in curated if is_cyrillic(n) and n[:1].isupper()}
    table = [*curated, *derived.items()]
    out = []
    for name, code in table:
        words = fold_words(name)
        exact = tuple(split(unicodedata.normalize("NFKC", name)))
        flags = (fold(name) in capital, name in word_like)
        out.append(Alias(code, words, exact if name in acronyms else (), *flags))
    return out


def country_code(name: str) -> str | None:
    """The alpha-2 code for a code or name ("SD", "Sudan", "Soudan", "Darfur"); None if unknown."""
    return gazetteer().code(name)


def country_name(code: str) -> str:
    """The English name of a code ("SD" -> "Sudan"); the code itself when unknown."""
    return gazetteer().names.get(code.upper(), code)


def mentioned(*texts: str) -> tuple[str, ...]:
    """Sorted unique codes mentioned in any of the given texts."""
    return gazetteer().mentioned(*(words(t) for t in texts))
