"""Properties of the normaliser and matcher over generated text (hypothesis)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match import Matcher
from monitor.match.fold import fold, fold_word, fold_words, snippet, split, words
from monitor.model import Item
from monitor.rules import load_rules

FIXTURES = Path(__file__).parent / "data" / "rules_fixtures"
RULES = load_rules([FIXTURES / "properties"])
MATCHER = Matcher(load_rules([FIXTURES / "good", FIXTURES / "properties"]))
PHRASE_MATCHER = Matcher(RULES)
# (rule id, phrase as written) for every term: a text holding the phrase must fire the rule.
PHRASES = [(rule.id, term.text.replace("*", "")) for rule in RULES for term in rule.any]
CASELESS = {r.id for r in RULES if not any(t.case_sensitive for t in r.any)}
LATIN = "abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöùûüçñœ"
FILLER = st.text(alphabet=st.sampled_from([*LATIN, " ", ",", ".", "-", "'", "’", "0", "7"]))
WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def item(title: str, summary: str = "") -> Item:
    return Item("k", "f", title, summary, None, WHEN)


def fired(matcher: Matcher, title: str, summary: str = "") -> set[str]:
    return {m.rule_id for m in matcher.match(item(title, summary))}


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@given(st.text(), st.text())
@settings(max_examples=300)
def test_never_crashes_on_any_text(title: str, summary: str) -> None:
    """Any Unicode at all: matching, country tagging and snippets return normally."""
    for match in MATCHER.match(item(title, summary)):
        for hit in match.hits:
            assert hit.text and hit.field in ("title", "summary")
    MATCHER.countries(item(title, summary))
    folded = words(title)
    assert len(folded.words) == len(folded.spans)
    assert fold(fold(title)) == fold(title)
    snippet(title, 0, len(title))


@given(FILLER, st.sampled_from(PHRASES), FILLER)
def test_text_holding_a_phrase_fires_its_rule(
    before: str, phrase: tuple[str, str], after: str
) -> None:
    """A rule's exact phrase, anywhere among other words, always fires the rule."""
    rule_id, text = phrase
    assert rule_id in fired(PHRASE_MATCHER, f"{before} {text} {after}")
    assert rule_id in fired(PHRASE_MATCHER, "", f"{before} {text} {after}")


@given(FILLER, st.sampled_from(PHRASES), FILLER)
def test_matching_ignores_case_and_accents(
    before: str, phrase: tuple[str, str], after: str
) -> None:
    """Upper case, title case and accent-stripped text fire the same caseless rules."""
    text = f"{before} {phrase[1]} {after}"
    expected = fired(PHRASE_MATCHER, text) & CASELESS
    for variant in (text.upper(), text.title(), strip_accents(text)):
        assert fired(PHRASE_MATCHER, variant) & CASELESS == expected


@given(FILLER)
def test_acronyms_need_their_capitals(filler: str) -> None:
    """Lower-case "icc" never fires the acronym rule; "ICC" always does."""
    assert "p-acronym" not in fired(PHRASE_MATCHER, f"{filler} icc cpi rsf {filler}")
    assert "p-acronym" in fired(PHRASE_MATCHER, f"{filler} ICC {filler}")


@given(FILLER, FILLER)
def test_hits_quote_the_original_text(before: str, after: str) -> None:
    """A hit's text is a slice of the field as published, and its snippet contains it."""
    title = f"{before} GÉNOCIDE {after}"
    for match in PHRASE_MATCHER.match(item(title)):
        for hit in match.hits:
            assert hit.text in title
            assert hit.text in hit.snippet


@settings(max_examples=500)
@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_fast_folding_is_word_by_word_folding(text: str) -> None:
    """The byte-level splitter gives exactly `fold_word` of each word of `split`."""
    assert fold_words(text) == tuple(w for word in split(text) for w in fold_word(word))
    assert len(words(text).spans) == len(words(text).words)
