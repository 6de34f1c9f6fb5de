"""Strict readers for TOML tables: typed getters that collect every problem with its key path."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 10**6,
    "mib": 2**20,
    "gb": 10**9,
    "gib": 2**30,
}


def parse_duration(value: object) -> float:
    """'10m' -> 600.0; bare numbers are seconds. Raises ValueError with advice."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; write e.g. 10m, 1h, 2d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{value!r} is negative; write e.g. 10m")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _UNITS[m.group(2)]
    raise ValueError(f"{value!r} is not a duration; write 10m, 1h or 2d".replace("'", '"'))


def parse_size(value: object) -> int:
    """'5MB' -> 5_000_000; bare integers are bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            return int(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()]
    raise ValueError(f"{value!r} is not a size; write e.g. 5MB or 500KiB".replace("'", '"'))


def check_url(value: str) -> str:
    """Accept http(s) URLs with a host; raise ValueError otherwise."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f'"{value}" is not an http(s) URL; write e.g. https://example.org/rss.xml')
    return value


class Problems:
    """Every problem found while reading one file, in order."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{self.file}: {path}: {message}" if path else f"{self.file}: {message}")


class Table:
    """One TOML table being read; records unknown keys and type errors in Problems."""

    def __init__(self, data: Mapping[str, Any], path: str, problems: Problems) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.data

    def get(self, name: str, kind: type[T] | tuple[type, ...], default: T) -> T:
        """Read a key of a given type; on a wrong type record a problem and return default."""
        self.used.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        elif float in kinds and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = " or ".join(_type_name(k) for k in kinds)
            self.problems.add(self.key(name), f"{_show(value)} is not {names}")
            return default
        out: T = value
        return out

    def convert(self, name: str, fn: Callable[[Any], T], default: T) -> T:
        """Read a key through a converter that raises ValueError with advice."""
        self.used.add(name)
        if name not in self.data:
            return default
        try:
            return fn(self.data[name])
        except (ValueError, KeyError, TypeError) as exc:
            self.problems.add(self.key(name), str(exc))
            return default

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        items = self.get(name, list, list(default))
        out = []
        for i, v in enumerate(items):
            if isinstance(v, str):
                out.append(v)
            else:
                self.problems.add(f"{self.key(name)}[{i}]", f"{_show(v)} is not a string")
        return tuple(out)

    def table(self, name: str) -> Table:
        sub = self.get(name, dict, {})
        return Table(sub, self.key(name), self.problems)

    def tables(self, name: str) -> list[Table]:
        """An array of tables ([[feeds]]), each with its index in the path."""
        self.used.add(name)
        value = self.data.get(name, [])
        if not isinstance(value, list):
            self.problems.add(self.key(name), f"must be an array of tables ([[{name}]])")
            return []
        out = []
        for i, v in enumerate(value):
            if isinstance(v, dict):
                out.append(Table(v, f"{self.key(name)}[{i}]", self.problems))
            else:
                self.problems.add(f"{self.key(name)}[{i}]", "must be a table")
        return out

    def finish(self) -> None:
        """Report keys nobody read: unknown keys are mistakes, not extensions."""
        for name in self.data:
            if name not in self.used:
                self.problems.add(self.key(name), "unknown key; check the spelling (see README)")


def _type_name(kind: type) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }.get(kind, kind.__name__)


def _show(value: object) -> str:
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
