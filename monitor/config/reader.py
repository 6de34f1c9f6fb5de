"""The one strict reader of config and rule files: typed getters, one duration grammar,
and every problem collected as `FILE: key.path: message`, unknown keys with a hint."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import Field, field, fields, replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")
D = TypeVar("D")

# One grammar for every duration key: "500ms", "90s", "1h30m", "1d12h"; bare numbers are s.
_PART = r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)"
_DURATION = re.compile(rf"^\s*(?:{_PART}\s*)+$")
_PARTS = re.compile(_PART)
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
    """'10m' -> 600.0, '1h30m' -> 5400.0; bare numbers are seconds. ValueError with advice."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{value!r} is negative; write e.g. 10m")
        return float(value)
    if isinstance(value, str) and _DURATION.match(value):
        return sum(float(n) * _UNITS[unit] for n, unit in _PARTS.findall(value))
    raise ValueError(f"{_show(value)} is not a duration; write 10m, 1h or 2d")


def duration(default: float | None) -> Any:
    """A dataclass field read with parse_duration by `read_fields`."""
    return field(default=default, metadata={"read": parse_duration})


def size(default: int) -> Any:
    """A dataclass field read with parse_size by `read_fields`."""
    return field(default=default, metadata={"read": parse_size})


def parse_size(value: object) -> int:
    """'5MB' -> 5_000_000; bare integers are bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            return int(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()]
    raise ValueError(f"{_show(value)} is not a size; write e.g. 5MB or 500KiB")


def check_url(value: str) -> str:
    """Accept http(s) URLs with a host; raise ValueError otherwise."""
    if not _is_http_url(value):
        raise ValueError(f'"{value}" is not an http(s) URL; write e.g. https://example.org/rss.xml')
    return value


class Problems:
    """Every problem found while reading one file, in order; `at` shares them with another."""

    def __init__(self, file: str, items: list[str] | None = None) -> None:
        self.file = file
        self.items: list[str] = [] if items is None else items

    def at(self, file: str) -> Problems:
        """The same list of problems, for another file (rule files report together)."""
        return Problems(file, self.items)

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{self.file}: {path}: {message}" if path else f"{self.file}: {message}")


class Table:
    """One TOML table being read; records unknown keys and type errors in Problems."""

    def __init__(
        self, data: Mapping[str, Any], path: str, problems: Problems, *, secrets: bool = True
    ) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.used: set[str] = set()
        # False for commands that send nothing: a secret not in the environment is no problem
        self.secrets_required = secrets

    def key(self, name: str) -> str:
        """The key path of name in this table ("" names the table itself)."""
        if not name:
            return self.path
        return f"{self.path}.{name}" if self.path else name

    def problem(self, name: str, message: str) -> None:
        """Record a problem at key name of this table."""
        self.problems.add(self.key(name), message)

    def at(self, name: str, data: Mapping[str, Any]) -> Table:
        """A table of data found at key name (a term, a clause), sharing the problems."""
        return Table(data, self.key(name), self.problems, secrets=self.secrets_required)

    def has(self, name: str) -> bool:
        return name in self.data

    def allow(self, names: Sequence[str]) -> None:
        """Accept these keys without reading them (they belong to another reader)."""
        self.used.update(names)

    def get(self, name: str, kind: type[T] | tuple[type, ...], default: T) -> T:
        """Read a key of a given type; on a wrong type record a problem and return default."""
        self.used.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not _is_a(value, kinds):
            names = " or ".join(_type_name(k) for k in kinds)
            self.problem(name, f"{_show(value)} is not {names}")
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
            self.problem(name, str(exc))
            return default

    def duration(self, name: str, default: float) -> float:
        """Read a duration key (see parse_duration): seconds."""
        return self.convert(name, parse_duration, default)

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        items = self.get(name, list, list(default))
        out = []
        for i, v in enumerate(items):
            if isinstance(v, str):
                out.append(v)
            else:
                self.problems.add(f"{self.key(name)}[{i}]", f"{_show(v)} is not a string")
        return tuple(out)

    def secret(
        self, name: str, env: Mapping[str, str], *, required: bool, owner: str = ""
    ) -> str | None:
        """The value of the environment variable named at key name; the value is never shown."""
        lead = f"{owner}: " if owner else ""
        var = self.get(name, str, "")
        value = env.get(var) if var else None
        if not var and required:
            self.problem(name, f"{lead}missing; name the environment variable")
        elif var and not value and self.secrets_required:
            self.problem(name, f"{lead}environment variable {var} is not set")
        return value or None

    def secret_url(
        self, name: str, env: Mapping[str, str], *, required: bool, owner: str
    ) -> str | None:
        """A secret that must be an http(s) URL; the problem names the key, not the URL."""
        url = self.secret(name, env, required=required, owner=owner)
        if url and not _is_http_url(url):
            self.problem(name, f"{owner}: the URL in it is not http(s)")
        return url

    def table(self, name: str) -> Table:
        sub = self.get(name, dict, {})
        return Table(sub, self.key(name), self.problems, secrets=self.secrets_required)

    def tables(self, name: str) -> list[Table]:
        """An array of tables ([[feeds]]), each with its index in the path."""
        self.used.add(name)
        value = self.data.get(name, [])
        if not isinstance(value, list):
            self.problem(name, f"must be an array of tables ([[{name}]])")
            return []
        out = []
        for i, v in enumerate(value):
            if isinstance(v, dict):
                path = f"{self.key(name)}[{i}]"
                out.append(Table(v, path, self.problems, secrets=self.secrets_required))
            else:
                self.problems.add(f"{self.key(name)}[{i}]", "must be a table")
        return out

    def finish(self, known: Sequence[str] | None = None) -> None:
        """Report keys that are not known (by default: that nobody read), each with a hint:
        unknown keys are mistakes, not extensions."""
        allowed = tuple(known) if known is not None else tuple(sorted(self.used))
        for name in self.data:
            if name not in allowed:
                self.problem(name, f"unknown key; {_hint(name, allowed, listed=known)}")


def read_fields(t: Table, defaults: D, **given: Any) -> D:
    """defaults (a dataclass) with every field not in given read from t by its kind: the
    field's `read` converter (see `duration`, `size`), else the type of its default."""
    values = dict(given)
    for f in fields(defaults):  # type: ignore[arg-type]
        if f.name not in values:
            values[f.name] = _read_field(t, f, getattr(defaults, f.name))
    return replace(defaults, **values)  # type: ignore[type-var]


def _read_field(t: Table, f: Field[Any], default: Any) -> Any:
    read = f.metadata.get("read")
    if read is not None:
        return t.convert(f.name, read, default)
    return t.get(f.name, type(default), default)


def _hint(name: str, allowed: Sequence[str], *, listed: Sequence[str] | None) -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    if close:
        return f'did you mean "{close[0]}"?'
    return f"allowed: {', '.join(listed)}" if listed else "check the spelling (see README)"


def _is_a(value: object, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in kinds
    if float in kinds and isinstance(value, int):
        return True
    return isinstance(value, kinds)


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return False


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
