"""The reports filed under recent stories, read for the story decisions of a poll (with a cache
kept between polls), and which recent stories a poll's candidates may join."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from sys import intern
from typing import Any, TypeVar

from monitor.model import Alert, FiledReport, Source
from monitor.store import Tx
from monitor.store.serialize import at
from monitor.store.stories import in_chunks

_COLUMNS = (
    "SELECT s.alert_id, s.feed, s.item_key, s.title, s.link, s.published, s.summary, "
    "h.rule_id, h.country, h.theme, s.added FROM sources s LEFT JOIN hits h ON h.feed = s.feed "
    "AND h.item_key = s.item_key "
)
_REPORTS = _COLUMNS + "WHERE s.alert_id IN ({marks})"
_SINCE = _COLUMNS + "WHERE s.alert_id = ? AND s.added >= ?"  # a story's newer reports
_ROWS = (
    "SELECT s.alert_id, COUNT(*) FROM sources s LEFT JOIN hits h ON h.feed = s.feed AND "
    "h.item_key = s.item_key WHERE s.alert_id IN ({marks}) GROUP BY s.alert_id"
)


Pairs = tuple[tuple[str, str], ...]  # a report's hits: (rule id, country)
_T = TypeVar("_T", bound=tuple[Any, ...])


class _Filed:
    """One story's reports as read so far, by (feed, item key): its source and summary, and
    the (rule, country) pairs and themes of its hits. `rows` is how many rows of the join
    they make, what the count query says when nothing is missing."""

    def __init__(self) -> None:
        # tuples, not sets: a few items each, and one story's reports are kept for days
        self.found: dict[tuple[str, str], tuple[Source, str, Pairs, tuple[str, ...]]] = {}
        self.last = float("-inf")  # the newest `added` read
        self.filed: tuple[FiledReport, ...] = ()

    def add(self, row: Sequence[Any]) -> None:
        _, feed, key, title, link, published, summary, rule_id, country, theme, added = row
        # The names repeat across thousands of kept reports: one string each, not one a row.
        feed, rule_id, country, theme = (
            intern(v) if v else v for v in (feed, rule_id, country, theme)
        )
        got = self.found.get((feed, key))
        if got is None:
            got = (Source(feed, title, link, at(published), key), summary or "", (), ())
        source, text, pairs, themes = got
        if rule_id and (rule_id, country or "") not in pairs:
            pairs = _shared((*pairs, _shared((rule_id, country or ""))))
        if theme and theme not in themes:
            themes = _shared((*themes, theme))
        self.found[feed, key] = (source, text, pairs, themes)
        self.last = max(self.last, float(added))

    @property
    def rows(self) -> int:
        return sum(max(1, len(pairs)) for _, _, pairs, _ in self.found.values())

    def seal(self, story: str) -> tuple[FiledReport, ...]:
        """The reports in (feed, item key) order; a report's tuple is kept while it is
        unchanged, so the caller's caches see the same objects."""
        before = {(r[1].feed, r[1].item_key): r for r in self.filed}
        out = []
        for k, (source, summary, pairs, themes) in sorted(self.found.items()):
            report: FiledReport = (
                story,
                source,
                summary,
                _shared(tuple(sorted({r for r, _ in pairs}))),
                _shared(tuple(sorted({c for _, c in pairs if c}))),
                _shared(tuple(sorted(themes))),
            )
            old = before.get(k)
            out.append(old if old == report else report)
        self.filed = tuple(out)
        return self.filed


# The few distinct tuples of names (a report's rules, countries, themes, its (rule, country)
# pairs) held once each: thousands of kept reports repeat them. Bounded; tuples are immutable,
# so sharing one is the same as holding a copy.
_SHARED: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_SHARED_SIZE = 20_000


def _shared(names: _T) -> _T:
    got = _SHARED.get(names)
    if got is None:
        if len(_SHARED) >= _SHARED_SIZE:
            _SHARED.clear()
        got = _SHARED[names] = names
    return got  # type: ignore[return-value]


def _read(tx: Tx, story_ids: Sequence[str]) -> dict[str, _Filed]:
    out: dict[str, _Filed] = {}
    for marks, chunk in in_chunks(story_ids):
        for row in tx.q(_REPORTS.format(marks=marks), chunk):
            out.setdefault(row[0], _Filed()).add(row)
    return out


class ReportCache:
    """The reports of recent stories, kept between polls: a cold cycle re-read every report of
    every story near a candidate on each poll (10 of 22 s of the saves at 400 feeds). A story's
    reports only grow (sources and their hits are inserted, pruned only past retention), so a
    story is read again only when its count of (source, hit) rows changed, whoever wrote them
    (another instance too): the count is one cheap grouped query. Then only its reports added
    since the newest one read are fetched; when they do not make up the new count (a hit added
    to an older report, rows pruned), the story is read whole again."""

    def __init__(self) -> None:
        self._filed: dict[str, tuple[int, _Filed]] = {}
        self._lock = threading.Lock()

    def reports(self, tx: Tx, story_ids: Sequence[str]) -> dict[str, tuple[FiledReport, ...]]:
        """By story id, every report filed under it, with the rules, countries and themes its
        item had, in (feed, item key) order; the same tuple while a story is unchanged."""
        counts: dict[str, int] = {}
        for marks, chunk in in_chunks(story_ids):
            counts.update((r[0], int(r[1])) for r in tx.q(_ROWS.format(marks=marks), chunk))
        with self._lock:  # no copy of the cache: only the stories asked about are looked at
            known = {i: self._filed[i] for i in counts if i in self._filed}
        whole: list[str] = []
        grown: dict[str, _Filed] = {}
        for i, n in counts.items():
            held = known.get(i)
            if held is None or held[0] > n:
                whole.append(i)
            elif held[0] < n:
                if _extend(tx, i, held[1], n):
                    grown[i] = held[1]
                else:
                    whole.append(i)
        changed = grown | (_read(tx, whole) if whole else {})
        with self._lock:
            for i, filed in changed.items():
                filed.seal(i)
                self._filed[i] = (counts[i], filed)
            if len(self._filed) > 2 * len(story_ids) + 1000:  # drop what left the window
                self._filed = {i: self._filed[i] for i in counts if i in self._filed}
            return {i: self._filed[i][1].filed for i in counts if i in self._filed}


def _extend(tx: Tx, story: str, filed: _Filed, count: int) -> bool:
    """Read a story's reports added since the newest one read; whether they make the count."""
    for row in tx.q(_SINCE, (story, filed.last)):
        filed.add(row)
    return filed.rows == count


class Related:
    """Whether a recent story may be joined by one of a poll's candidates: it fired one of
    their rules, or one of their themes in another language than the candidate's or one not
    known yet (an item's language may be detected only when it is compared). Built once per
    poll, asked of every story of the window."""

    def __init__(self, candidates: Sequence[Alert]) -> None:
        self._rules = {r.id for a in candidates for r in a.rules}
        self._langs: dict[str, set[str | None]] = {}  # by theme, the candidates' languages
        for a in candidates:
            for r in a.rules:
                if r.theme:
                    self._langs.setdefault(r.theme, set()).add(a.lang)

    def __call__(self, story: Alert) -> bool:
        if any(r.id in self._rules for r in story.rules):
            return True
        return any(
            not (lang and story.lang and lang == story.lang)
            for r in story.rules
            for lang in self._langs.get(r.theme or "", ())
        )
