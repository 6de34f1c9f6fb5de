"""Which recent stories a candidate could join: the window's story refs indexed by rule and
theme, kept between polls, so placing a candidate looks at the stories that share something
with it, not at all of them, and a poll does not re-index the whole window.

Placing every candidate of a cold cycle against every story of the window was quadratic
(925,000 rule checks for 2,941 candidates at 500 feeds), and so was indexing the window again
on every poll. `Window.near` gives, in the window's order, every ref that
`stories._shares_rule` could accept: those sharing a rule id, those sharing a theme (the
check across languages is left to `_shares_rule`), those whose rules the store no longer
knows (they share any), then the stories this poll has opened. So `find_story` decides
exactly as it did over the whole window. The order is each poll's own (the store's window,
oldest first), not the order refs joined the index: polls that ran side by side record
their alerts in another order than their times give.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping

from monitor.alerts.stories import StoryRef


class RefIndex:
    """Refs by alert id, and their ids by rule id and by theme; shared by the polls of one
    process (hence the lock: one poll may index while another looks)."""

    def __init__(self) -> None:
        self._refs: dict[str, StoryRef] = {}
        self._by_rule: dict[str, set[str]] = {}
        self._by_theme: dict[str, set[str]] = {}
        self._any: set[str] = set()  # refs without rule ids
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._refs)

    def add(self, refs: Iterable[StoryRef]) -> None:
        with self._lock:
            for ref in refs:
                if ref.id in self._refs:
                    continue
                self._refs[ref.id] = ref
                if not ref.rule_ids:
                    self._any.add(ref.id)
                for rule_id in ref.rule_ids:
                    self._by_rule.setdefault(rule_id, set()).add(ref.id)
                for theme in ref.themes:
                    self._by_theme.setdefault(theme, set()).add(ref.id)

    def keep(self, ids: Collection[str]) -> None:
        """Forget the refs not in `ids` (they left the window)."""
        with self._lock:
            self._refs = {i: r for i, r in self._refs.items() if i in ids}
            self._any &= self._refs.keys()
            for table in (self._by_rule, self._by_theme):
                for key in list(table):
                    table[key] &= self._refs.keys()
                    if not table[key]:
                        del table[key]

    def near(self, mine: StoryRef, order: Mapping[str, int]) -> list[StoryRef]:
        """The refs of the window (`order`: its alert ids, by position) that may share a rule
        or a theme with `mine`, in the window's order."""
        with self._lock:
            groups = [self._any, *(self._by_rule.get(r, ()) for r in mine.rule_ids)]
            if mine.lang:  # a theme counts only across languages, so only for a known language
                groups += [self._by_theme.get(t, ()) for t in mine.themes]
            found = sorted((order[i], i) for i in set().union(*groups) if i in order)
            return [self._refs[i] for _, i in found]


class Window:
    """The window of one poll's placements: the store's recent stories, then the stories
    this poll opens (later candidates of the poll may repeat them)."""

    def __init__(self, index: RefIndex, ids: Iterable[str]) -> None:
        self._index = index
        self._order = {i: n for n, i in enumerate(ids)}
        self._added: list[StoryRef] = []

    def near(self, mine: StoryRef) -> list[StoryRef]:
        return self._index.near(mine, self._order) + self._added

    def append(self, ref: StoryRef) -> None:
        self._added.append(ref)
