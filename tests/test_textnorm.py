"""Folding for matching keeps the original text reachable for display."""

from __future__ import annotations

from monitor.match.fold import fold, fold_words, snippet, words


def test_case_accents_and_compatibility_forms_fold_away() -> None:
    """Génocide, GENOCIDE and full-width/ligature forms compare equal."""
    assert fold("Génocide") == fold("GENOCIDE") == "genocide"
    assert fold("ｆｉｌｍ") == fold("ﬁlm") == "film"
    assert fold("Straße") == "strasse"


def test_decomposed_accents_stay_inside_the_word() -> None:
    """An accent written as a combining mark does not split the word."""
    assert fold_words("ge\u0301nocide") == ("genocide",)


def test_punctuation_and_hyphens_split_words() -> None:
    """El-Fasher is two words; an apostrophe splits d'Ivoire."""
    assert fold_words("El-Fasher, Côte d'Ivoire!") == ("el", "fasher", "cote", "d", "ivoire")


def test_spans_point_back_into_the_original_text() -> None:
    """Each folded word knows where it was in the original, accents and case intact."""
    text = words("L’ONU dénonce un GÉNOCIDE au Darfour")
    assert text.words[4] == "genocide"
    assert text.original(4, 4) == "GÉNOCIDE"
    assert text.original(3, 5) == "un GÉNOCIDE au"


def test_ascii_and_unicode_paths_agree() -> None:
    """The fast ASCII path gives the same words as the general one."""
    assert words("Killed 30 civilians").words == words("Killed 30 civilians é").words[:3]


def test_snippet_cuts_at_spaces_and_marks_the_cuts() -> None:
    """A long text is cut around the hit, with an ellipsis on each cut side."""
    text = "word " * 30 + "MASSACRE" + " word" * 30
    start = text.index("MASSACRE")
    cut = snippet(text, start, start + 8, width=20)
    assert cut.startswith("…") and cut.endswith("…")
    assert "MASSACRE" in cut
    assert len(cut) <= 8 + 2 * 20 + 2


def test_snippet_of_a_short_text_is_the_whole_text() -> None:
    """No ellipsis when nothing was cut."""
    assert snippet("Massacre in Darfur", 0, 8) == "Massacre in Darfur"


def test_arabic_marks_letter_forms_and_digits_fold_away() -> None:
    # Vowel marks stay inside the word (and then go), tatweel goes, hamza forms, alef
    # maksura and teh marbuta meet their base letters, Arabic-Indic digits are digits.
    assert fold("قُتِلَ ٣٠ مدنيًا") == "قتل 30 مدنيا"
    assert fold("إبـــادة") == fold("ابادة") == fold("أبادة")
    assert fold("مستشفى") == fold("مستشفي")


def test_arabic_article_and_clitics_split_off_the_word() -> None:
    # The examples: "والإبادة" and "بالإبادة" find "إبادة".
    assert fold("والإبادة") == fold("بالإبادة") == fold("الإبادة") == fold("إبادة")
    assert fold("الإبادة الجماعية") == fold("إبادة جماعية")
    # A word whose own first letter is a prefix letter meets its prefixed forms all the same.
    assert fold("للاجئين") == fold("واللاجئين") == fold("لاجئين")
    assert fold("بالسودان") == fold("السودان") == fold("سودان")
    assert fold("الله") == "الله"  # never fewer than three letters left


def test_arabic_spans_still_point_at_the_words_as_written() -> None:
    w = words("قُتِلَ ٣٠ مدنيًا في الفاشر")
    assert [w.original(i, i) for i in range(len(w.words))] == [
        "قُتِلَ", "٣٠", "مدنيًا", "في", "الفاشر"]  # fmt: skip
