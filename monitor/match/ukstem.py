"""A small Ukrainian stemmer of our own: case, number and verb endings off a folded word.

Snowball has no Ukrainian stemmer, so word families in `uk` use this one. It
works on folded words (`monitor.match.fold`: lower case, no combining marks,
so "й" is "и" and "ї" is "і") and only ever removes a suffix, so a stem
starts with its word's first letters, as the family index needs. It is
conservative: one ending comes off, the longest that leaves a stem of at
least MIN_LEFT letters with a vowel in it, then a final soft sign and a
doubled last consonant (so "катування"/"катувань" meet at "катуван").
Nothing else is rewritten (no vowel alternations: "Харків"/"Харкова" stay
apart; the gazetteer lists such forms itself). Where an ending is ambiguous
the longest wins, which may cut into a stem ("програми" -> "прогр" beside
"програма" -> "програм"): a missed family rather than a false one, as the
cut stem is only met by the same cut. Past tense "-іли" and the bare "-ли", "-ла",
"-ло" are left out for that reason: "обстріли" (shellings) is a noun.

    вбивство, вбивства, вбивств   -> вбивств
    геноцид, геноциду, геноцидом  -> геноцид
    депортація, депортації, депортацію -> депортаці
    біженці, біженців             -> біженц
"""

from __future__ import annotations

MIN_LEFT = 3  # letters an ending must leave
VOWELS = frozenset("аеєиіоуюя")
REFLEXIVE = ("ся", "сь")  # "вбивається", "знищилась": off first, then the ending
# Folded endings ("ий" is "ии", "ої" is "оі"), longest first within the one list.
_ENDINGS = (
    # adjectives and participles
    "ими", "ого", "ому", "ии", "іи", "оі", "ою", "ую", "их", "іх", "им", "ім",
    # nouns: cases and numbers
    "ями", "ами", "ові", "еві", "єві", "ям", "ам", "ях", "ах", "ів", "ом", "ем", "єм",
    "ею", "єю", "еи", "а", "я", "у", "ю", "і", "е", "є", "о", "и", "ь",
    # verbs: past, infinitive, present
    "или", "ила", "ило", "али", "ала", "ало", "ують", "юють", "ють",
    "ать", "ять", "ить", "ити", "ати", "іти", "ує", "ти", "ив", "ав",
)  # fmt: skip
ENDINGS = tuple(sorted(set(_ENDINGS), key=len, reverse=True))


def stem(word: str) -> str:
    """The stem of a folded Ukrainian word (the word itself when nothing can come off)."""
    for ending in REFLEXIVE:
        if word.endswith(ending) and _keeps(word[: -len(ending)]):
            word = word[: -len(ending)]
            break
    for ending in ENDINGS:
        if word.endswith(ending) and _keeps(word[: -len(ending)]):
            word = word[: -len(ending)]
            break
    if word.endswith("ь") and _keeps(word[:-1]):
        word = word[:-1]
    if len(word) > MIN_LEFT and word[-1] == word[-2] and word[-1] not in VOWELS:
        word = word[:-1]  # "катуванн" -> "катуван", as Snowball russian does with "нн"
    return word


def _keeps(left: str) -> bool:
    return len(left) >= MIN_LEFT and any(c in VOWELS for c in left)
