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
from monitor.rules.model import FIELDS, Near, NearPair, Term
from monitor.rules.terms import Defaults, terms

NEAR_KEYS = ("a", "b", "within")
CLAUSE_KEYS = (*NEAR_KEYS, "any")
NEAR_EXAMPLE = 'near = [{ a = ["killed"], b = ["civilians"], within = 8 }]'
PAIR_EXAMPLE = '{ a = ["executed"], b = ["detainees"], within = 4 }'
ANY_EXAMPLE = 'near = [{ any = [{ a = ["executed"], b = ["detainees"] }], within = 4 }]'


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
    near = [t for n in groups.get("near", ()) for p in n.pairs for t in (*p.a, *p.b)]
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
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        at.problem("near", f"must be a non-empty list of tables, e.g. {NEAR_EXAMPLE}")
        return ()
    out = []
    for i, clause in enumerate(value):
        key = f"near[{i}]"
        at.at(key, clause).finish(CLAUSE_KEYS)
        near = (_alternatives if "any" in clause else _single)(clause, at, key, dflt)
        if near:
            out.append(near)
    return tuple(out)


def _single(clause: dict[str, Any], at: Table, key: str, dflt: Defaults) -> Near | None:
    """A clause written { a = [...], b = [...], within = N }: one pair."""
    missing = [k for k in NEAR_KEYS if k not in clause]
    if missing:
        at.problem(key, f"missing {', '.join(missing)}; write {NEAR_EXAMPLE}")
        return None
    pair = _pair(clause, clause["within"], at, key, dflt)
    return Near((pair,)) if pair else None


def _alternatives(clause: dict[str, Any], at: Table, key: str, dflt: Defaults) -> Near | None:
    """A clause written { any = [pairs], within = N }: it holds when any pair holds."""
    beside = [k for k in ("a", "b") if k in clause]
    if beside:
        at.problem(key, f"{' and '.join(beside)} beside any: a clause is either a, b "
                   "and within, or any = [pairs] (within for them all); write "
                   f"{ANY_EXAMPLE}")  # fmt: skip
        return None
    pairs = clause["any"]
    if not isinstance(pairs, list) or not pairs or not all(isinstance(p, dict) for p in pairs):
        at.problem(f"{key}.any", f"must be a non-empty list of pairs, e.g. {ANY_EXAMPLE}")
        return None
    default = clause.get("within")
    if default is not None and _within(default, at, f"{key}.within") is None:
        return None
    out = []
    for j, spec in enumerate(pairs):
        where = f"{key}.any[{j}]"
        at.at(where, spec).finish(NEAR_KEYS)
        missing = [k for k in NEAR_KEYS if k not in spec and (k != "within" or default is None)]
        if missing:
            at.problem(where, f"missing {', '.join(missing)}; write {PAIR_EXAMPLE} (within "
                       "may instead be given once, beside any)")  # fmt: skip
            continue
        pair = _pair(spec, spec.get("within", default), at, where, dflt)
        if pair:
            out.append(pair)
    return Near(tuple(out), alternatives=True) if len(out) == len(pairs) else None


def _pair(
    spec: dict[str, Any], within: Any, at: Table, key: str, dflt: Defaults
) -> NearPair | None:
    words = _within(within, at, f"{key}.within")
    if words is None:
        return None
    a = terms(spec["a"], at, f"{key}.a", dflt)
    b = terms(spec["b"], at, f"{key}.b", dflt)
    return NearPair(a, b, words)


def _within(value: Any, at: Table, key: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        at.problem(key, f"{value!r} must be a whole number of words >= 1")
        return None
    return value


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
