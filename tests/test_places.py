"""Places of the situations across languages (monitor.match.places), on real headlines of the
corpus (corpus/real3, corpus/real): one id whatever the script, case or clitic."""

from __future__ import annotations

import pytest

from monitor.match.fold import fold_words, words
from monitor.match.places import figures, places


def named(text: str) -> list[str]:
    return sorted(places().find(words(text)))


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("قتلى بالعشرات جراء قصف الدعم السريع للمدنيين في الفاشر", ["el-fasher"]),
        ('"قُتِلوا أثناء صلاة الفجر".. الدعم السريع يستهدف 75 مدنيًا بالفاشر (فيديو)', ["el-fasher"]),
        ("Au Soudan, les rebelles des RSF tuent plus de 40 personnes à El-Fasher", ["el-fasher"]),
        ("Разрушение больницы в Газе: глава ВОЗ вновь призывает к прекращению огня", ["gaza"]),
        ("Израильтяне убили в секторе Газа более ста палестинцев, пришедших за гуманитарной "
         "помощью", ["gaza"]),
        ("На Херсонщині росіяни знищили швидку, яка евакуювала поранених", ["kherson"]),
        ("Харків зазнав повторного удару дроном, є поранені", ["kharkiv"]),
        ("Insurgentes decapitam e torturam em Cabo Delgado", ["cabo-delgado"]),
        ("Ukraine war: Mass grave found in liberated Izyum city - officials", ["izium"]),
    ],
)  # fmt: skip
def test_a_place_has_one_id_in_every_language(text: str, ids: list[str]) -> None:
    assert named(text) == ids


def test_a_place_name_that_is_also_a_word_counts_only_capitalised() -> None:
    # real: "gas" in Ukrainian is "газ", its genitive "газу"
    assert named("Словаччина уклала пілотний контракт на імпорт азербайджанського газу") == []
    assert named("Газа: пациенты больниц умирают из-за задержек с эвакуацией") == ["gaza"]


def test_figures_are_counts_not_years() -> None:
    words = fold_words("قُتل ما لا يقل عن 75 شخصًا في قصف عام 2025 و 3 جرحى")
    assert figures(words) == {"75"}
