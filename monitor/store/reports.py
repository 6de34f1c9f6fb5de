"""The reports filed under recent stories, read for the story decisions of a poll (with a cache
kept between polls), and which recent stories a poll's candidates may join."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from monitor.model import Alert, FiledReport, Source
from monitor.store import Tx
from monitor.store.serialize import at
from monitor.store.stories import in_chunks

_REPORTS = (
    "SELECT s.alert_id, s.feed, s.item_key, s.title, s.link, s.published, s.summary, "
    "h.rule_id, h.country, h.theme FROM sources s LEFT JOIN hits h ON h.feed = s.feed AND "
    "h.item_key = s.item_key WHERE s.alert_id IN ({marks})"
)
_ROWS = (
    "SELECT s.alert_id, COUNT(*) FROM sources s LEFT JOIN hits h ON h.feed = s.feed AND "
    "h.item_key = s.item_key WHERE s.alert_id IN ({marks}) GROUP BY s.alert_id"
)


def reports(tx: Tx, story_ids: Sequence[str]) -> list[FiledReport]:
    """Every report filed under these stories, with the rules, countries and themes its item
    had."""
    return [r for _, filed in sorted(_read_reports(tx, story_ids).items()) for r in filed]


def _read_reports(tx: Tx, story_ids: Sequence[str]) -> dict[str, list[FiledReport]]:
    found: dict[tuple[str, str, str], tuple[tuple[Source, str], set[str], set[str], set[str]]]
    found = {}
    for marks, chunk in in_chunks(story_ids):
        for story, feed, key, title, link, published, summary, rule_id, country, theme in tx.q(
            _REPORTS.format(marks=marks), chunk
        ):
            report = (Source(feed, title, link, at(published), key), summary or "")
            _, rules, countries, themes = found.setdefault(
                (story, feed, key), (report, set(), set(), set())
            )
            rules.update([rule_id] if rule_id else [])
            countries.update([country] if country else [])
            themes.update([theme] if theme else [])
    out: dict[str, list[FiledReport]] = {}
    for (story, _, _), ((source, summary), rules, countries, themes) in sorted(found.items()):
        filed: FiledReport = (
            story,
            source,
            summary,
            tuple(sorted(rules)),
            tuple(sorted(countries)),
            tuple(sorted(themes)),
        )
        out.setdefault(story, []).append(filed)
    return out


class ReportCache:
    """The reports of recent stories, kept between polls: a cold cycle re-read every report of
    every story near a candidate on each poll (10 of 22 s of the saves at 400 feeds). A story's
    reports only grow (sources and their hits are inserted, pruned only past retention), so a
    story is read again only when its count of (source, hit) rows changed, whoever wrote them
    (another instance too): the count is one cheap grouped query."""

    def __init__(self) -> None:
        self._filed: dict[str, tuple[int, list[FiledReport]]] = {}
        self._lock = threading.Lock()

    def reports(self, tx: Tx, story_ids: Sequence[str]) -> list[FiledReport]:
        counts: dict[str, int] = {}
        for marks, chunk in in_chunks(story_ids):
            counts.update((r[0], int(r[1])) for r in tx.q(_ROWS.format(marks=marks), chunk))
        with self._lock:  # no copy of the cache: only the stories asked about are looked at
            stale = [i for i, n in counts.items() if self._filed.get(i, (-1, []))[0] != n]
        fresh = _read_reports(tx, stale) if stale else {}
        with self._lock:
            for i in stale:
                self._filed[i] = (counts[i], fresh.get(i, []))
            if len(self._filed) > 2 * len(story_ids) + 1000:  # drop what left the window
                self._filed = {i: self._filed[i] for i in counts if i in self._filed}
            filed = {i: self._filed[i][1] for i in counts if i in self._filed}
        return [r for _, rows in sorted(filed.items()) for r in rows]


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
