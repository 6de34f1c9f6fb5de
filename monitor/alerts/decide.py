"""The story decisions save_poll applies: a new story or a repeat, held back by a cooldown or
sent, and when a story is corroborated. Pure: data in, decisions out.

The store calls `StoryDesk.place` and `StoryDesk.corroborate` inside the transaction that
records the poll, after taking the story lock, with the rows it has just read: so the
decision sees every story other instances committed, and cannot race its own write. The
decisions depend on the set of reports recorded, not on the order they were recorded in
(as far as "same story" allows, see alerts/stories.py): so two instances sharing one
database raise the alerts one instance raises.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitor.alerts import triage
from monitor.alerts.nearby import RefIndex, Window
from monitor.alerts.stories import (
    StoryRef,
    cooldown_reason,
    corroboration_alert,
    find_story,
    report_ref,
    source_of,
    story_ref,
)
from monitor.model import Alert, Corroboration, FiledReport, Placement, Routed, Router
from monitor.model.console import Silence


@dataclass(frozen=True)
class StoryPolicy:
    """How stories cluster: window (seconds), similarity (0-100), sources that corroborate."""

    window: float = 72 * 3600.0
    similarity: float = 88.0
    corroboration: int = 3


def routed(
    alert: Alert, router: Router, silences: Sequence[Silence] = (), now: datetime | None = None
) -> Routed:
    """The alert with its channels; a suppressed alert is recorded for status, sent nowhere;
    the channels an active silence covers are taken off (the alert is recorded silenced)."""
    if alert.suppressed is not None:
        return Routed(alert)
    send, hold, review = router(alert)
    plain = Routed(alert, send, hold, review)
    return triage.apply(plain, silences, now or alert.created) if silences else plain


class StoryRefs:
    """Folded recent stories by alert id, shared by the polls of one process.

    An alert never changes once recorded, so each is folded and stemmed once instead of on
    every poll with a candidate (quadratic in alerts over a cold cycle). Polls whose alerts
    fire different rules decide side by side (the story locks are per rule): hence the lock."""

    def __init__(self) -> None:
        self._refs: dict[str, StoryRef] = {}
        self._reports: dict[tuple[str, str, str], StoryRef] = {}  # by story, feed, item key
        # by story: the filed reports last seen and their refs; a story's reports are read
        # on every poll with a candidate near it, and mostly have not changed since
        self._stories: dict[str, tuple[tuple[FiledReport, ...], list[StoryRef]]] = {}
        self._index = RefIndex()  # the window's refs, indexed; kept from poll to poll
        self._lock = threading.Lock()

    def window(self, alerts: Sequence[Alert]) -> Window:
        """The folded window (match alerts, oldest first) for one poll's placements."""
        refs = self.of(alerts)
        if len(self._index) > 2 * len(refs) + 1000:  # drop what has left the window
            self._index.keep({r.id for r in refs})
        self._index.add(refs)
        return Window(self._index, [r.id for r in refs])

    def reports(
        self, reports: Mapping[str, Sequence[FiledReport]], alerts: Sequence[Alert]
    ) -> dict[str, list[StoryRef]]:
        """By story id, the folded reports of each story besides the one its alert carries
        (fresh lists: the caller appends to them)."""
        out: dict[str, list[StoryRef]] = {}
        for alert in alerts:
            filed = reports.get(alert.id)
            if filed:
                refs = self._story(alert, tuple(filed))
                if refs:
                    out[alert.id] = list(refs)
        return out

    def _story(self, alert: Alert, filed: tuple[FiledReport, ...]) -> list[StoryRef]:
        with self._lock:
            seen = self._stories.get(alert.id)
        if seen is not None and (seen[0] is filed or seen[0] == filed):  # the same reports
            return seen[1]
        own = (alert.item.feed, alert.item.key) if alert.item else None
        refs = [self._report(r, alert.created) for r in filed if own != (r[1].feed, r[1].item_key)]
        with self._lock:
            self._stories[alert.id] = (filed, refs)
        return refs

    def _report(self, report: FiledReport, created: datetime) -> StoryRef:
        key = (report[0], report[1].feed, report[1].item_key)
        with self._lock:
            found = self._reports.get(key)
        if found is None:
            found = report_ref(report, created)
            with self._lock:
                self._reports[key] = found
        return found

    def of(self, alerts: Sequence[Alert]) -> list[StoryRef]:
        with self._lock:
            missing = [a for a in alerts if a.id not in self._refs]
        folded = {a.id: story_ref(a) for a in missing}
        with self._lock:
            self._refs.update(folded)
            if len(self._refs) > 2 * len(alerts) + 1000:  # drop what has left the window
                keep = {a.id for a in alerts}
                self._refs = {i: ref for i, ref in self._refs.items() if i in keep}
                self._reports = {k: r for k, r in self._reports.items() if k[0] in keep}
                self._stories = {k: s for k, s in self._stories.items() if k in keep}
            return [self._refs[a.id] for a in alerts]


@dataclass(frozen=True)
class StoryDesk:
    """The store's `StoryDecisions`: a policy, the router of the moment, the fold cache."""

    policy: StoryPolicy
    router: Router
    refs: StoryRefs = field(default_factory=StoryRefs)
    silences: tuple[Silence, ...] = ()  # active when the poll is saved
    now: datetime | None = None

    @property
    def window(self) -> float:
        return self.policy.window

    def _routed(self, alert: Alert) -> Routed:
        return routed(alert, self.router, self.silences, self.now)

    def place(
        self,
        candidates: Sequence[Alert],
        recent: Sequence[Alert],
        existing: Collection[str],
        reports: Mapping[str, Sequence[FiledReport]] | None = None,
    ) -> list[Placement]:
        """One placement per candidate, in order; `recent`: the match alerts of the window,
        oldest first; `existing`: the candidates' ids already recorded; `reports`: the
        reports filed under those recent stories a candidate could join."""
        refs = self.refs.window(recent)
        others = self.refs.reports(reports or {}, recent)
        known = set(existing)
        return [self._place(alert, refs, others, known) for alert in candidates]

    def _place(
        self,
        alert: Alert,
        refs: Window,
        others: dict[str, list[StoryRef]],
        known: set[str],
    ) -> Placement:
        mine = story_ref(alert)
        p = self.policy
        near = refs.near(mine)  # every story it may repeat or that may hold it back
        story = find_story(alert, near, p.similarity, p.window, mine, others)
        if story is None and alert.id not in known:
            reason = cooldown_reason(alert, near)
            refs.append(mine)  # later candidates of this poll may repeat it
            known.add(alert.id)
            return Placement(self._routed(replace(alert, suppressed=reason)))
        assert alert.item is not None
        if story is not None:  # later candidates of this poll must repeat this report too
            others.setdefault(story.id, []).append(mine)
        return Placement(Routed(alert), story.id if story else alert.id, source_of(alert.item))

    def corroborate(self, story: Alert, now: datetime) -> Corroboration | None:
        """A story (with every source it has) that reached `corroboration` distinct feeds."""
        needed = self.policy.corroboration
        if needed <= 0 or len({s.feed for s in story.sources}) < needed:
            return None
        if story.suppressed:
            return Corroboration(story.id, None)
        notice = corroboration_alert(story, story.sources, now)
        return Corroboration(story.id, self._routed(notice))
