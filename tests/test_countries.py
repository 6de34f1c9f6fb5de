"""Country tagging: names, aliases, demonyms and places to alpha-2 codes, without the traps."""

from __future__ import annotations

import pytest

from monitor.match.countries import country_code, country_name, gazetteer, mentioned


def test_every_un_member_and_observer_and_kosovo() -> None:
    """193 members, Holy See, Palestine and Kosovo: 196 codes."""
    codes = gazetteer().codes
    assert len(codes) == 196
    assert {"VA", "PS", "XK", "SS", "SD", "MM", "CD", "CG"} <= codes
    assert "PR" not in codes  # territories are not states


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Burma", ("MM",)),
        ("La Birmanie et la Birmania; Burmese troops", ("MM",)),
        ("DRC", ("CD",)),
        ("DR Congo", ("CD",)),
        ("République démocratique du Congo", ("CD",)),
        ("Congo-Kinshasa", ("CD",)),
        ("RDC", ("CD",)),
        ("Republic of the Congo", ("CG",)),
        ("Congo-Brazzaville", ("CG",)),
        ("Ivory Coast", ("CI",)),
        ("Côte d’Ivoire", ("CI",)),
        ("Costa de Marfil", ("CI",)),
        ("Ivorian troops", ("CI",)),
        ("Türkiye", ("TR",)),
        ("Turquie et Turquía", ("TR",)),
        ("Syrie, Siria", ("SY",)),
        ("Soudan du Sud", ("SS",)),
        ("El Fasher, Al-Fashir and El Geneina", ("SD",)),
        ("Tigrai and Mekelle", ("ET",)),
        ("Rakhine state", ("MM",)),
        ("Rohingya refugees", ("MM",)),
        ("Uyghur camps in Xinjiang", ("CN",)),
        ("Gaza and the West Bank", ("PS",)),
        ("Rafah crossing", ("PS",)),
        ("Bucha, Mariupol, Zaporizhzhia", ("UA",)),
        ("Goma and Bunia in Ituri", ("CD",)),
        ("Cabo Delgado", ("MZ",)),
        ("Borno state", ("NG",)),
        ("Idlib and Aleppo", ("SY",)),
        ("Kabul", ("AF",)),
        ("Nagorno-Karabakh", ("AZ",)),
        ("Srebrenica", ("BA",)),
        ("Kosovo", ("XK",)),
        ("the Holy See", ("VA",)),
    ],
)
def test_aliases_demonyms_and_places(text: str, codes: tuple[str, ...]) -> None:
    """Curated EN/FR/ES aliases and hotspots map to their country."""
    assert mentioned(text) == codes


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("A woman in Somalia", ("SO",)),  # Oman in woman; Mali in Somalia
        ("Niger and Nigeria", ("NE", "NG")),
        ("South Sudan", ("SS",)),
        ("South Sudan and Sudan", ("SD", "SS")),
        ("Guinea-Bissau", ("GW",)),
        ("Equatorial Guinea", ("GQ",)),
        ("Papua New Guinea", ("PG",)),
        ("Guinea", ("GN",)),
        ("a roast turkey", ()),
        ("Turkey", ("TR",)),
        ("a hanging chad", ()),
        ("Michael jordan", ()),
        ("fine china", ()),
        ("a guinea pig", ()),
        ("the drc of it", ()),
        ("us and them", ()),
        ("US troops", ("US",)),
        ("a grenade attack", ()),
        ("CAR BOMB KILLS FIVE", ()),  # all capitals: acronyms are not trusted
        ("Fighting in the CAR", ("CF",)),
    ],
)
def test_traps(text: str, codes: tuple[str, ...]) -> None:
    """Whole words, longest name first, capitals for common words, exact-case acronyms."""
    assert mentioned(text) == codes


def test_title_and_summary_both_count() -> None:
    """Codes from several texts are merged, sorted and unique."""
    assert mentioned("Darfur", "Refugees reach Chad from Sudan") == ("SD", "TD")


@pytest.mark.parametrize(
    ("name", "code"),
    [("SD", "SD"), ("sd", "SD"), ("Sudan", "SD"), ("Soudan", "SD"), ("Burma", "MM"), ("XK", "XK")],
)
def test_country_code_accepts_codes_and_names(name: str, code: str) -> None:
    """Rule files may name countries by code or name."""
    assert country_code(name) == code


def test_unknown_country_is_none() -> None:
    """An unknown name is None, not an exception."""
    assert country_code("Narnia") is None
    assert country_name("SD") == "Sudan"


def test_names_in_portuguese_arabic_russian_and_ukrainian() -> None:
    # pycountry's translations; Arabic names found with their article and clitics.
    assert mentioned("Massacre no Sudão do Sul") == ("SS",)
    assert mentioned("الإبادة الجماعية في السودان") == ("SD",)
    assert mentioned("Україна") == ("UA",) == mentioned("Украина")
    assert mentioned("A França e o Gana") == ("FR",)  # "Gana" is also Spanish "wins"
    assert mentioned("Real Madrid gana la Liga") == mentioned("Real Madrid")
