"""Which recent stories a candidate could join: the window's story refs indexed by rule and
theme, so placing a candidate looks at the stories that share something with it, not at all.

Placing every candidate of a cold cycle against every story of the window was quadratic
(925,000 rule checks for 2,941 candidates at 500 feeds). `RefIndex.near` gives, in the
order of `refs`, every ref that `stories._shares_rule` could accept: those sharing a rule
id, those sharing a theme (the check across languages is left to `_shares_rule`), and those
whose rules the store no longer knows (they share any). So `find_story` decides exactly as
it did over the whole window.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.alerts.stories import StoryRef


class RefIndex:
    """The refs of the window, in order, with their positions by rule id and by theme."""

    def __init__(self, refs: Iterable[StoryRef] = ()) -> None:
        self.refs: list[StoryRef] = []
        self._by_rule: dict[str, list[int]] = {}
        self._by_theme: dict[str, list[int]] = {}
        self._any: list[int] = []  # refs without rule ids
        for ref in refs:
            self.append(ref)

    def append(self, ref: StoryRef) -> None:
        at = len(self.refs)
        self.refs.append(ref)
        if not ref.rule_ids:
            self._any.append(at)
        for rule_id in set(ref.rule_ids):
            self._by_rule.setdefault(rule_id, []).append(at)
        for theme in set(ref.themes):
            self._by_theme.setdefault(theme, []).append(at)

    def near(self, mine: StoryRef) -> list[StoryRef]:
        """The refs that may share a rule or a theme with `mine`, in the window's order."""
        lists = [self._any]
        lists += [self._by_rule.get(r, []) for r in set(mine.rule_ids)]
        if mine.lang:  # a theme counts only across languages, so only for a known language
            lists += [self._by_theme.get(t, []) for t in set(mine.themes)]
        found = {i for positions in lists for i in positions}
        return [self.refs[i] for i in sorted(found)]
