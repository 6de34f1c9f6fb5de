"""Rule files (rules/*.toml) -> RuleSet: every key validated, every problem reported at once.

Schema and matching semantics are documented in `monitor.match`. A term is
a string or an inline table {term, fuzzy, weight, min_score, case_sensitive};
its settings resolve term > rule > file [defaults] > built-in default.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.countries import country_code
from monitor.errors import ConfigError
from monitor.model import SEVERITY_NAMES, Severity
from monitor.textnorm import finditer, fold_word

FIELDS = ("title", "summary")
FUZZY_DEFAULT = True
MIN_SCORE_DEFAULT = 88.0
EXACT_MAX_LEN = 4  # terms this short are exact unless the term says otherwise
ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
BAD_STAR_RE = re.compile(r"(?<![^\W_])\*|\*(?=[^\W_])")  # "*" not ending a word
DURATION_RE = re.compile(r"(?:\d+[smhd])+\Z")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TERM_KEYS = ("term", "fuzzy", "weight", "min_score", "case_sensitive")
SCOPE_KEYS = ("fuzzy", "min_score", "fields", "feeds", "tags", "countries")
ROUTE_KEYS = ("channels", "route_tags", "cooldown")
DEFAULT_KEYS = SCOPE_KEYS + ROUTE_KEYS
RULE_KEYS = ("id", "title", "severity", "description", *DEFAULT_KEYS,
             "any", "all", "none", "weights", "threshold", "near")  # fmt: skip
FILE_KEYS = ("theme", "defaults", "rules")
NEAR_KEYS = ("a", "b", "within")


@dataclass(frozen=True)
class Term:
    """One term of a rule, with its matching settings resolved."""

    text: str  # as written in the rule file
    words: tuple[str, ...]  # folded words
    prefixes: tuple[int, ...] = ()  # indices of words written with a trailing "*"
    fuzzy: bool = False
    case_sensitive: bool = False  # acronyms: compared with the original text's case
    min_score: float = MIN_SCORE_DEFAULT
    weight: float = 1.0

    @property
    def prefix(self) -> bool:
        return bool(self.prefixes)


@dataclass(frozen=True)
class Near:
    """Some `a` term within `within` words of some `b` term."""

    a: tuple[Term, ...]
    b: tuple[Term, ...]
    within: int


@dataclass(frozen=True)
class Rule:
    """One validated rule."""

    id: str
    title: str
    severity: Severity
    description: str
    theme: str
    source: str  # file it came from
    any: tuple[Term, ...] = ()
    all: tuple[tuple[Term, ...], ...] = ()
    none: tuple[Term, ...] = ()
    weights: tuple[Term, ...] = ()
    threshold: float = 0.0
    near: tuple[Near, ...] = ()
    fields: tuple[str, ...] = FIELDS
    feeds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    route_tags: tuple[str, ...] = ()
    cooldown: float = 0.0


@dataclass(frozen=True)
class RuleSet:
    """All loaded rules, in file order."""

    rules: tuple[Rule, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


class Checker:
    """Collects problems; each view prefixes its messages with a file and rule path."""

    def __init__(self, prefix: str = "", problems: list[str] | None = None) -> None:
        self.prefix = prefix
        self.problems: list[str] = [] if problems is None else problems

    def at(self, prefix: str) -> Checker:
        return Checker(prefix, self.problems)

    def add(self, message: str) -> None:
        glue = "" if message[:1] in ".:" else ": "
        self.problems.append(f"{self.prefix}{glue}{message}")

    def unknown_keys(self, table: dict[str, Any], allowed: Sequence[str], key: str) -> None:
        for name in table:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f'did you mean "{close[0]}"?' if close else f"allowed: {', '.join(allowed)}"
                self.add(f"{key}{name}: unknown key; {hint}")

    def string(
        self, table: dict[str, Any], name: str, key: str, required: bool = True
    ) -> str | None:
        value = table.get(name)
        if value is None or value == "":
            if required:
                self.add(f"{key}: missing; every rule needs id, title, severity and description")
            return None
        if not isinstance(value, str):
            self.add(f"{key}: {value!r} must be a string")
            return None
        return value

    def strings(self, table: dict[str, Any], name: str, key: str) -> tuple[str, ...]:
        value = table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add(f'{key}: {value!r} must be a list of strings, e.g. {name} = ["a", "b"]')
            return ()
        return tuple(value)

    def score(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            self.add(f"{key}: {value!r} must be a number from 0 to 100, e.g. min_score = 88")
            return MIN_SCORE_DEFAULT
        return float(value)


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """Load every rule file under `paths` (files or directories); ConfigError lists all problems."""
    check = Checker()
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for file in _rule_files(paths, check):
        for index, rule in _load_file(file, check):
            where = f"{file} rules[{index}]"
            if rule.id in seen:
                check.at(f"{file}: rules[{index}] (id={rule.id}).id").add(
                    f'duplicate id "{rule.id}", already defined in {seen[rule.id]}; '
                    "ids must be unique across all rule files"
                )
            seen.setdefault(rule.id, where)
            rules.append(rule)
    if check.problems:
        raise ConfigError(check.problems)
    return RuleSet(tuple(rules))


def _rule_files(paths: Sequence[Path], check: Checker) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.toml") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            check.at(str(path)).add("no such rule file or directory")
    return files


def _load_file(file: Path, check: Checker) -> list[tuple[int, Rule]]:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        check.at(str(file)).add(f"cannot read: {exc.strerror or exc}")
        return []
    except UnicodeDecodeError:
        check.at(str(file)).add("not UTF-8 text; save the file as UTF-8")
        return []
    except tomllib.TOMLDecodeError as exc:
        check.at(f"{file}: line {_line_of(exc, file)}").add(f"TOML syntax error: {exc}")
        return []
    top = check.at(str(file))
    top.unknown_keys(data, FILE_KEYS, "")
    theme = top.string(data, "theme", "theme", required=False) or file.stem
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        top.add("defaults: must be a table, e.g. [defaults] then fuzzy = true")
        defaults = {}
    top.unknown_keys(defaults, DEFAULT_KEYS, "defaults.")
    entries = data.get("rules", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        top.add("rules: must be an array of tables written [[rules]]")
        return []
    out = []
    for index, entry in enumerate(entries):
        rule = _rule(entry, index, theme, defaults, file, check)
        if rule is not None:
            out.append((index, rule))
    return out


def _line_of(exc: tomllib.TOMLDecodeError, file: Path) -> int:
    found = re.search(r"at line (\d+)", str(exc))
    if found:
        return int(found.group(1))
    return max(1, file.read_text(encoding="utf-8").count("\n"))  # "at end of document"


def _rule(
    entry: dict[str, Any],
    index: int,
    theme: str,
    defaults: dict[str, Any],
    file: Path,
    check: Checker,
) -> Rule | None:
    rid = entry.get("id")
    label = f"rules[{index}]" + (f" (id={rid})" if isinstance(rid, str) else "")
    at = check.at(f"{file}: {label}")
    before = len(check.problems)
    merged = {**defaults, **entry}
    at.unknown_keys(entry, RULE_KEYS, ".")
    rule_id = at.string(entry, "id", ".id")
    if rule_id and not ID_RE.match(rule_id):
        at.add(f'.id: "{rule_id}" must be lower case letters, digits, ".", "_" or "-", '
               'starting with a letter or digit, e.g. "genocide-finding"')  # fmt: skip
    severity = at.string(entry, "severity", ".severity")
    if severity is not None and severity.strip().lower() not in SEVERITY_NAMES:
        at.add(f'.severity: "{severity}" is not one of {", ".join(SEVERITY_NAMES)}')
    term_defaults = _term_defaults(merged, at)
    groups = _groups(entry, at, term_defaults)
    rule = Rule(
        id=rule_id or "",
        title=at.string(entry, "title", ".title") or "",
        severity=Severity.parse(severity) if severity and _is_severity(severity) else Severity.INFO,
        description=at.string(entry, "description", ".description") or "",
        theme=theme,
        source=str(file),
        fields=_fields(merged, at),
        feeds=at.strings(merged, "feeds", ".feeds"),
        tags=at.strings(merged, "tags", ".tags"),
        countries=_countries(merged, at),
        channels=at.strings(merged, "channels", ".channels"),
        route_tags=at.strings(merged, "route_tags", ".route_tags"),
        cooldown=_cooldown(merged, at),
        **groups,
    )
    return rule if len(check.problems) == before else None


def _is_severity(text: str | None) -> bool:
    return text is not None and text.strip().lower() in SEVERITY_NAMES


def _term_defaults(merged: dict[str, Any], at: Checker) -> tuple[bool, float]:
    fuzzy = merged.get("fuzzy", FUZZY_DEFAULT)
    if not isinstance(fuzzy, bool):
        at.add(f".fuzzy: {fuzzy!r} must be true or false")
        fuzzy = FUZZY_DEFAULT
    return fuzzy, at.score(merged.get("min_score", MIN_SCORE_DEFAULT), ".min_score")


def _groups(entry: dict[str, Any], at: Checker, dflt: tuple[bool, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("any", "none"):
        if key in entry:
            out[key] = _terms(entry[key], at, f".{key}", dflt)
    if "all" in entry:
        out["all"] = _all(entry["all"], at, dflt)
    if "weights" in entry:
        out["weights"] = _weights(entry["weights"], at, dflt)
    if "near" in entry:
        out["near"] = _near(entry["near"], at, dflt)
    threshold = entry.get("threshold")
    if "weights" in entry and threshold is None:
        at.add(".threshold: missing; weights need a threshold, e.g. threshold = 3")
    if threshold is not None:
        if "weights" not in entry:
            at.add(
                ".threshold: given without weights; add weights = { term = 1, ... } or remove it"
            )
        elif (
            isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0
        ):
            at.add(f".threshold: {threshold!r} must be a positive number, e.g. threshold = 3")
        else:
            out["threshold"] = float(threshold)
    if not any(k in entry for k in ("any", "all", "weights", "near")):
        at.add(": has no terms; give at least one of any, all, weights or near")
    return out


def _terms(value: Any, at: Checker, key: str, dflt: tuple[bool, float]) -> tuple[Term, ...]:
    if not isinstance(value, list) or not value:
        at.add(f'{key}: must be a non-empty list of terms, e.g. ["genocide", "génocide"]')
        return ()
    terms = (_term(v, at, f"{key}[{i}]", dflt) for i, v in enumerate(value))
    return tuple(t for t in terms if t is not None)


def _term(value: Any, at: Checker, key: str, dflt: tuple[bool, float]) -> Term | None:
    spec: dict[str, Any] = {"term": value} if isinstance(value, str) else value
    if not isinstance(spec, dict) or not isinstance(spec.get("term"), str):
        at.add(
            f'{key}: {value!r} must be a string or a table like {{ term = "ICC", fuzzy = false }}'
        )
        return None
    at.unknown_keys(spec, TERM_KEYS, f"{key}.")
    raw = spec["term"].strip()
    words, prefixes = _words_and_prefixes(raw)
    if not words:
        at.add(f'{key}: "{raw}" has no letters or digits; write a word or phrase')
        return None
    if BAD_STAR_RE.search(raw):
        at.add(f'{key}: "{raw}": "*" must end a word, e.g. "displac*" or "recognis* as"')
    if any(len(words[i]) < 3 for i in prefixes):
        at.add(f'{key}: "{raw}": a prefix needs at least 3 letters before "*"')
    acronym = any(c.isupper() for c in raw) and not any(c.islower() for c in raw)
    case_sensitive = _flag(spec, "case_sensitive", acronym, at, key)
    exact_default = acronym or len("".join(words)) <= EXACT_MAX_LEN
    fuzzy = _flag(spec, "fuzzy", dflt[0] and not exact_default, at, key)
    fuzzy = fuzzy and len(prefixes) < len(words)  # prefix words are never fuzzy
    weight = spec.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        at.add(f"{key}.weight: {weight!r} must be a positive number")
        weight = 1
    min_score = at.score(spec.get("min_score", dflt[1]), f"{key}.min_score")
    return Term(raw, words, prefixes, fuzzy, case_sensitive, min_score, float(weight))


def _words_and_prefixes(raw: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Folded words of a term, and the indices of those written with a trailing "*"."""
    words: list[str] = []
    prefixes: list[int] = []
    for m in finditer(raw):
        words.extend(fold_word(m.group()))
        if raw.startswith("*", m.end()) and words:
            prefixes.append(len(words) - 1)
    return tuple(words), tuple(prefixes)


