"""Rule values checked one by one: terms, groups, scope and routing keys, each problem named.

Each function reads one key (or one group of terms) of a rule and returns its
validated value, adding a problem at its key path through the shared strict
reader (`monitor.config.reader.Table`) and a usable default when it is wrong.
`monitor.rules.load` walks files and rules and calls them.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.config.reader import Table
from monitor.match.countries import country_code
from monitor.match.fold import finditer, fold_word
from monitor.model import Severity
from monitor.rules.model import FIELDS, MIN_SCORE_DEFAULT, Near, Term

FUZZY_DEFAULT = True
EXACT_MAX_LEN = 4  # terms this short are exact unless the term says otherwise
BAD_STAR_RE = re.compile(r"(?<![^\W_])\*|\*(?=[^\W_])")  # "*" not ending a word
# Terms are words, not patterns: these make a term look like a regular expression, and
# matching would quietly fold them away ("(a+)+$" would fire on the letter "a").
REGEX_CHARS = frozenset("\\^$()[]{}|+?")
TERM_KEYS = ("term", "fuzzy", "weight", "min_score", "case_sensitive")
NEAR_KEYS = ("a", "b", "within")


def string(entry: dict[str, Any], name: str, at: Table, required: bool = True) -> str | None:
    value = entry.get(name)
    if value is None or value == "":
        if required:
            at.problem(name, "missing; every rule needs id, title, severity and description")
        return None
    if not isinstance(value, str):
        at.problem(name, f"{value!r} must be a string")
        return None
    return value


def strings(merged: dict[str, Any], name: str, at: Table) -> tuple[str, ...]:
    value = merged.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        at.problem(name, f'{value!r} must be a list of strings, e.g. {name} = ["a", "b"]')
        return ()
    return tuple(value)


def score(value: Any, key: str, at: Table) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        at.problem(key, f"{value!r} must be a number from 0 to 100, e.g. min_score = 88")
        return MIN_SCORE_DEFAULT
    return float(value)


def severity(entry: dict[str, Any], at: Table) -> Severity:
    text = string(entry, "severity", at)
    try:
        return Severity.parse(text) if text is not None else Severity.INFO
    except ValueError as exc:
        at.problem("severity", str(exc))
        return Severity.INFO


def term_defaults(merged: dict[str, Any], at: Table) -> tuple[bool, float]:
    fuzzy = merged.get("fuzzy", FUZZY_DEFAULT)
    if not isinstance(fuzzy, bool):
        at.problem("fuzzy", f"{fuzzy!r} must be true or false")
        fuzzy = FUZZY_DEFAULT
    return fuzzy, score(merged.get("min_score", MIN_SCORE_DEFAULT), "min_score", at)


def groups(entry: dict[str, Any], at: Table, dflt: tuple[bool, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("any", "none"):
        if key in entry:
            out[key] = _terms(entry[key], at, key, dflt)
    if "all" in entry:
        out["all"] = _all(entry["all"], at, dflt)
    if "weights" in entry:
        out["weights"] = _weights(entry["weights"], at, dflt)
    if "near" in entry:
        out["near"] = _near(entry["near"], at, dflt)
    threshold = entry.get("threshold")
    if "weights" in entry and threshold is None:
        at.problem("threshold", "missing; weights need a threshold, e.g. threshold = 3")
    if threshold is not None:
        if "weights" not in entry:
            at.problem(
                "threshold", "given without weights; add weights = { term = 1, ... } or remove it"
            )
        elif (
            isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0
        ):
            at.problem("threshold", f"{threshold!r} must be a positive number, e.g. threshold = 3")
        else:
            out["threshold"] = float(threshold)
    if not any(k in entry for k in ("any", "all", "weights", "near")):
        at.problem("", "has no terms; give at least one of any, all, weights or near")
    return out


def _terms(value: Any, at: Table, key: str, dflt: tuple[bool, float]) -> tuple[Term, ...]:
    if not isinstance(value, list) or not value:
        at.problem(key, 'must be a non-empty list of terms, e.g. ["genocide", "génocide"]')
        return ()
    terms = (_term(v, at, f"{key}[{i}]", dflt) for i, v in enumerate(value))
    return tuple(t for t in terms if t is not None)


def _term(value: Any, at: Table, key: str, dflt: tuple[bool, float]) -> Term | None:
    spec: dict[str, Any] = {"term": value} if isinstance(value, str) else value
    if not isinstance(spec, dict) or not isinstance(spec.get("term"), str):
        at.problem(
            key, f'{value!r} must be a string or a table like {{ term = "ICC", fuzzy = false }}'
        )
        return None
    at.at(key, spec).finish(TERM_KEYS)
    raw = spec["term"].strip()
    words, prefixes = _words_and_prefixes(raw)
    if not words:
        at.problem(key, f'"{raw}" has no letters or digits; write a word or phrase')
        return None
    if _plain_problem(raw, words, prefixes, at, key):
        return None
    if BAD_STAR_RE.search(raw):
        at.problem(key, f'"{raw}": "*" must end a word, e.g. "displac*" or "recognis* as"')
    if any(len(words[i]) < 3 for i in prefixes):
        at.problem(key, f'"{raw}": a prefix needs at least 3 letters before "*"')
    acronym = any(c.isupper() for c in raw) and not any(c.islower() for c in raw)
    case_sensitive = _flag(spec, "case_sensitive", acronym, at, key)
    exact_default = acronym or len("".join(words)) <= EXACT_MAX_LEN
    fuzzy = _flag(spec, "fuzzy", dflt[0] and not exact_default, at, key)
    fuzzy = fuzzy and len(prefixes) < len(words)  # prefix words are never fuzzy
    weight = spec.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        at.problem(f"{key}.weight", f"{weight!r} must be a positive number")
        weight = 1
    min_score = score(spec.get("min_score", dflt[1]), f"{key}.min_score", at)
    return Term(raw, words, prefixes, fuzzy, case_sensitive, min_score, float(weight))


def _plain_problem(
    raw: str, words: tuple[str, ...], prefixes: tuple[int, ...], at: Table, key: str
) -> bool:
    """Refuse a term that looks like a regular expression, or is a single letter (a short
    prefix has its own message below)."""
    marks = "".join(sorted({c for c in raw if c in REGEX_CHARS}))
    if marks:
        at.problem(key, f'"{raw}" looks like a regular expression ({marks}); terms are '
                   'plain words or phrases (a trailing "*" makes a prefix)')  # fmt: skip
        return True
    if not prefixes and len("".join(words)) < 2:
        at.problem(key, f'"{raw}" is a single letter and would match almost any text; '
                   "write a whole word or phrase")  # fmt: skip
        return True
    return False


def _words_and_prefixes(raw: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Folded words of a term, and the indices of those written with a trailing "*"."""
    words: list[str] = []
    prefixes: list[int] = []
    for m in finditer(raw):
        words.extend(fold_word(m.group()))
        if raw.startswith("*", m.end()) and words:
            prefixes.append(len(words) - 1)
    return tuple(words), tuple(prefixes)


def _flag(spec: dict[str, Any], name: str, default: bool, at: Table, key: str) -> bool:
    value = spec.get(name, default)
    if not isinstance(value, bool):
        at.problem(f"{key}.{name}", f"{value!r} must be true or false")
        return default
    return value


def _all(value: Any, at: Table, dflt: tuple[bool, float]) -> tuple[tuple[Term, ...], ...]:
    if not isinstance(value, list) or not value:
        at.problem(
            "all", 'must be a non-empty list of groups, e.g. all = [["killed"], ["civilians"]]'
        )
        return ()
    # A bare term stands for a group of one.
    groups = ([g] if isinstance(g, str | dict) else g for g in value)
    return tuple(_terms(g, at, f"all[{i}]", dflt) for i, g in enumerate(groups))


def _weights(value: Any, at: Table, dflt: tuple[bool, float]) -> tuple[Term, ...]:
    if isinstance(value, dict):
        items = [v if isinstance(v, dict) else {"term": k, "weight": v} for k, v in value.items()]
        for item, key in zip(items, value, strict=True):
            item.setdefault("term", key)
        value = items
    return _terms(value, at, "weights", dflt)


def _near(value: Any, at: Table, dflt: tuple[bool, float]) -> tuple[Near, ...]:
    example = 'near = [{ a = ["killed"], b = ["civilians"], within = 8 }]'
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        at.problem("near", f"must be a non-empty list of tables, e.g. {example}")
        return ()
    out = []
    for i, clause in enumerate(value):
        key = f"near[{i}]"
        at.at(key, clause).finish(NEAR_KEYS)
        missing = [k for k in NEAR_KEYS if k not in clause]
        if missing:
            at.problem(key, f"missing {', '.join(missing)}; write {example}")
            continue
        within = clause["within"]
        if isinstance(within, bool) or not isinstance(within, int) or within < 1:
            at.problem(f"{key}.within", f"{within!r} must be a whole number of words >= 1")
            continue
        a = _terms(clause["a"], at, f"{key}.a", dflt)
        b = _terms(clause["b"], at, f"{key}.b", dflt)
        out.append(Near(a, b, within))
    return tuple(out)


def fields(merged: dict[str, Any], at: Table) -> tuple[str, ...]:
    fields = strings(merged, "fields", at) or FIELDS
    bad = [f for f in fields if f not in FIELDS]
    if bad or ("fields" in merged and not merged["fields"]):
        at.problem("fields", f"{bad or '[]'} not allowed; use one or more of {', '.join(FIELDS)}")
    return tuple(f for f in FIELDS if f in fields)


def countries(merged: dict[str, Any], at: Table) -> tuple[str, ...]:
    codes = []
    for i, name in enumerate(strings(merged, "countries", at)):
        code = country_code(name)
        if code is None:
            at.problem(f"countries[{i}]", f'"{name}" is not a known country; write an ISO '
                       'alpha-2 code such as "SD" or a name such as "Sudan"')  # fmt: skip
        else:
            codes.append(code)
    return tuple(dict.fromkeys(codes))
