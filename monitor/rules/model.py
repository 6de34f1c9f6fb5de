"""The rule model: Term, Near(Pair), Rule, RuleSet (frozen values; loading: `monitor.rules`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from monitor.model import Severity

FIELDS = ("title", "summary")
MIN_SCORE_DEFAULT = 88.0
# The languages of word families (monitor.match.family: Snowball, and our Ukrainian stemmer).
LANGS = ("en", "fr", "es", "pt", "ar", "ru", "uk")


@dataclass(frozen=True)
class Term:
    """One term of a rule, with its matching settings resolved."""

    text: str  # as written in the rule file
    words: tuple[str, ...]  # folded words
    prefixes: tuple[int, ...] = ()  # indices of words written with a trailing "*"
    fuzzy: bool = False
    case_sensitive: bool = False  # acronyms: compared with the original text's case
    min_score: float = MIN_SCORE_DEFAULT
    weight: float = 1.0
    family: bool = False  # words other than prefixes match their inflections (same stem)
    lang: str = ""  # the family's language, one of LANGS; "" by script: en/fr/es, ru/uk, ar

    @property
    def prefix(self) -> bool:
        return bool(self.prefixes)


@dataclass(frozen=True)
class NearPair:
    """Some `a` term within `within` words of some `b` term, in one field."""

    a: tuple[Term, ...]
    b: tuple[Term, ...]
    within: int


@dataclass(frozen=True)
class Near:
    """A near clause: holds when one of its pairs holds (one pair unless written `any`)."""

    pairs: tuple[NearPair, ...]
    alternatives: bool = False  # written { any = [pairs] }: hits name the pair that held


@dataclass(frozen=True)
class Rule:
    """One validated rule."""

    id: str
    title: str
    severity: Severity
    description: str
    theme: str
    source: str  # file it came from
    any: tuple[Term, ...] = ()
    all: tuple[tuple[Term, ...], ...] = ()
    none: tuple[Term, ...] = ()
    weights: tuple[Term, ...] = ()
    threshold: float = 0.0
    near: tuple[Near, ...] = ()
    fields: tuple[str, ...] = FIELDS
    feeds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    route_tags: tuple[str, ...] = ()
    cooldown: float = 0.0
    # A guard (`none` term) vetoes only within this many words of a hit that made the rule
    # fire, in the same field; 0 = anywhere in the rule's fields (the unscoped exception).
    none_within: int = 0


@dataclass(frozen=True)
class RuleSet:
    """All loaded rules, in file order."""

    rules: tuple[Rule, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)
