"""Country tagging in Arabic, Russian, Ukrainian and Portuguese: names in their case forms,
demonyms, the places of the situations, and the guards that keep ordinary words out; on
real published headlines (corpus r3, quoted verbatim)."""

from __future__ import annotations

import pytest

from monitor.match.countries import mentioned
from monitor.match.forms import declined, demonym


@pytest.mark.parametrize(
    ("headline", "codes"),
    [
        # ar
        ("قتلى بالعشرات جراء قصف الدعم السريع للمدنيين في الفاشر", ("SD",)),
        ('"قُتِلوا أثناء صلاة الفجر".. الدعم السريع يستهدف 75 مدنيًا بالفاشر (فيديو)', ("SD",)),
        ("أطباء بلا حدود: عنف جنسي ممنهج ضد النساء والفتيات بدارفور", ("SD",)),
        ("غرب دارفور.. كيف تحولت إلى ثكنة للنساء المغتصبات من حرب السودان؟", ("SD",)),
        # ru
        ("Разрушение больницы в Газе: глава ВОЗ вновь призывает к прекращению огня", ("PS",)),
        ("Газа: пациенты больниц умирают из-за задержек с эвакуацией", ("PS",)),
        ("ООН: Нападение на детскую больницу в Мариуполе ужасает", ("UA",)),
        ("ООН и геноцид в Украине: что действительно написано в отчете – подробности", ("UA",)),
        # uk
        ("Харків зазнав повторного удару дроном, є поранені", ("UA",)),
        ("Чотири дитини загинули через пожежу під Харковом", ("UA",)),
        ("На Херсонщині росіяни знищили швидку, яка евакуювала поранених", ("RU", "UA")),
        ("П'ятеро людей зі знімальної групи Довбуша загинули в боях за Україну", ("UA",)),
        # pt
        ("Insurgentes decapitam e torturam em Cabo Delgado", ("MZ",)),
        ("OIM calcula mais de 25 mil deslocados moçambicanos após ataques a Palma", ("MZ",)),
        ("ONU condena Síria, com o apoio da Rússia e da China", ("CN", "RU", "SY")),
    ],
)  # fmt: skip
def test_real_headlines_are_tagged_with_their_countries(
    headline: str, codes: tuple[str, ...]
) -> None:
    assert mentioned(headline) == codes


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Бои в Судане", "SD"), ("беженцы из Судана", "SD"), ("на Украине", "UA"),
        ("в Україні", "UA"), ("уряд України", "UA"), ("война в Сирии", "SY"),
        ("у Сирії", "SY"), ("в Дарфуре", "SD"), ("у Дарфурі", "SD"), ("из Газы", "PS"),
        ("у Газі", "PS"), ("в Эль-Фашере", "SD"), ("в Ель-Фашері", "SD"),
        ("в Южном Судане", "SS"), ("у Маріуполі", "UA"), ("в Мариуполе", "UA"),
        ("з Харкова", "UA"), ("у Запоріжжі", "UA"), ("в Запорожье", "UA"),
        ("в Демократической Республике Конго", "CD"), ("в Бучі", "UA"), ("в Буче", "UA"),
    ],
)  # fmt: skip
def test_russian_and_ukrainian_names_are_found_in_their_case_forms(text: str, code: str) -> None:
    assert mentioned(text) == (code,)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("السوداني", "SD"), ("السودانية", "SD"), ("السودانيين", "SD"), ("والسودانيون", "SD"),
        ("суданский", "SD"), ("суданских беженцев", "SD"), ("українських", "UA"),
        ("палестинцев", "PS"), ("moçambicanos", "MZ"), ("angolanas", "AO"),
        ("sudanês", "SD"), ("iemenitas", "YE"), ("اليمنيين", "YE"),
    ],
)  # fmt: skip
def test_demonyms_are_found_in_every_gender_number_and_case(text: str, code: str) -> None:
    assert mentioned(text) == (code,)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("إدلب", "SY"), ("حلب", "SY"), ("بغزة", "PS"), ("خان يونس", "PS"),
        ("كابو ديلغادو", "MZ"), ("Ідліб", "SY"), ("Идлиб", "SY"), ("Хартуме", "SD"),
        ("Рафахе", "PS"), ("Tigray", "ET"), ("Ракхайне", "MM"), ("Гоме", "CD"),
        ("Ітурі", "CD"), ("Carcóvia", "UA"), ("Cartum", "SD"),
    ],
)  # fmt: skip
def test_the_places_of_the_situations_are_found_in_each_language(text: str, code: str) -> None:
    assert mentioned(text) == (code,)


@pytest.mark.parametrize(
    "text",
    [
        "поставки газа в Европу", "цены на газ и газу", "вони мали право", "кроме того",
        "в чаду", "объём куба", "мали б знати", "الدعم المالي للنازحين",
        "مدارس البنين", "Un día de la ira",
    ],
)  # fmt: skip
def test_ordinary_words_that_spell_a_name_are_no_country(text: str) -> None:
    """Cyrillic names count only capitalised ("газа" is "of gas", "мали" Ukrainian "had",
    "того" a pronoun, dropped); Arabic "مالي" (financial) and "بنين" (boys) are left out
    bare; Portuguese "Irã" is not listed (folded, "ira" is anger)."""
    assert mentioned(text) == ()


def test_capitalised_short_names_still_count() -> None:
    assert mentioned("Чад") == ("TD",)
    assert mentioned("на Кубе") == ("CU",)
    assert mentioned("в Мали") == ("ML",)
    assert mentioned("في مالي") == ("ML",)
    assert mentioned("ГАЗА: ЭВАКУАЦИЯ") == ("PS",)  # all capitals: still capitalised


def test_forms_follow_the_endings() -> None:
    assert declined("Судан", "ru") == ["Судана", "Судану", "Суданом", "Судане"]
    assert "Україні" in declined("Україна", "uk")
    assert "Харкова" in declined("Харків", "uk")  # і -> о in the other cases
    assert "Гвинеи-Бисау" in declined("Гвинея-Бисау", "ru")
    assert declined("Того", "ru") == declined("Мали", "ru") == []  # not declined
    assert demonym("سوداني", "ar") == ["سوداني", "سودانية", "سودانيين", "سودانيون", "سودانيات"]
    assert demonym("moçambicano", "pt") == ["moçambicano", "moçambicana", "moçambicanos",
                                            "moçambicanas"]  # fmt: skip
