"""Term packs: `[[terms]]` tables that add terms to rules defined in other files, by rule id.

A language's terms for the whole pack live in one file (rules/lang/ar.toml) instead of in
thirteen theme files: a reader of Arabic reviews one file, and a pack for a new language
is added without editing the themes. Each table names its `rule` and adds to its `any`,
`all` (group by group, in the rule's order), `none`, and `near` (clause by clause, in the
rule's order: a pack's pair, or its `any` pairs, become alternatives of the rule's clause,
which must hold as before; a rule's clauses all hold, so a pack adds none of its own);
`lang`, `family`, `fuzzy` and `min_score` set on the table apply to its plain terms in any,
all and none (inline tables and near clauses keep their own settings and else the rule's);
`lang` picks the stemmer of the table's family terms and is ignored for the others. The
added terms are checked where they are written, so a problem names the pack's file and table.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from monitor.config.reader import Problems, Table
from monitor.rules.check import groups, string
from monitor.rules.terms import term_defaults

TERM_KEYS = ("lang", "family", "fuzzy", "min_score")
EXTEND_KEYS = ("rule", *TERM_KEYS, "any", "all", "none", "near")
LISTS = ("any", "none")

Where = tuple[str, str]  # (file, "terms[i] (rule=...)")
Extensions = dict[str, list[tuple[Where, dict[str, Any]]]]  # rule id -> (where, additions)


def collect(file: Path, data: dict[str, Any], problems: Problems, into: Extensions) -> None:
    """The `[[terms]]` tables of one file, checked, keyed by the rule they extend."""
    tables = data.get("terms", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        problems.add("terms", "must be an array of tables written [[terms]]")
        return
    for index, table in enumerate(tables):
        rid = table.get("rule")
        label = f"terms[{index}]" + (f" (rule={rid})" if isinstance(rid, str) else "")
        at = Table(table, label, problems)
        before = len(problems.items)
        at.finish(EXTEND_KEYS)
        rule_id = string(table, "rule", at)
        added = {k: _wrapped(table, k) for k in ("any", "all", "none", "near") if k in table}
        settings = {k: v for k, v in table.items() if k in TERM_KEYS and k != "lang"}
        groups(added, at, term_defaults(settings, {}, at))  # each added term checked here
        if rule_id and len(problems.items) == before:
            into[rule_id].append(((str(file), label), added))


def extend(entry: dict[str, Any], additions: list[tuple[Where, dict[str, Any]]],
           problems: Problems) -> dict[str, Any]:  # fmt: skip
    """The rule's table with every pack's terms added; a pack with more `all` groups than
    the rule has is a problem naming the pack."""
    out = dict(entry)
    for where, added in additions:
        for key in LISTS:
            if key in added:
                out[key] = [*_list(out.get(key)), *added[key]]
        if "all" in added:
            mine = [list(g) for g in _list(out.get("all"))]
            theirs = _list(added["all"])
            if len(theirs) > len(mine):
                said = f'"all" has {len(theirs)} groups; rule {entry.get("id")} has {len(mine)}'
                problems.at(where[0]).add(where[1], f"{said}: add to its groups in order")
                continue
            for i, group in enumerate(theirs):
                mine[i] += _list(group)
            out["all"] = mine
        if "near" in added:
            theirs = _list(added["near"])
            out["near"] = _near(entry, _list(out.get("near")), theirs, where, problems)
    return out


def _near(entry: dict[str, Any], mine: list[Any], theirs: list[Any], where: Where,
          problems: Problems) -> list[Any]:  # fmt: skip
    """The rule's near clauses with the pack's pairs as alternatives of each, in order."""
    if len(theirs) > len(mine):
        said = f'"near" has {len(theirs)} clauses; rule {entry.get("id")} has {len(mine)}'
        problems.at(where[0]).add(where[1], f"{said}: add pairs to its clauses in order")
        return mine
    out = list(mine)
    for i, clause in enumerate(theirs):
        out[i] = {"any": _pairs(mine[i]) + _pairs(clause)}
    return out


def _pairs(clause: Any) -> list[Any]:
    """A clause's pairs, each with its own `within` (a clause's shared one copied in)."""
    if not isinstance(clause, dict):
        return []
    if "any" not in clause:
        return [{k: clause[k] for k in ("a", "b", "within") if k in clause}]
    within = clause.get("within")
    pairs = [p for p in _list(clause["any"]) if isinstance(p, dict)]
    return [p if "within" in p or within is None else {**p, "within": within} for p in pairs]


def unknown(extensions: Extensions, ids: set[str], problems: Problems) -> None:
    for rule_id, additions in extensions.items():
        if rule_id not in ids:
            for where, _ in additions:
                problems.at(where[0]).add(
                    where[1], f'rule "{rule_id}" is defined in no rule file; check the id'
                )


def new() -> Extensions:
    return defaultdict(list)


def _wrapped(table: dict[str, Any], key: str) -> Any:
    """Plain terms of any/all/none as inline tables carrying the pack's settings."""
    value = table[key]
    settings = {k: table[k] for k in TERM_KEYS if k in table}
    if key == "near" or not settings or not isinstance(value, list):
        return value
    if key == "all":
        return [[_term(t, settings) for t in g] if isinstance(g, list) else g for g in value]
    return [_term(t, settings) for t in value]


def _term(term: Any, settings: dict[str, Any]) -> Any:
    if isinstance(term, str):
        out = {"term": term, **settings}
    elif isinstance(term, dict):
        out = {**settings, **term}
    else:
        return term
    if not out.get("family"):
        out.pop("lang", None)  # the pack's language: it picks a stemmer for family terms only
    return out


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []
