"""What `check`, start and reload verify beyond each file's own keys: rules and channels
that name each other, at least one rule, and a state path that can be written.

Each file alone can be right while the two together drop alerts: a rule routed to a
channel that does not exist, or a channel filter that nothing can ever pass, lets an
alert be created and then go nowhere. Every problem names its file and key path.
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from monitor.config.load import ChannelConfig, Config
from monitor.match.countries import country_code, gazetteer
from monitor.model import AlertKind
from monitor.rules.model import RuleSet

KINDS = tuple(v for k, v in vars(AlertKind).items() if k.isupper())


def problems(config: Config, rules: RuleSet) -> list[str]:
    """Every cross-file problem of a config and its rules, in file order."""
    return [
        *_no_rules(config, rules),
        *_rule_channels(config, rules),
        *_channel_filters(config, rules),
        *state_path_problems(config),
    ]


def _no_rules(config: Config, rules: RuleSet) -> list[str]:
    if len(rules):
        return []
    where = ", ".join(str(p) for p in config.rule_paths) or "(none)"
    return [
        f"{config.file}: rules.paths: no rules loaded from {where}; an empty rule set would "
        "record every item as seen and never alert (a file truncated while saving?)"
    ]


def _rule_channels(config: Config, rules: RuleSet) -> list[str]:
    names = list(dict.fromkeys(n for c in config.channels for n in (c.name, c.group) if n))
    out = []
    index: Counter[str] = Counter()
    for rule in rules:
        i = index[rule.source]
        index[rule.source] += 1
        for j, name in enumerate(rule.channels):
            if name not in names:
                out.append(
                    f"{rule.source}: rules[{i}] (id={rule.id}).channels[{j}]: no channel named "
                    f'"{name}" in {config.file}; {_hint(name, names, "channels")}'
                )
    return out


def _channel_filters(config: Config, rules: RuleSet) -> list[str]:
    rule_names = {r.id for r in rules} | {r.theme for r in rules if r.theme}
    tags = {t for f in config.feeds for t in f.tags} | {t for r in rules for t in r.route_tags}
    countries = set(gazetteer().names)
    out = []
    for i, ch in enumerate(_tables(config.channels)):
        at = f"{config.file}: channels[{i}]"
        for j, name in enumerate(ch.rules):
            if name not in rule_names:
                out.append(f'{at}.rules[{j}]: "{name}" is no rule id or theme; '
                           f"{_hint(name, rule_names, 'rules')}")  # fmt: skip
        for j, tag in enumerate(ch.tags):
            if tag not in tags:
                out.append(f'{at}.tags[{j}]: no feed has tag "{tag}" (nor any rule route_tags); '
                           f"{_hint(tag, tags, 'tags')}")  # fmt: skip
        for j, code in enumerate(ch.countries):
            if code not in countries:
                out.append(f"{at}.countries[{j}]: {_country_hint(code)}")
        for j, kind in enumerate(ch.kinds):
            if kind not in KINDS:
                out.append(f'{at}.kinds[{j}]: "{kind}" is not an alert kind; '
                           f"{_hint(kind, KINDS, 'kinds')}")  # fmt: skip
    return out


def _tables(channels: Iterable[ChannelConfig]) -> list[ChannelConfig]:
    """One channel per [[channels]] table, in file order: a table's targets share its filters."""
    seen: set[str] = set()
    out = []
    for ch in channels:
        if (ch.group or ch.name) not in seen:
            seen.add(ch.group or ch.name)
            out.append(ch)
    return out


def _hint(name: str, known: Iterable[str], what: str) -> str:
    ordered = sorted(known)
    close = difflib.get_close_matches(name, ordered, n=1)
    if close:
        return f'did you mean "{close[0]}"?'
    return f"known {what}: {', '.join(ordered[:20])}" if ordered else f"there are no {what}"


def _country_hint(code: str) -> str:
    named = country_code(code)
    if named:
        return f'"{code}" is not an ISO 3166-1 alpha-2 code; write "{named}"'
    return f'"{code}" is not a country the gazetteer knows; write an ISO alpha-2 code, e.g. "SD"'


def state_path_problems(config: Config) -> list[str]:
    """Whether the SQLite state can be written, found without creating anything."""
    path = config.state.path
    if path is None:
        return []
    where = f"{config.file}: state.path"
    if path.is_dir():
        return [f'{where}: {path} is a folder; name a file in it, e.g. "{path / "monitor.db"}"']
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return [f"{where}: {path} is not writable by this user; fix its owner or mode"]
    folder = _first_existing(path.parent)
    if not folder.is_dir():
        return [f"{where}: cannot create the folder {path.parent}: {folder} is not a folder"]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [f"{where}: the folder {folder} is not writable by this user; fix its owner "
                "or mode, or choose another path"]  # fmt: skip
    return []


def _first_existing(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder
