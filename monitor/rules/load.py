"""Rule files (rules/*.toml) -> RuleSet: every key validated, every problem reported at once.

Schema and matching semantics are documented in `monitor.match`. A term is
a string or an inline table {term, fuzzy, family, lang, weight, min_score,
case_sensitive}; its settings resolve term > rule > file [defaults] >
built-in default (fuzzy and family: `monitor.rules.terms`).
This module walks files and rules; each value is checked in
`monitor.rules.check` (each term in `monitor.rules.terms`), every problem
collected by the strict reader of `monitor.config.reader`; the frozen model
lives in `monitor.rules.model`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.config.reader import Problems, Table
from monitor.errors import ConfigError
from monitor.rules import extend
from monitor.rules.check import countries, fields, groups, severity, string, strings
from monitor.rules.model import FIELDS, MIN_SCORE_DEFAULT, Near, Rule, RuleSet, Term
from monitor.rules.terms import refuse_both, term_defaults

__all__ = ["FIELDS", "MIN_SCORE_DEFAULT", "Near", "Rule", "RuleSet", "Term", "load_rules"]

ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
TERM_DEFAULT_KEYS = ("fuzzy", "family", "lang", "min_score")
SCOPE_KEYS = (*TERM_DEFAULT_KEYS, "fields", "feeds", "tags", "countries", "none_within")
ROUTE_KEYS = ("channels", "route_tags", "cooldown")
DEFAULT_KEYS = SCOPE_KEYS + ROUTE_KEYS
RULE_KEYS = ("id", "title", "severity", "description", *DEFAULT_KEYS,
             "any", "all", "none", "weights", "threshold", "near")  # fmt: skip
FILE_KEYS = ("theme", "defaults", "rules", "terms")


def _none_within(at: Table) -> int:
    value = at.get("none_within", int, 0)
    if value < 0:
        at.problem("none_within", f"{value} must be a whole number of words >= 1 (0: anywhere)")
        return 0
    return value


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """Load every rule file under `paths` (files or directories); ConfigError lists all problems."""
    check = Problems("")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    files = [(f, _read(f, check)) for f in _rule_files(paths, check)]
    packs = extend.new()  # [[terms]] of every file, applied to their rules wherever they are
    for file, data in files:
        if data is not None:
            extend.collect(file, data, check.at(str(file)), packs)
    for file, data in files:
        for index, rule in _load_file(file, data, check, packs):
            where = f"{file} rules[{index}]"
            if rule.id in seen:
                check.at(str(file)).add(
                    f"rules[{index}] (id={rule.id}).id",
                    f'duplicate id "{rule.id}", already defined in {seen[rule.id]}; '
                    "ids must be unique across all rule files",
                )
            seen.setdefault(rule.id, where)
            rules.append(rule)
    extend.unknown(packs, _ids(files), check)
    if check.items:
        raise ConfigError(check.items)
    return RuleSet(tuple(rules))


def _rule_files(paths: Sequence[Path], check: Problems) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.toml") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            check.at(str(path)).add("", "no such rule file or directory")
    return files


def _ids(files: list[tuple[Path, dict[str, Any] | None]]) -> set[str]:
    """Every rule id written in the files, valid rule or not (a pack names the rule it
    extends; a problem in that rule is reported once, as itself)."""
    entries = [e for _, d in files if d for e in d.get("rules", []) if isinstance(e, dict)]
    return {e["id"] for e in entries if isinstance(e.get("id"), str)}


def _read(file: Path, check: Problems) -> dict[str, Any] | None:
    problems = check.at(str(file))
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.add("", f"cannot read: {exc.strerror or exc}")
    except UnicodeDecodeError:
        problems.add("", "not UTF-8 text; save the file as UTF-8")
    except tomllib.TOMLDecodeError as exc:
        problems.add(f"line {_line_of(exc, file)}", f"TOML syntax error: {exc}")
    return None


def _load_file(
    file: Path, data: dict[str, Any] | None, check: Problems, packs: extend.Extensions
) -> list[tuple[int, Rule]]:
    if data is None:
        return []
    problems = check.at(str(file))
    top = Table(data, "", problems)
    top.finish(FILE_KEYS)
    theme = string(data, "theme", top, required=False) or file.stem
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        top.problem("defaults", "must be a table, e.g. [defaults] then fuzzy = true")
        defaults = {}
    top.at("defaults", defaults).finish(DEFAULT_KEYS)
    refuse_both(defaults, top.at("defaults", defaults))
    entries = data.get("rules", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        top.problem("rules", "must be an array of tables written [[rules]]")
        return []
    out = []
    for index, entry in enumerate(entries):
        added = packs.get(entry.get("id")) if isinstance(entry.get("id"), str) else None
        if added:
            entry = extend.extend(entry, added, check)
        rule = _rule(entry, index, theme, defaults, file, problems)
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
    problems: Problems,
) -> Rule | None:
    rid = entry.get("id")
    label = f"rules[{index}]" + (f" (id={rid})" if isinstance(rid, str) else "")
    merged = {**defaults, **entry}
    at = Table(merged, label, problems)
    before = len(problems.items)
    at.at("", entry).finish(RULE_KEYS)
    rule_id = string(entry, "id", at)
    if rule_id and not ID_RE.match(rule_id):
        at.problem("id", f'"{rule_id}" must be lower case letters, digits, ".", "_" or "-", '
                   'starting with a letter or digit, e.g. "genocide-finding"')  # fmt: skip
    rule_severity = severity(entry, at)
    dflt = term_defaults(entry, defaults, at)
    terms = groups(entry, at, dflt)
    rule = Rule(
        id=rule_id or "",
        title=string(entry, "title", at) or "",
        severity=rule_severity,
        description=string(entry, "description", at) or "",
        theme=theme,
        source=str(file),
        fields=fields(merged, at),
        feeds=strings(merged, "feeds", at),
        tags=strings(merged, "tags", at),
        countries=countries(merged, at),
        channels=strings(merged, "channels", at),
        route_tags=strings(merged, "route_tags", at),
        cooldown=at.duration("cooldown", 0.0),
        none_within=_none_within(at),
        **terms,
    )
    return rule if len(problems.items) == before else None
