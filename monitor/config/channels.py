"""[[channels]] tables -> ChannelConfig: name, type and routing here; each type's own keys
(URLs, secrets, SMTP, colour...) are read by its channel module through the registry given.

Config may not import the channels (tests/test_layers.py), so the composition root passes
their registry in: anything with `keys`, `rate_limit` and `read_settings` per type name.

A table whose type declares several delivery targets (an Apprise variable holding several
URLs) becomes one ChannelConfig per target, "<name>/<suffix>", each with the table's
filters and its own outbox rows; `group` keeps the table's name, which rules' `channels`
hints and `send-test --channel` may use for all of its targets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from monitor.config.reader import Table, parse_duration
from monitor.model import Severity


class ChannelSettings(Protocol):
    """A channel type's own settings, as its module reads them; secrets() feeds the redactor."""

    def secrets(self) -> tuple[str, ...]: ...


class ChannelType(Protocol):
    """What config needs of one registered channel type (monitor.channels.ChannelType)."""

    @property
    def keys(self) -> tuple[str, ...]: ...
    @property
    def rate_limit(self) -> float: ...
    @property
    def digest(self) -> bool: ...
    @property
    def read_settings(self) -> Callable[[Table, str, Mapping[str, str]], ChannelSettings]: ...
    @property
    def targets(
        self,
    ) -> Callable[[ChannelSettings], tuple[tuple[str, ChannelSettings], ...]] | None: ...


@dataclass(frozen=True)
class ChannelConfig:
    """What every channel has: its name, type, routing filters, pace and digest mode."""

    name: str
    type: str  # a key of the channel registry: console | slack | webhook | email | apprise
    min_severity: Severity = Severity.INFO
    rules: tuple[str, ...] = ()  # routing: rule ids or themes (empty = all)
    tags: tuple[str, ...] = ()  # routing: feed tags
    countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # routing: alert kinds (empty = all)
    rate_limit: float = 0.0  # min seconds between two sends
    digest: str | None = None  # cron expression -> digest mode
    timezone: str = "UTC"
    immediate_severity: Severity | None = None
    review: bool = False  # each alert waits for a person's approval before it is sent
    review_timeout: float | None = None  # seconds; a critical alert waiting longer goes out
    settings: ChannelSettings | None = None  # the type's own keys; None = its defaults
    group: str = ""  # the [[channels]] name of a table declaring several targets, else ""

    def answers_to(self, name: str) -> bool:
        """True when name is this channel's own or that of the table that declared it."""
        return name == self.name or (bool(self.group) and name == self.group)


def channels_from(
    tables: list[Table], env: Mapping[str, str], types: Mapping[str, ChannelType]
) -> tuple[ChannelConfig, ...]:
    out: list[ChannelConfig] = []
    names: set[str] = set()
    for t in tables:
        ch = _channel(t, env, types)
        declared = _targets(ch, types)
        for name in dict.fromkeys([ch.name, *(c.name for c in declared)]):
            if name in names:
                t.problem("name", f'duplicate channel name "{name}"')
            names.add(name)
        out += declared
    return tuple(out)


def _targets(ch: ChannelConfig, types: Mapping[str, ChannelType]) -> list[ChannelConfig]:
    """The channel, or one per target when its type splits its settings into several."""
    known = types.get(ch.type)
    split = getattr(known, "targets", None)
    parts = split(ch.settings) if split is not None and ch.settings is not None else ()
    if not parts:  # also when its secrets were not read (status, test-rules): one channel
        return [ch]
    return [replace(ch, name=f"{ch.name}/{suffix}", settings=settings, group=ch.name)
            for suffix, settings in parts]  # fmt: skip


def _channel(t: Table, env: Mapping[str, str], types: Mapping[str, ChannelType]) -> ChannelConfig:
    name = t.get("name", str, "")
    kind = t.get("type", str, "console")
    if not name:
        t.problem("name", "missing; every channel needs a unique name")
    known = types.get(kind)
    if known is None:
        t.problem("type", f'"{kind}" is not one of {", ".join(types)}')
    ch = ChannelConfig(
        name=name,
        type=kind,
        min_severity=t.convert("min_severity", Severity.parse, Severity.INFO),
        rules=t.strings("rules"),
        tags=t.strings("tags"),
        countries=tuple(c.upper() for c in t.strings("countries")),
        kinds=t.strings("kinds"),
        rate_limit=t.duration("rate_limit", known.rate_limit if known else 0.0),
        digest=t.get("digest", str, "") or None,
        timezone=t.get("timezone", str, "UTC"),
        immediate_severity=t.convert("immediate_severity", Severity.parse, None),
        review=t.get("review", bool, False),
        review_timeout=t.convert("review_timeout", parse_duration, None),
        settings=known.read_settings(t, name, env) if known else None,
    )
    _check_digest(t, ch, types)
    _check_review(t, ch)
    # A key of another channel type is accepted and ignored, as it always was.
    t.allow([k for other in types.values() if other is not known for k in other.keys])
    t.finish()
    return ch


DIGEST_KEYS = ("digest", "immediate_severity", "timezone")  # meaningful only with a digest


def _check_digest(t: Table, ch: ChannelConfig, types: Mapping[str, ChannelType]) -> None:
    known = types.get(ch.type)
    if known is not None and not known.digest:
        # a digest the channel cannot build would hold its alerts for ever
        digesting = " and ".join(n for n, c in types.items() if c.digest) or "none"
        for key in (k for k in DIGEST_KEYS if t.has(k)):
            t.problem(key, f"channel {ch.name}: type {ch.type} sends no digests "
                      f"(only {digesting} does); remove {key}")  # fmt: skip
        return
    if not _timezone_ok(t, ch.timezone):
        return
    if ch.digest:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(ch.digest, timezone=ch.timezone)
        except (ValueError, LookupError) as exc:
            t.problem("digest", f'"{ch.digest}" is not a cron expression ({exc})')


def _check_review(t: Table, ch: ChannelConfig) -> None:
    # a timeout without review would silently mean nothing: the operator meant something
    if ch.review_timeout is not None and not ch.review:
        t.problem("review_timeout", f"channel {ch.name}: only meaningful with review = true; "
                  "set review = true or remove review_timeout")  # fmt: skip
    elif ch.review_timeout is not None and ch.review_timeout <= 0:
        t.problem("review_timeout", f"channel {ch.name}: must be longer than 0s")


def _timezone_ok(t: Table, name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        t.problem("timezone", f'"{name}" is not a time zone; write e.g. "Europe/Zurich" or "UTC"')
        return False
