"""The language of each item (ISO 639-1), as test-rules and the kept items show it."""

from __future__ import annotations

import pytest

from monitor.match.language import declared, detect

# Real published headlines (corpus/real2/{en,fr,es}.tsv) and the language each was written in.
HEADLINES = [
    ("Suspected Russian warplanes hit busy market in Idlib, kill 15: rescuers, residents", "en"),
    ("🇲🇱 Mali: l’armée accusée de nouvelles exactions", "fr"),
    (
        "Israel-Palestina: Las fuerzas israelíes destruyen un hospital en Gaza, "
        "la OMS pide de nuevo un alto el fuego",
        "es",
    ),
]


@pytest.mark.parametrize(("title", "lang"), HEADLINES)
def test_a_headline_gets_the_language_it_is_written_in(title: str, lang: str) -> None:
    assert detect(title) == lang


def test_scripts_of_the_new_languages_are_told_apart() -> None:
    # Short phrases of our own, only to show the scripts and Cyrillic languages apart; the
    # real items of these languages come with issue 16's corpus.
    assert detect("الإبادة الجماعية في دارفور") == "ar"
    assert detect("Геноцид в Україні") == "uk"
    assert detect("Геноцид в Украине") == "ru"
    assert detect("Massacre em Cabo Delgado deixa dezenas de mortos") == "pt"


def test_the_feeds_declared_language_decides_when_the_text_says_too_little() -> None:
    assert detect("Abyei", "", "fr-FR") == "fr"
    assert declared("en_US") == "en" and declared("x-klingon") is None and declared("") is None
