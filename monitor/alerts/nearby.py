"""Which recent stories a candidate could join: the window's story refs indexed by rule and
theme, kept between polls, so placing a candidate looks at the stories that share something
with it, not at all of them, and a poll does not re-index the whole window.

Placing every candidate of a cold cycle against every story of the window was quadratic
(925,000 rule checks for 2,941 candidates at 500 feeds), and so was indexing the window again
on every poll. `Window.near` gives, in the window's order, every ref that
`stories._shares_rule` could accept: those sharing a rule id, those sharing a theme (the
check across languages is left to `_shares_rule`), those whose rules the store no longer
knows (they share any), then the stories this poll has opened. So `find_story` decides
exactly as it did over the whole window.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from monitor.alerts.stories import StoryRef


class RefIndex:
    """Refs in the order they joined, with their positions by rule id and by theme; append
    only, so a `Window` over positions [start, end) stays valid while later polls append."""

    def __init__(self, refs: Sequence[StoryRef] = ()) -> None:
        self.refs: list[StoryRef] = []
        self.position: dict[str, int] = {}  # by alert id
        self._by_rule: dict[str, list[int]] = {}
        self._by_theme: dict[str | None, list[int]] = {}
        self._any: list[int] = []  # refs without rule ids
        for ref in refs:
            self.append(ref)

    def append(self, ref: StoryRef) -> None:
        at = len(self.refs)
        self.refs.append(ref)
        self.position[ref.id] = at
        if not ref.rule_ids:
            self._any.append(at)
        for rule_id in set(ref.rule_ids):
            self._by_rule.setdefault(rule_id, []).append(at)
        for theme in set(ref.themes):
            self._by_theme.setdefault(theme, []).append(at)

    def near(self, mine: StoryRef, start: int, end: int) -> list[StoryRef]:
        """The refs of positions [start, end) that may share a rule or theme with `mine`."""
        lists = [self._any]
        lists += [self._by_rule.get(r, []) for r in set(mine.rule_ids)]
        if mine.lang:  # a theme counts only across languages, so only for a known language
            lists += [self._by_theme.get(t, []) for t in set(mine.themes)]
        found = {
            i
            for positions in lists
            for i in positions[bisect_left(positions, start) : bisect_left(positions, end)]
        }
        return [self.refs[i] for i in sorted(found)]

    def window(self, refs: Sequence[StoryRef], start: int) -> int | None:
        """Where `refs` (a window, oldest first) begins in this index once the refs not yet
        in it are appended, or None when it is not a continuation of positions [start, end):
        older refs may have left at the front, newer ones joined at the end."""
        if not refs:
            return len(self.refs)
        at = self.position.get(refs[0].id)
        if at is None or at < start:
            return None
        held = self.refs[at:]
        if held != list(refs[: len(held)]):  # the same objects while folded once: fast in C
            return None
        for ref in refs[len(held) :]:
            if ref.id in self.position:
                return None
            self.append(ref)
        return at


class Window:
    """The window of one poll's placements: positions [start, end) of the shared index, then
    the stories this poll opens (later candidates of the poll may repeat them)."""

    def __init__(self, index: RefIndex, start: int) -> None:
        self._index = index
        self._start = start
        self._end = len(index.refs)
        self._added: list[StoryRef] = []

    def near(self, mine: StoryRef) -> list[StoryRef]:
        return self._index.near(mine, self._start, self._end) + self._added

    def append(self, ref: StoryRef) -> None:
        self._added.append(ref)

    def __len__(self) -> int:
        return self._end - self._start + len(self._added)
