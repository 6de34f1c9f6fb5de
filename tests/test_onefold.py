"""One fold per item: what countries, rules, model and story key read from the shared fold
is what each used to fold for itself."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerts import stories
from monitor.match.countries import mentioned
from monitor.match.fold import texts
from monitor.match.matcher import Matcher
from monitor.model import Item
from monitor.rules.model import RuleSet
from tests.factories import item as make_item

_WORDS = st.sampled_from(
    ["Génocide", "in", "the", "El-Fasher", "Côte", "d'Ivoire", "ﬁre", "ＵＮ", "Sudan", "of",
     "massacres", "Turkey", "US", "killed", " ", ", ", "\u00e9", "ß", "İstanbul", "\u0301"]
)  # fmt: skip
_TEXT = st.lists(_WORDS, max_size=12).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(_TEXT, _TEXT)
def test_the_story_key_from_the_shared_fold_is_the_story_fold(title: str, summary: str) -> None:
    expected = stories.fold(title), stories.fold(f"{title} {summary}")
    stories._KEYS.clear()
    assert stories.story_key(title, summary, texts(title, summary)) == expected
    stories._KEYS.clear()
    assert stories.story_key(title, summary) == expected


@settings(max_examples=200, deadline=None)
@given(_TEXT, _TEXT)
def test_countries_from_the_shared_fold_are_those_of_the_texts(title: str, summary: str) -> None:
    matcher = Matcher(RuleSet(()))
    it: Item = make_item(title=title, summary=summary)
    assert matcher.countries(it, matcher.texts(it)) == mentioned(title, summary)
