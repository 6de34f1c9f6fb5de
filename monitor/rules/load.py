"""Rule files (rules/*.toml) -> RuleSet: every key validated, every problem reported at once.

Schema and matching semantics are documented in `monitor.match`. A term is
a string or an inline table {term, fuzzy, weight, min_score, case_sensitive};
its settings resolve term > rule > file [defaults] > built-in default.
This module walks files and rules; each value is checked in
`monitor.rulecheck`; the frozen model (Term, Near, Rule, RuleSet) lives in
`monitor.rulemodel` and is re-exported here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.model import SEVERITY_NAMES, Severity
from monitor.rules.check import Checker, cooldown, countries, fields, groups, term_defaults
from monitor.rules.model import FIELDS, MIN_SCORE_DEFAULT, Near, Rule, RuleSet, Term

__all__ = ["FIELDS", "MIN_SCORE_DEFAULT", "Near", "Rule", "RuleSet", "Term", "load_rules"]

ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
SCOPE_KEYS = ("fuzzy", "min_score", "fields", "feeds", "tags", "countries")
ROUTE_KEYS = ("channels", "route_tags", "cooldown")
DEFAULT_KEYS = SCOPE_KEYS + ROUTE_KEYS
RULE_KEYS = ("id", "title", "severity", "description", *DEFAULT_KEYS,
             "any", "all", "none", "weights", "threshold", "near")  # fmt: skip
FILE_KEYS = ("theme", "defaults", "rules")


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
    dflt = term_defaults(merged, at)
    terms = groups(entry, at, dflt)
    rule = Rule(
        id=rule_id or "",
        title=at.string(entry, "title", ".title") or "",
        severity=Severity.parse(severity) if severity and _is_severity(severity) else Severity.INFO,
        description=at.string(entry, "description", ".description") or "",
        theme=theme,
        source=str(file),
        fields=fields(merged, at),
        feeds=at.strings(merged, "feeds", ".feeds"),
        tags=at.strings(merged, "tags", ".tags"),
        countries=countries(merged, at),
        channels=at.strings(merged, "channels", ".channels"),
        route_tags=at.strings(merged, "route_tags", ".route_tags"),
        cooldown=cooldown(merged, at),
        **terms,
    )
    return rule if len(check.problems) == before else None


def _is_severity(text: str | None) -> bool:
    return text is not None and text.strip().lower() in SEVERITY_NAMES
