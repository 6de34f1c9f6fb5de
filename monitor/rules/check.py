"""Rule values checked one by one: groups of terms, scope and routing keys, each problem named.

Each function reads one key (or one group of terms) of a rule and returns its
validated value, adding a problem at its key path through the shared strict
reader (`monitor.config.reader.Table`) and a usable default when it is wrong.
`monitor.rules.load` walks files and rules and calls them; each term is read by
`monitor.rules.terms`.
"""

from __future__ import annotations

from typing import Any

from monitor.config.reader import Table
from monitor.match.countries import country_code
from monitor.model import Severity
from monitor.rules.model import FIELDS, Near, Term
from monitor.rules.terms import Defaults, terms

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


def severity(entry: dict[str, Any], at: Table) -> Severity:
    text = string(entry, "severity", at)
    try:
        return Severity.parse(text) if text is not None else Severity.INFO
    except ValueError as exc:
        at.problem("severity", str(exc))
        return Severity.INFO


def groups(entry: dict[str, Any], at: Table, dflt: Defaults) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("any", "none"):
        if key in entry:
            out[key] = terms(entry[key], at, key, dflt)
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
    if "lang" in entry and not any(t.family for t in _every_term(out)):
        at.problem("lang", "lang picks the stemmer of family terms and this rule has none: "
                   "add family = true (to the rule or to terms), or remove lang")  # fmt: skip
    return out


def _every_term(groups: dict[str, Any]) -> list[Term]:
    near = [t for n in groups.get("near", ()) for t in (*n.a, *n.b)]
    all_ = [t for g in groups.get("all", ()) for t in g]
    return [*groups.get("any", ()), *groups.get("none", ()), *groups.get("weights", ()), *all_,
            *near]  # fmt: skip


def _all(value: Any, at: Table, dflt: Defaults) -> tuple[tuple[Term, ...], ...]:
    if not isinstance(value, list) or not value:
        at.problem(
            "all", 'must be a non-empty list of groups, e.g. all = [["killed"], ["civilians"]]'
        )
        return ()
    # A bare term stands for a group of one.
    groups = ([g] if isinstance(g, str | dict) else g for g in value)
    return tuple(terms(g, at, f"all[{i}]", dflt) for i, g in enumerate(groups))


def _weights(value: Any, at: Table, dflt: Defaults) -> tuple[Term, ...]:
    if isinstance(value, dict):
        items = [v if isinstance(v, dict) else {"term": k, "weight": v} for k, v in value.items()]
        for item, key in zip(items, value, strict=True):
            item.setdefault("term", key)
        value = items
    return terms(value, at, "weights", dflt)


def _near(value: Any, at: Table, dflt: Defaults) -> tuple[Near, ...]:
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
        a = terms(clause["a"], at, f"{key}.a", dflt)
        b = terms(clause["b"], at, f"{key}.b", dflt)
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
