"""One term of a rule file -> Term: its folded words, prefixes, and how each word is compared.

A term is a string or an inline table (`TERM_KEYS`); `terms` reads a list of
them, `term_defaults` the rule's settings they inherit. Problems are added at
the term's key path through the shared strict reader; `monitor.rules.check`
reads the groups that hold terms.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.config.reader import Table
from monitor.match.fold import finditer, fold_word
from monitor.rules.model import MIN_SCORE_DEFAULT, Term

FUZZY_DEFAULT = True
EXACT_MAX_LEN = 4  # terms this short are exact unless the term says otherwise
BAD_STAR_RE = re.compile(r"(?<![^\W_])\*|\*(?=[^\W_])")  # "*" not ending a word
# Terms are words, not patterns: these make a term look like a regular expression, and
# matching would quietly fold them away ("(a+)+$" would fire on the letter "a").
REGEX_CHARS = frozenset("\\^$()[]{}|+?")
TERM_KEYS = ("term", "fuzzy", "weight", "min_score", "case_sensitive")


def score(value: Any, key: str, at: Table) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        at.problem(key, f"{value!r} must be a number from 0 to 100, e.g. min_score = 88")
        return MIN_SCORE_DEFAULT
    return float(value)


def term_defaults(merged: dict[str, Any], at: Table) -> tuple[bool, float]:
    fuzzy = merged.get("fuzzy", FUZZY_DEFAULT)
    if not isinstance(fuzzy, bool):
        at.problem("fuzzy", f"{fuzzy!r} must be true or false")
        fuzzy = FUZZY_DEFAULT
    return fuzzy, score(merged.get("min_score", MIN_SCORE_DEFAULT), "min_score", at)


def terms(value: Any, at: Table, key: str, dflt: tuple[bool, float]) -> tuple[Term, ...]:
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
