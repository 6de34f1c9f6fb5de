"""One term of a rule file -> Term: its folded words, prefixes, and how each word is compared.

A term is a string or an inline table (`TERM_KEYS`); `terms` reads a list of
them, `term_defaults` the rule's settings they inherit. Problems are added at
the term's key path through the shared strict reader; `monitor.rules.check`
reads the groups that hold terms.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from monitor.config.reader import Table
from monitor.match.fold import finditer, fold_word
from monitor.rules.model import LANGS, MIN_SCORE_DEFAULT, Term

FUZZY_DEFAULT = True
EXACT_MAX_LEN = 4  # terms this short are exact unless the term says otherwise
BAD_STAR_RE = re.compile(r"(?<![^\W_])\*|\*(?=[^\W_])")  # "*" not ending a word
# Terms are words, not patterns: these make a term look like a regular expression, and
# matching would quietly fold them away ("(a+)+$" would fire on the letter "a").
REGEX_CHARS = frozenset("\\^$()[]{}|+?")
TERM_KEYS = ("term", "fuzzy", "family", "lang", "weight", "min_score", "case_sensitive")
BOTH = ("fuzzy = true and family = true: a word is compared one way; family matches its "
        'inflections ("executed" for "executions"), fuzzy its misspellings; keep one')  # fmt: skip


class Defaults(NamedTuple):
    """What a rule's terms inherit: the rule's settings over the file's [defaults]."""

    fuzzy: bool
    min_score: float
    family: bool = False
    lang: str = ""  # "" tries the languages of each word's script (monitor.match.family)


def score(value: Any, key: str, at: Table) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        at.problem(key, f"{value!r} must be a number from 0 to 100, e.g. min_score = 88")
        return MIN_SCORE_DEFAULT
    return float(value)


def term_defaults(entry: dict[str, Any], defaults: dict[str, Any], at: Table) -> Defaults:
    """The rule's term settings. When fuzzy and family are both true, the one set closer to
    the rule wins (rule over [defaults] over the built-in fuzzy); both in one table is
    refused (`refuse_both`, called on the rule here and on [defaults] by the loader)."""
    merged = {**defaults, **entry}
    fuzzy = _flag(merged, "fuzzy", FUZZY_DEFAULT, at)
    family = _flag(merged, "family", False, at)
    refuse_both(entry, at)
    if fuzzy and family:
        if _level("fuzzy", entry, defaults) > _level("family", entry, defaults):
            family = False
        else:
            fuzzy = False
    lang = language(merged.get("lang", ""), at, "lang")
    return Defaults(fuzzy, score(merged.get("min_score", MIN_SCORE_DEFAULT), "min_score", at),
                    family, lang)  # fmt: skip


def refuse_both(table: dict[str, Any], at: Table, key: str = "") -> None:
    """fuzzy = true and family = true in one table (a term, a rule, [defaults])."""
    if table.get("fuzzy") is True and table.get("family") is True:
        at.problem(_key(key, "family"), BOTH)


def language(value: Any, at: Table, key: str) -> str:
    if value == "" or value in LANGS:
        return str(value)
    names = ", ".join(f'"{lang}"' for lang in LANGS)
    scripts = "(Latin: en, fr, es; Cyrillic: ru, uk; Arabic: ar)"
    at.problem(key, f"{value!r} is not one of {names}; leave lang out to try the languages "
               f"of each word's script {scripts}")  # fmt: skip
    return ""


def _level(name: str, entry: dict[str, Any], defaults: dict[str, Any]) -> int:
    return 2 if name in entry else 1 if name in defaults else 0


def terms(value: Any, at: Table, key: str, dflt: Defaults) -> tuple[Term, ...]:
    if not isinstance(value, list) or not value:
        at.problem(key, 'must be a non-empty list of terms, e.g. ["genocide", "génocide"]')
        return ()
    terms = (_term(v, at, f"{key}[{i}]", dflt) for i, v in enumerate(value))
    return tuple(t for t in terms if t is not None)


def _term(value: Any, at: Table, key: str, dflt: Defaults) -> Term | None:
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
    how = _comparison(spec, raw, words, prefixes, dflt, at, key)
    weight = spec.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        at.problem(f"{key}.weight", f"{weight!r} must be a positive number")
        weight = 1
    min_score = score(spec.get("min_score", dflt.min_score), f"{key}.min_score", at)
    return Term(raw, words, prefixes, how.fuzzy, how.case_sensitive, min_score, float(weight),
                how.family, how.lang)  # fmt: skip


class _How(NamedTuple):
    fuzzy: bool
    family: bool
    case_sensitive: bool
    lang: str


def _comparison(
    spec: dict[str, Any],
    raw: str,
    words: tuple[str, ...],
    prefixes: tuple[int, ...],
    dflt: Defaults,
    at: Table,
    key: str,
) -> _How:
    """How the term's words are compared: its own settings over the rule's. Prefix words
    are prefixes whatever the term says; acronyms are neither fuzzy nor family by default."""
    acronym = any(c.isupper() for c in raw) and not any(c.islower() for c in raw)
    case_sensitive = _flag(spec, "case_sensitive", acronym, at, key)
    refuse_both(spec, at, key)
    others = len(prefixes) < len(words)  # words that are not prefixes
    family = _flag(spec, "family", dflt.family and not case_sensitive, at, key)
    family = family and spec.get("fuzzy") is not True and others
    exact_default = acronym or len("".join(words)) <= EXACT_MAX_LEN
    fuzzy = _flag(spec, "fuzzy", dflt.fuzzy and not exact_default, at, key)
    fuzzy = fuzzy and not family and others
    lang = language(spec.get("lang", dflt.lang), at, f"{key}.lang")
    _refuse_family(spec, raw, family, case_sensitive, others, at, key)
    return _How(fuzzy, family, case_sensitive, lang if family else "")


def _refuse_family(
    spec: dict[str, Any],
    raw: str,
    family: bool,
    case_sensitive: bool,
    others: bool,
    at: Table,
    key: str,
) -> None:
    """Settings that make no sense with (or without) family = true on this term."""
    if spec.get("family") is True and case_sensitive:
        at.problem(f"{key}.family", f'"{raw}" is case-sensitive (compared as written) and '
                   "family forms are compared folded; drop family, or set "
                   "case_sensitive = false")  # fmt: skip
    if spec.get("family") is True and not others:
        at.problem(f"{key}.family", f'"{raw}" is a prefix, which already takes every ending; '
                   'family = true would change nothing: write the word ("displaced") with '
                   "family = true, or keep the prefix without it")  # fmt: skip
    if family and "min_score" in spec:
        at.problem(f"{key}.min_score", f'"{raw}" matches by family (same stem, scored '
                   "100 or 95), not fuzzily: remove min_score, or make the term "
                   "fuzzy = true")  # fmt: skip
    if "lang" in spec and not family:
        at.problem(f"{key}.lang", f'lang picks the stemmer of a family term and "{raw}" is '
                   "not one: add family = true, or remove lang")  # fmt: skip


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


def _flag(spec: dict[str, Any], name: str, default: bool, at: Table, key: str = "") -> bool:
    value = spec.get(name, default)
    if not isinstance(value, bool):
        at.problem(_key(key, name), f"{value!r} must be true or false")
        return default
    return value


def _key(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name
