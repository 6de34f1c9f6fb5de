"""Near clauses with alternatives: { any = [pairs], within = N } holds when one of its
{a, b} pairs holds (each within its own `within` or the clause's); the explanation names
the pair that held; the one-pair form is unchanged; mistakes are named by file, rule, key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.match import Matcher
from monitor.model import Item
from monitor.rules import load_rules

RULE = """
[defaults]
fuzzy = false

[[rules]]
id = "{id}"
title = "Executions of detainees"
severity = "high"
description = "d"
{body}
"""
CLAUSE = """near = [{ any = [
  { a = ["executed", "killed"], b = ["detainees", "prisoners"] },
  { a = ["beheaded"], b = ["villagers"] },
  { a = ["shot dead"], b = ["civilians"], within = 1 },
], within = 4 }]"""


def matcher(tmp_path: Path, body: str = CLAUSE, rule_id: str = "r") -> Matcher:
    (tmp_path / "r.toml").write_text(RULE.format(id=rule_id, body=body), encoding="utf-8")
    return Matcher(load_rules([tmp_path]))


def match(m: Matcher, title: str, summary: str = "") -> list[tuple[str, str, str, str]]:
    item = Item("k", "f", title, summary, None, datetime(2024, 5, 1, tzinfo=UTC))
    return [(x.rule_id, h.group, h.term, h.text) for x in m.match(item) for h in x.hits]


def test_a_clause_holds_when_any_of_its_pairs_holds(tmp_path: Path) -> None:
    m = matcher(tmp_path)
    assert match(m, "Guards executed three detainees at dawn") == [
        ("r", "near[0].any[0]", "executed", "executed"),
        ("r", "near[0].any[0]", "detainees", "detainees"),
    ]
    assert match(m, "Villagers beheaded in the north") == [
        ("r", "near[0].any[1]", "villagers", "Villagers"),
        ("r", "near[0].any[1]", "beheaded", "beheaded"),
    ]


def test_the_words_of_different_pairs_do_not_combine(tmp_path: Path) -> None:
    m = matcher(tmp_path)
    assert match(m, "Rebels executed villagers") == []  # executed is pair 0, villagers pair 1
    assert match(m, "Beheaded prisoners found") == []


def test_each_pair_has_its_own_within_or_the_clauses(tmp_path: Path) -> None:
    m = matcher(tmp_path)
    # clause within = 4: four words apart holds, five do not
    assert match(m, "Killed, witnesses say, two prisoners")
    assert match(m, "Killed, witnesses say, were two prisoners") == []
    # pair 2 says within = 1: adjacent only
    assert [g for _, g, _, _ in match(m, "Civilians shot dead")] == ["near[0].any[2]"] * 2
    assert match(m, "Civilians were shot dead") == []


def test_the_first_pair_that_holds_is_the_one_explained(tmp_path: Path) -> None:
    m = matcher(tmp_path)
    hits = match(m, "Villagers beheaded; soldiers killed prisoners")
    assert {g for _, g, _, _ in hits} == {"near[0].any[0]"}


def test_a_pair_in_the_summary_alone_fires_and_fields_must_agree(tmp_path: Path) -> None:
    """The rule is looked at when a term of any pair is found, not only the first pair's."""
    m = matcher(tmp_path)
    assert match(m, "Report from the north", "Witnesses say villagers were beheaded") == [
        ("r", "near[0].any[1]", "villagers", "villagers"),
        ("r", "near[0].any[1]", "beheaded", "beheaded"),
    ]
    assert match(m, "Villagers flee", "Three beheaded") == []  # a and b in different fields


def test_clauses_are_anded_with_each_other_and_with_any(tmp_path: Path) -> None:
    second = "], within = 4 },\n  { a = ['dawn'], b = ['guards'], within = 6 }]"
    body = f'any = ["army"]\n{CLAUSE.replace("], within = 4 }]", second)}\nnone = ["film"]'
    m = matcher(tmp_path, body)
    assert match(m, "Guards executed detainees at dawn") == []  # no "army"
    assert [g for _, g, _, _ in match(m, "Army guards executed detainees at dawn")] == [
        "any", "near", "near", "near[0].any[0]", "near[0].any[0]"
    ]  # fmt: skip
    assert match(m, "Film: army guards executed detainees at dawn") == []


def test_the_one_pair_form_is_unchanged(tmp_path: Path) -> None:
    m = matcher(tmp_path, 'near = [{ a = ["killed"], b = ["civilians"], within = 3 }]')
    assert match(m, "Civilians killed") == [
        ("r", "near", "civilians", "Civilians"),
        ("r", "near", "killed", "killed"),
    ]
    rule = load_rules([tmp_path]).rules[0]
    (clause,) = rule.near
    assert not clause.alternatives and len(clause.pairs) == 1 and clause.pairs[0].within == 3


def problems(tmp_path: Path, body: str) -> list[str]:
    (tmp_path / "r.toml").write_text(RULE.format(id="r", body=body), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules([tmp_path])
    prefix = f"{tmp_path / 'r.toml'}: rules[0] (id=r)."
    assert all(p.startswith(prefix) for p in caught.value.problems), caught.value.problems
    return [p.removeprefix(prefix) for p in caught.value.problems]


ANY_EXAMPLE = 'near = [{ any = [{ a = ["executed"], b = ["detainees"] }], within = 4 }]'
PAIR_EXAMPLE = '{ a = ["executed"], b = ["detainees"], within = 4 }'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('near = [{ a = ["x1"], any = [{ a = ["killed"], b = ["men"] }], within = 4 }]',
         "near[0]: a beside any: a clause is either a, b and within, or any = [pairs] (within "
         f"for them all); write {ANY_EXAMPLE}"),
        ("near = [{ any = [], within = 4 }]",
         f"near[0].any: must be a non-empty list of pairs, e.g. {ANY_EXAMPLE}"),
        ('near = [{ any = ["killed"], within = 4 }]',
         f"near[0].any: must be a non-empty list of pairs, e.g. {ANY_EXAMPLE}"),
        ('near = [{ any = [{ a = ["killed"] }], within = 4 }]',
         f"near[0].any[0]: missing b; write {PAIR_EXAMPLE} (within may instead be given "
         "once, beside any)"),
        ('near = [{ any = [{ a = ["killed"], b = ["men"] }] }]',
         f"near[0].any[0]: missing within; write {PAIR_EXAMPLE} (within may instead be given "
         "once, beside any)"),
        ('near = [{ any = [{ a = ["killed"], b = ["men"], within = 0 }], within = 4 }]',
         "near[0].any[0].within: 0 must be a whole number of words >= 1"),
        ('near = [{ any = [{ a = ["killed"], b = ["men"] }], within = "4" }]',
         "near[0].within: '4' must be a whole number of words >= 1"),
        ('near = [{ any = [{ a = ["killed"], b = ["men"], whithin = 2 }], within = 4 }]',
         'near[0].any[0].whithin: unknown key; did you mean "within"?'),
        ('near = [{ any = [{ a = ["killed"], b = ["men"] }, { a = ["shot"], b = [] }], '
         "within = 4 }]",
         "near[0].any[1].b: must be a non-empty list of terms"),
    ],
)  # fmt: skip
def test_a_mistake_in_a_clause_is_named_by_file_rule_and_key(
    tmp_path: Path, body: str, expected: str
) -> None:
    (found,) = problems(tmp_path, body)
    assert found.startswith(expected), found
