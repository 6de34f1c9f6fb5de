"""Guards scoped to the trigger: with `none_within = N` a `none` term vetoes a rule only
within N words of a hit that made it fire, in the same field; unscoped guards veto anywhere.
Engine semantics on short phrasings written for the purpose: what the pack fires on real
reporting is measured on corpus/ (`make eval`), not here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.match import Matcher
from monitor.model import Item
from monitor.rules import load_rules

RULE = """
[[rules]]
id = "massacre"
title = "Massacre"
severity = "high"
description = "Mass killing of civilians"
any = ["massacre", "killed dozens of villagers"]
none = ["ceasefire", "anniversary", "football"]
{scope}
"""


def matcher(tmp_path: Path, scope: str) -> Matcher:
    (tmp_path / "r.toml").write_text(RULE.format(scope=scope), encoding="utf-8")
    return Matcher(load_rules([tmp_path]))


def fires(m: Matcher, title: str, summary: str = "") -> bool:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    return bool(m.match(Item("k", "f", title, summary, None, when)))


FAR = (
    "Gunmen massacre 40 worshippers in a village church in the north",
    "The attack came hours after the army and the militia had agreed a local truce; "
    "mediators said talks on a wider ceasefire would resume next week in the capital.",
)
NEAR = ("Ceasefire holds a year after the massacre", "")


def test_an_unscoped_guard_vetoes_anywhere(tmp_path: Path) -> None:
    m = matcher(tmp_path, "")
    assert not fires(m, *FAR)
    assert not fires(m, *NEAR)


def test_a_scoped_guard_vetoes_only_near_the_trigger(tmp_path: Path) -> None:
    m = matcher(tmp_path, "none_within = 6")
    assert fires(m, *FAR)  # "ceasefire" is in the summary, "massacre" in the title
    assert not fires(m, *NEAR)  # six words from the hit, in the same field
    far_in_title = "Massacre of villagers in Kivu as rebels ignore calls by envoys for a ceasefire"
    assert fires(m, far_in_title)  # the same field, fourteen words away


def test_none_within_is_a_file_default_and_a_rule_may_unscope_it(tmp_path: Path) -> None:
    text = "[defaults]\nnone_within = 6\n" + RULE.format(scope="")
    text += RULE.replace('id = "massacre"', 'id = "massacre-strict"').format(
        scope="none_within = 0"
    )
    (tmp_path / "r.toml").write_text(text, encoding="utf-8")
    m = Matcher(load_rules([tmp_path]))
    when = datetime(2024, 5, 1, tzinfo=UTC)
    fired = [x.rule_id for x in m.match(Item("k", "f", FAR[0], FAR[1], None, when))]
    assert fired == ["massacre"]


@pytest.mark.parametrize("value", ["-1", '"8"', "2.5", "true"])
def test_a_bad_none_within_is_refused_with_its_key(tmp_path: Path, value: str) -> None:
    (tmp_path / "r.toml").write_text(RULE.format(scope=f"none_within = {value}"), "utf-8")
    with pytest.raises(ConfigError) as err:
        load_rules([tmp_path])
    assert any("none_within" in p and "r.toml" in p for p in err.value.problems), err.value
