"""Term packs (`[[terms]]`, monitor.rules.extend): a language's terms for the pack's rules in
one file, added to rules defined in the theme files; problems named in the pack's file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.match.matcher import Matcher
from monitor.model import Item
from monitor.rules import load_rules

THEME = """theme = "genocide"
[defaults]
fuzzy = false
[[rules]]
id = "genocide-finding"
title = "Genocide finding"
severity = "critical"
description = "A finding of genocide."
any = ["genocide"]
all = [["accuses", "report"]]
none = ["anniversary"]
"""
PACK = """[[terms]]
rule = "genocide-finding"
any = ["геноцид*"]
all = [["обвини*", "доклад*"]]
none = ["годовщин*"]
"""
# real headlines (corpus/real3/ru.tsv); the guard test adds a context word to the second
ACCUSED = "ООН обвинила власти Мьянмы в геноциде"
REMEMBERED = "Армения и диаспора отмечают 95-ю годовщину геноцида"


def pack(tmp_path: Path, text: str = PACK) -> Path:
    (tmp_path / "genocide.toml").write_text(THEME, encoding="utf-8")
    (tmp_path / "lang").mkdir()
    (tmp_path / "lang" / "ru.toml").write_text(text, encoding="utf-8")
    return tmp_path


def fired(rules: Path, title: str) -> list[str]:
    item = Item("k", "f", title, "", None, datetime(2025, 1, 1, tzinfo=UTC))
    return [m.rule_id for m in Matcher(load_rules([rules])).match(item)]


def test_a_pack_adds_terms_groups_and_guards_to_a_rule_of_another_file(tmp_path: Path) -> None:
    rules = pack(tmp_path)
    [rule] = load_rules([rules]).rules
    assert rule.source.endswith("genocide.toml"), "the rule stays where it is defined"
    assert fired(rules, ACCUSED) == ["genocide-finding"]
    assert fired(rules, REMEMBERED + ": доклад") == [], "the pack's guard holds"
    assert fired(rules, "UN report accuses army of genocide") == ["genocide-finding"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[terms]]\nrule = "genocide-findings"\nany = ["геноцид"]\n',
         'terms[0] (rule=genocide-findings): rule "genocide-findings" is defined in no rule file'),
        ('[[terms]]\nrule = "genocide-finding"\nall = [["a1"], ["b2"]]\n',
         'terms[0] (rule=genocide-finding): "all" has 2 groups; rule genocide-finding has 1'),
        ('[[terms]]\nrule = "genocide-finding"\nany = ["геноцид"]\nthreshold = 2\n',
         "terms[0] (rule=genocide-finding).threshold: unknown key"),
        ('[[terms]]\nany = ["геноцид"]\n', "terms[0].rule: missing"),
    ],
)  # fmt: skip
def test_a_bad_pack_is_refused_naming_its_file_and_table(
    tmp_path: Path, text: str, said: str
) -> None:
    rules = pack(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_rules([rules])
    assert any(p.startswith(f"{rules / 'lang' / 'ru.toml'}: {said}") for p in raised.value.problems)


NEAR_THEME = THEME.replace(
    'none = ["anniversary"]',
    'none = ["anniversary"]\nnear = [{ a = ["killed"], b = ["civilians"], within = 5 }]',
)
NEAR_PACK = PACK + 'near = [{ a = ["убит*", "погиб*"], b = ["мирн*"], within = 5 }]\n'


def test_a_pack_s_near_pair_is_an_alternative_of_the_rule_s_clause(tmp_path: Path) -> None:
    rules = pack(tmp_path, NEAR_PACK)
    (rules / "genocide.toml").write_text(NEAR_THEME, encoding="utf-8")
    [rule] = load_rules([rules]).rules
    assert len(rule.near) == 1 and len(rule.near[0].pairs) == 2, "one clause, two alternatives"
    english = "Report accuses army of genocide: 40 civilians killed"
    russian = "Доклад ООН обвиняет армию в геноциде: погибли 40 мирных жителей"
    assert fired(rules, english) == fired(rules, russian) == ["genocide-finding"]
    assert fired(rules, "Report accuses army of genocide") == [], "the clause still holds"