def _flag(spec: dict[str, Any], name: str, default: bool, at: Checker, key: str) -> bool:
    value = spec.get(name, default)
    if not isinstance(value, bool):
        at.add(f"{key}.{name}: {value!r} must be true or false")
        return default
    return value


def _all(value: Any, at: Checker, dflt: tuple[bool, float]) -> tuple[tuple[Term, ...], ...]:
    if not isinstance(value, list) or not value:
        at.add('.all: must be a non-empty list of groups, e.g. all = [["killed"], ["civilians"]]')
        return ()
    # A bare term stands for a group of one.
    groups = ([g] if isinstance(g, str | dict) else g for g in value)
    return tuple(_terms(g, at, f".all[{i}]", dflt) for i, g in enumerate(groups))


def _weights(value: Any, at: Checker, dflt: tuple[bool, float]) -> tuple[Term, ...]:
    if isinstance(value, dict):
        items = [v if isinstance(v, dict) else {"term": k, "weight": v} for k, v in value.items()]
        for item, key in zip(items, value, strict=True):
            item.setdefault("term", key)
        value = items
    return _terms(value, at, ".weights", dflt)


def _near(value: Any, at: Checker, dflt: tuple[bool, float]) -> tuple[Near, ...]:
    example = 'near = [{ a = ["killed"], b = ["civilians"], within = 8 }]'
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        at.add(f".near: must be a non-empty list of tables, e.g. {example}")
        return ()
    out = []
    for i, clause in enumerate(value):
        key = f".near[{i}]"
        at.unknown_keys(clause, NEAR_KEYS, f"{key}.")
        missing = [k for k in NEAR_KEYS if k not in clause]
        if missing:
            at.add(f"{key}: missing {', '.join(missing)}; write {example}")
            continue
        within = clause["within"]
        if isinstance(within, bool) or not isinstance(within, int) or within < 1:
            at.add(f"{key}.within: {within!r} must be a whole number of words >= 1")
            continue
        a = _terms(clause["a"], at, f"{key}.a", dflt)
        b = _terms(clause["b"], at, f"{key}.b", dflt)
        out.append(Near(a, b, within))
    return tuple(out)


