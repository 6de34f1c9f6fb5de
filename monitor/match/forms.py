"""Inflected forms of gazetteer names: Russian and Ukrainian cases, demonym paradigms.

The gazetteer matches whole folded words, so a name is found in a text only
in the forms listed for it. Russian and Ukrainian decline names ("Судан",
"в Судане", "из Судана"; "Україна", "в Україні", "України"), so each Cyrillic
name gets its case forms here, generated from its ending: declinable
nouns (a consonant, -а, -я, -ь, -й, plural -ы/-и) in the genitive, dative,
accusative, instrumental and locative; foreign names ending in -о, -е,
-и/-і, -у are not declined ("Того", "Мали", "Перу" stay as they are). In a
name of several words, the adjectives before its head noun agree with it
("Южного Судана") and the words after it stay ("Республики Корея").
Where two paradigms could apply (a masculine or feminine -ь) both are
generated: a form that does not exist is never met in text, and costs a
dictionary entry. Vowel alternations ("Харків"/"Харкова") are generated for
Ukrainian; other irregular forms ("Египта") are listed in the data file.
Demonyms are adjectives (ru "суданский", uk "суданський": every gender,
number and case), Arabic nisba forms ("سوداني" -> "سودانية", "سودانيين",
"سودانيون", "سودانيات"; the article is folded off anyway) and Portuguese
gender and number ("sudanês" -> "sudanesa", "sudaneses"; "angolano" ->
"angolanas").
Pure functions, run once when the gazetteer is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import product

Cases = list[list[str]]  # per case (gen, dat, acc, ins, loc): the forms of one word
CASES = 5
_HUSHING = "гкхжчшщ"  # Russian: -ы after these is spelled -и
_SOFT_INS = "жчшщц"  # instrumental -ей/-ем after these
_UK_CONSONANT_I = re.compile(r"і([^аеєиіїоуюяь'’])$")  # "Харків": і -> о in other cases


def ru_noun(w: str) -> Cases:
    """The case forms of a Russian noun; [] when it is not declined."""
    s, last = w[:-1], w[-1:]
    if w.endswith("ия"):
        return [[s + "и"], [s + "и"], [s + "ю"], [s + "ей"], [s + "и"]]
    if last == "я":
        return [[s + "и"], [s + "е"], [s + "ю"], [s + "ей"], [s + "е"]]
    if last == "а":
        gen = s + ("и" if s[-1:] in _HUSHING else "ы")
        return [[gen], [s + "е"], [s + "у"], [s + "ой", s + "ей"], [s + "е"]]
    if w.endswith("ье"):
        return [[s + "я"], [s + "ю"], [w], [s + "ем"], [w]]
    if last == "ь":  # masculine ("Израиль") or feminine ("Беларусь")
        return [
            [s + "я", s + "и"],
            [s + "ю", s + "и"],
            [w],
            [s + "ем", s + "ью"],
            [s + "е", s + "и"],
        ]
    if last == "й":
        loc = [s + "е", s + "и"] if w.endswith("ий") else [s + "е"]
        return [[s + "я"], [s + "ю"], [w], [s + "ем"], loc]
    if last == "ы" or w.endswith("цы"):  # plural names ("Нидерланды", "суданцы")
        many = [s + "ев"] if s.endswith("ц") else [s + "ов", s]
        return [many, [s + "ам"], [w], [s + "ами"], [s + "ах"]]
    if w.endswith("ец") and len(w) > 4:  # "суданец" -> "суданца"
        c = w[:-2] + "ц"
        return [[c + "а"], [c + "у"], [c + "а"], [c + "ем"], [c + "е"]]
    if _consonant(last):
        ins = w + ("ем" if last in _SOFT_INS else "ом")
        return [[w + "а"], [w + "у"], [w], [ins], [w + "е"]]
    return []


def uk_noun(w: str) -> Cases:
    """The case forms of a Ukrainian noun; [] when it is not declined."""
    s, last = w[:-1], w[-1:]
    if last == "я" and s[-1:] in "іеи":  # "Сирія", "Гвінея"
        return [[s + "ї"], [s + "ї"], [s + "ю"], [s + "єю"], [s + "ї"]]
    if last == "я":  # "Запоріжжя" (neuter) or a feminine
        return [[s + "і", w], [s + "ю", s + "і"], [s + "ю", w], [s + "ям", s + "ею"], [s + "і"]]
    if last == "а":
        gen = [s + "и", s + "і"] if s[-1:] in "жчшщ" else [s + "и"]
        loc = [_uk_alternate(s) + "і"]
        return [gen, loc, [s + "у"], [s + "ою", s + "ею"], loc]
    if last == "и":  # plural names ("Філіппіни", "Нідерланди")
        return [[s + "ів", s], [s + "ам"], [w], [s + "ами"], [s + "ах"]]
    if w.endswith("ці") and len(w) > 4:  # plural demonyms ("українці")
        return [[s + "ів"], [s + "ям"], [s + "ів"], [s + "ями"], [s + "ях"]]
    if w.endswith("ець") and len(w) > 5:  # "українець" -> "українця"
        c = w[:-3] + "ц"
        return [[c + "я"], [c + "ю"], [c + "я"], [c + "ем"], [c + "і", c + "ю"]]
    if last == "ь":
        return [[s + "я", s + "і"], [s + "ю"], [w], [s + "ем"], [s + "і"]]
    if last == "й":
        return [[s + "ю", s + "я"], [s + "ю"], [w], [s + "єм"], [s + "ї"]]
    if _consonant(last):
        stems = [w]
        alternated = _UK_CONSONANT_I.sub(r"о\1", w)
        if alternated != w:
            stems.append(alternated)
        ins = "ем" if last in _SOFT_INS else "ом"
        return [
            [x + e for x in stems for e in ("у", "а")],
            [x + e for x in stems for e in ("у", "ові")],
            [w],
            [x + ins for x in stems],
            [x + "і" for x in stems],
        ]
    return []


def _uk_alternate(s: str) -> str:
    """The stem of -а nouns in the dative and locative: "Африка" -> "Африці"."""
    return s[:-1] + {"к": "ц", "г": "з", "х": "с"}[s[-1]] if s[-1:] in "кгх" else s


def _consonant(c: str) -> bool:
    return (
        bool(c) and c.isalpha() and c.lower() not in "аеёиіїоуыэюяєьъй" and "а" <= c.lower() <= "ґ"
    )


# Adjective endings, nominative -> the five cases (agreeing with a head noun), per language.
_ADJ: dict[str, dict[str, list[list[str]]]] = {
    "ru": {
        "ский": [["ского"], ["скому"], ["ский"], ["ским"], ["ском"]],
        "ый": [["ого"], ["ому"], ["ый"], ["ым"], ["ом"]],
        "ий": [["его", "ого"], ["ему", "ому"], ["ий"], ["им"], ["ем", "ом"]],
        "ой": [["ого"], ["ому"], ["ой"], ["ым", "им"], ["ом"]],
        "ая": [["ой"], ["ой"], ["ую"], ["ой"], ["ой"]],
        "яя": [["ей"], ["ей"], ["юю"], ["ей"], ["ей"]],
        "ое": [["ого"], ["ому"], ["ое"], ["ым", "им"], ["ом"]],
        "ее": [["его"], ["ему"], ["ее"], ["им"], ["ем"]],
        "ые": [["ых"], ["ым"], ["ые"], ["ыми"], ["ых"]],
        "ие": [["их"], ["им"], ["ие"], ["ими"], ["их"]],
    },
    "uk": {
        "ий": [["ого"], ["ому"], ["ий"], ["им"], ["ому", "ім"]],
        "ій": [["ього"], ["ьому"], ["ій"], ["ім"], ["ьому", "ім"]],
        "а": [["ої"], ["ій"], ["у"], ["ою"], ["ій"]],
        "е": [["ого"], ["ому"], ["е"], ["им"], ["ому", "ім"]],
        "і": [["их"], ["им"], ["і"], ["ими"], ["их"]],
    },
}
# A demonym in every gender and number: masculine singular -> its other nominatives.
_DEMONYM_NOM = {"ru": {"ский": ["ская", "ское", "ские"], "ий": ["ая", "ое", "ие"],
                       "ый": ["ая", "ое", "ые"]},
                "uk": {"ий": ["а", "е", "і"]}}  # fmt: skip


def _adjective(w: str, lang: str) -> Cases:
    for ending, cases in _ADJ[lang].items():
        if w.endswith(ending) and len(w) > len(ending) + 2:
            base = w[: -len(ending)]
            return [[base + e for e in forms] for forms in cases]
    return []


def _is_adjective(w: str, lang: str) -> bool:
    if lang == "uk" and w[-1:] in "аеі":  # "Південна", "Об’єднані": adjectival suffixes only
        return bool(re.search(r"(ськ|цьк|зьк|н|ов|ів|ик)[аеі]$", w))
    return bool(_adjective(w, lang))


_NOUN: dict[str, Callable[[str], Cases]] = {"ru": ru_noun, "uk": uk_noun}


def _word(w: str, lang: str) -> Cases:
    """A hyphenated word declines in its last part ("Эль-Фашера", "Шри-Ланки"), or in its
    first when the last is not declined ("Гвинеи-Бисау")."""
    head, sep, tail = w.rpartition("-")
    if not sep:
        return _NOUN[lang](w)
    if cases := _NOUN[lang](tail):
        return [[f"{head}-{f}" for f in forms] for forms in cases]
    return [[f"{f}-{tail}" for f in forms] for forms in _NOUN[lang](head)]


def declined(name: str, lang: str) -> list[str]:
    """The case forms of a Russian or Ukrainian name (without the name itself)."""
    words = name.split(" ")
    for head, w in enumerate(words):
        if not _is_adjective(w, lang) or head == len(words) - 1:
            break
    cases = _word(words[head], lang)
    if not cases:
        return []
    table = [_adjective(w, lang) for w in words[:head]]
    out: list[str] = []
    for case in range(CASES):
        columns = [t[case] for t in table] + [cases[case]]
        for parts in product(*columns):
            out.append(" ".join([*parts, *words[head + 1 :]]))
    return [f for f in dict.fromkeys(out) if f != name]


def demonym(word: str, lang: str) -> list[str]:
    """The forms of a demonym given in the masculine singular (the word included)."""
    if lang in _DEMONYM_NOM:
        for ending, noms in _DEMONYM_NOM[lang].items():
            if word.endswith(ending):
                base = word[: -len(ending)]
                forms = [word, *(base + e for e in noms)]
                cases = [f for n in forms for fs in _adjective(n, lang) for f in fs]
                return list(dict.fromkeys([*forms, *cases]))
        return [word, *declined(word, lang)]
    if lang == "ar":  # nisba: -ي, -ية, -يين, -يون, -يات
        return [word, *(word + e for e in ("ة", "ين", "ون", "ات"))]
    if lang == "pt":
        return _portuguese(word)
    return [word]


def _portuguese(word: str) -> list[str]:
    if word.endswith("ês"):
        base = word[:-2] + "es"
        return [word, base + "a", base + "es", base + "as"]
    if word.endswith("o"):
        return [word, word[:-1] + "a", word + "s", word[:-1] + "as"]
    return [word, word + "s"]
