"""Rule files load into a RuleSet, or fail with every problem named by file, rule and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.model import Severity
from monitor.rules import RuleSet, load_rules

FIXTURES = Path(__file__).parent / "data" / "rules_fixtures"


def problems(*paths: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_rules(list(paths))
    return caught.value.problems


def test_good_directory_loads_every_rule_in_file_order() -> None:
    """A directory loads all *.toml files, sorted, with their rules in order."""
    rules = load_rules([FIXTURES / "good"])
    assert isinstance(rules, RuleSet)
    assert rules.ids[:2] == ("genocide-finding", "ethnic-cleansing")
    assert len(rules) == 7
    assert "un-only" in rules.ids


def test_settings_resolve_from_file_rule_and_term() -> None:
    """Theme defaults to the file stem; cooldown becomes seconds; names become codes."""
    rules = load_rules([FIXTURES / "good"])
    genocide = rules.get("genocide-finding")
    assert genocide is not None
    assert genocide.severity is Severity.CRITICAL
    assert genocide.cooldown == 6 * 3600
    hinted = load_rules([FIXTURES / "hinted"]).get("genocide-to-ops")
    assert hinted is not None and hinted.channels == ("ops",)
    scoped = rules.get("rohingya-darfur")
    assert scoped is not None and scoped.countries == ("MM", "BD")
    assert scoped.fields == ("title",)
    un_only = rules.get("un-only")
    assert un_only is not None
    assert un_only.theme == "routing" and un_only.cooldown == 36 * 3600
    assert un_only.any[0].fuzzy is False


def test_short_terms_and_acronyms_are_exact_and_acronyms_case_sensitive() -> None:
    """ICC and CPI are exact and case-sensitive; long terms are fuzzy by default."""
    rule = load_rules([FIXTURES / "good"]).get("icc-warrant")
    assert rule is not None
    icc, cpi, court = rule.all[0]
    assert (icc.fuzzy, icc.case_sensitive) == (False, True)
    assert (cpi.fuzzy, cpi.case_sensitive) == (False, True)
    assert (court.fuzzy, court.case_sensitive) == (True, False)


def test_prefix_terms_are_never_fuzzy() -> None:
    """displac* is a prefix term."""
    rule = load_rules([FIXTURES / "good"]).get("displacement-signals")
    assert rule is not None
    displac = rule.weights[0]
    assert displac.prefix and not displac.fuzzy and displac.words == ("displac",)
    assert rule.threshold == 3 and rule.weights[1].weight == 2


def test_empty_directory_is_zero_rules() -> None:
    """An empty rules folder is allowed and holds nothing."""
    assert len(load_rules([FIXTURES / "empty"])) == 0


def test_every_problem_is_reported_at_once() -> None:
    """One ConfigError names each broken rule, with file, index, id and key."""
    found = problems(FIXTURES / "broken")
    expected = [
        'problems.toml: rules[0] (id=bad-severity).severity: "severe" is not one of '
        "info, low, medium, high, critical",
        'problems.toml: rules[2] (id=unknown-key).treshold: unknown key; did you mean "threshold"?',
        "problems.toml: rules[3] (id=empty-group).any: must be a non-empty list",
        "problems.toml: rules[3] (id=empty-group).all[1]: must be a non-empty list",
        "problems.toml: rules[4] (id=weights-no-threshold).threshold: missing",
        "problems.toml: rules[5] (id=threshold-no-weights).threshold: given without weights",
        'problems.toml: rules[6] (id=bad-cooldown).cooldown: "6 hours" is not a duration; write',
        "problems.toml: rules[7] (id=bad-fields).fields: ['body'] not allowed",
        "problems.toml: rules[8] (id=bad-near).near[0]: missing within",
        "problems.toml: rules[9] (id=no-terms): has no terms",
        "problems.toml: rules[10] (id=bad-types).title: 5 must be a string",
        "problems.toml: rules[10] (id=bad-types).fuzzy: 'yes' must be true or false",
        "problems.toml: rules[10] (id=bad-types).min_score: 120 must be a number from 0 to 100",
        "problems.toml: rules[10] (id=bad-types).any[1]: 3 must be a string or a table",
        'problems.toml: rules[10] (id=bad-types).any[2].fuzy: unknown key; did you mean "fuzzy"?',
        'problems.toml: rules[10] (id=bad-types).any[3]: "*bad": "*" must end a word',
        'problems.toml: rules[10] (id=bad-types).any[4]: "a*": a prefix needs at least 3 letters',
        'problems.toml: rules[10] (id=bad-types).countries[0]: "Narnia" is not a known country',
        "problems.toml: colour: unknown key",
        "problems.toml: rules[1] (id=Bad Id).id:",
        "duplicate.toml: rules[1].id: missing",
        "duplicate.toml: rules[1].description: missing",
        'problems.toml: rules[11] (id=dup).id: duplicate id "dup", already defined in',
        "syntax.toml: line 4: TOML syntax error",
    ]
    for text in expected:
        assert any(text in p for p in found), f"not reported: {text}\n" + "\n".join(found)
    assert len(found) == len(expected)


def test_missing_path_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    """A path that does not exist is reported by name."""
    assert problems(tmp_path / "nope.toml") == [
        f"{tmp_path / 'nope.toml'}: no such rule file or directory"
    ]


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    """A file in another encoding is a named problem."""
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('theme = "génocide"'.encode("latin-1"))
    assert problems(bad) == [f"{bad}: not UTF-8 text; save the file as UTF-8"]


def test_weights_as_a_list_of_tables(tmp_path: Path) -> None:
    """weights may be written as a list of { term, weight } tables."""
    path = tmp_path / "w.toml"
    path.write_text(
        '[[rules]]\nid = "w"\ntitle = "W"\nseverity = "low"\ndescription = "d"\n'
        'weights = [{ term = "shelling", weight = 2 }, "killed"]\nthreshold = 3\n',
        encoding="utf-8",
    )
    rule = load_rules([path]).get("w")
    assert rule is not None
    assert [(t.text, t.weight) for t in rule.weights] == [("shelling", 2.0), ("killed", 1.0)]


def one_rule(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "r.toml"
    path.write_text(
        '[[rules]]\nid = "r"\ntitle = "R"\nseverity = "low"\ndescription = "d"\n'
        f'any = ["killed"]\n{extra}\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("'1w'", 604800), ("'1h30m'", 5400), ("'1d12h'", 129600), ("'500ms'", 0.5), ("90", 90)],
)
def test_cooldown_takes_the_duration_grammar_of_the_config(
    tmp_path: Path, written: str, seconds: float
) -> None:
    """cooldown reads like every config duration: compound values, weeks, bare seconds."""
    rule = load_rules([one_rule(tmp_path, f"cooldown = {written}")]).get("r")
    assert rule is not None and rule.cooldown == seconds


@pytest.mark.parametrize("written", ["'10 minutes'", "'1h 30x'", "'-5m'", "''", "true"])
def test_cooldown_refuses_what_is_not_a_duration(tmp_path: Path, written: str) -> None:
    """A cooldown that is not a duration is one problem with the usual advice."""
    path = one_rule(tmp_path, f"cooldown = {written}")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}: rules[0] (id=r).cooldown: ")
    assert problem.endswith("is not a duration; write 10m, 1h or 2d")


def test_unknown_rule_key_without_a_close_name_lists_the_allowed_keys(tmp_path: Path) -> None:
    """An unknown key with no near spelling is named with the keys a rule may have."""
    (problem,) = problems(one_rule(tmp_path, "zzz = 1"))
    assert "rules[0] (id=r).zzz: unknown key; allowed: id, title, severity" in problem