def _fields(merged: dict[str, Any], at: Checker) -> tuple[str, ...]:
    fields = at.strings(merged, "fields", ".fields") or FIELDS
    bad = [f for f in fields if f not in FIELDS]
    if bad or ("fields" in merged and not merged["fields"]):
        at.add(f".fields: {bad or '[]'} not allowed; use one or more of {', '.join(FIELDS)}")
    return tuple(f for f in FIELDS if f in fields)


def _countries(merged: dict[str, Any], at: Checker) -> tuple[str, ...]:
    codes = []
    for i, name in enumerate(at.strings(merged, "countries", ".countries")):
        code = country_code(name)
        if code is None:
            at.add(f'.countries[{i}]: "{name}" is not a known country; write an ISO '
                   'alpha-2 code such as "SD" or a name such as "Sudan"')  # fmt: skip
        else:
            codes.append(code)
    return tuple(dict.fromkeys(codes))


def _cooldown(merged: dict[str, Any], at: Checker) -> float:
    value = merged.get("cooldown", 0)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str) and DURATION_RE.match(value.strip()):
        parts = re.findall(r"(\d+)([smhd])", value)
        return float(sum(int(n) * UNITS[u] for n, u in parts))
    at.add(f'.cooldown: {value!r} is not a duration; write e.g. "30s", "10m", "6h" or "2d"')
    return 0.0
