"""Alert <-> JSON-ready dict, so the store can keep an alert whole and rebuild it for delivery."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.model import Alert, Item, Match, RuleRef, Severity, Source, TermHit, iso


def ts(when: datetime) -> float:
    return when.timestamp()


def at(value: float) -> datetime:
    """A stored timestamp that is never NULL, as a UTC datetime."""
    return datetime.fromtimestamp(value, tz=UTC)


def from_ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def _from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def plain(value: Any) -> Any:
    """What `dataclasses.asdict` gives for a field's value, without its deep copies: this
    runs for every alert stored (asdict took 8 % of a profiled cold cycle; 313 -> 82 us an
    alert, bench/README.md). Dataclasses become dicts, lists and tuples keep their type,
    dicts are copied."""
    if is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in _names(type(value))}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    return value


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    d = {name: getattr(alert, name) for name in _names(Alert)}
    d["data"] = plain(alert.data)
    d["created"] = iso(alert.created)
    d["severity"] = alert.severity.label
    d["rules"] = [{**plain(r), "severity": r.severity.label} for r in alert.rules]
    d["matches"] = [_match_dict(m) for m in alert.matches]
    d["item"] = _item_dict(alert.item) if alert.item else None
    d["sources"] = [{**plain(s), "published": iso(s.published)} for s in alert.sources]
    return d


def _match_dict(m: Match) -> dict[str, Any]:
    d: dict[str, Any] = plain(m)
    d["severity"] = m.severity.label
    return d


def _item_dict(item: Item) -> dict[str, Any]:
    d: dict[str, Any] = plain(item)
    d["published"] = iso(item.published)
    return d


def alert_from_dict(d: dict[str, Any]) -> Alert:
    return Alert(
        id=d["id"],
        kind=d["kind"],
        created=_from_iso(d["created"]),
        severity=Severity.parse(d["severity"]),
        title=d["title"],
        rules=tuple(
            RuleRef(
                r["id"],
                r["title"],
                Severity.parse(r["severity"]),
                r["description"],
                r.get("theme", ""),
            )
            for r in d.get("rules", [])
        ),
        item=_item(d["item"]) if d.get("item") else None,
        matches=tuple(_match(m) for m in d.get("matches", [])),
        countries=tuple(d.get("countries", [])),
        sources=tuple(
            Source(
                s["feed"],
                s["title"],
                s.get("link"),
                _from_iso(s["published"]),
                s["item_key"],
                s.get("lang"),
            )
            for s in d.get("sources", [])
        ),
        text=d.get("text", ""),
        data=d.get("data", {}),
        suppressed=d.get("suppressed"),
        # bodies written before alerts had a language carry their item's
        lang=d["lang"] if "lang" in d else (d.get("item") or {}).get("lang"),
    )


def _item(d: dict[str, Any]) -> Item:
    return Item(
        key=d["key"],
        feed=d["feed"],
        title=d["title"],
        summary=d.get("summary", ""),
        link=d.get("link"),
        published=_from_iso(d["published"]),
        tags=tuple(d.get("tags", [])),
        countries=tuple(d.get("countries", [])),
        date_estimated=bool(d.get("date_estimated", False)),
        lang=d.get("lang"),
    )


def _match(d: dict[str, Any]) -> Match:
    return Match(
        rule_id=d["rule_id"],
        title=d["title"],
        severity=Severity.parse(d["severity"]),
        description=d["description"],
        score=float(d["score"]),
        hits=tuple(TermHit(**h) for h in d.get("hits", [])),
        theme=d.get("theme", ""),
        channels=tuple(d.get("channels", [])),
        route_tags=tuple(d.get("route_tags", [])),
        cooldown=float(d.get("cooldown", 0.0)),
        probability=d.get("probability"),
    )
