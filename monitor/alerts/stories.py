"""Match -> Alert: stable alert ids, story clustering across sources, cooldown and corroboration.

Two reports are the same story when they fired a common rule within the story window and
either carry the same canonical link, or their texts are similar enough. A newcomer joins a
story only when it is the same story as every report the story has: "same story" is not
transitive, and joining on one report only would make the number of alerts depend on the
order in which reports arrive (so on which instance polled what first). Reports recorded
before their summaries were kept are compared on their titles. Texts are folded
(case, accents, punctuation), stop words dropped and words stemmed (``match.stem``), and
the similarity is the best of rapidfuzz ``token_set_ratio`` on the titles and on title plus
summary; it must reach ``similarity`` (default 88 of 100). Texts of fewer than four words
are compared with the stricter ``token_sort_ratio``. Reports that name countries must share
one. Measured on hand-made pairs: rewordings of one event score 92-100, a different event
in the same town under the same rule 85, unrelated stories under 80.

Everything here is pure; alerts/decide.py strings it into the decisions the store applies
inside the transaction that records the item, so the decision and the write cannot race.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from rapidfuzz import fuzz

from monitor.alerts import across
from monitor.match.fold import Texts, fold_words
from monitor.match.vocab import stem
from monitor.model import Alert, AlertKind, FiledReport, Item, Match, RuleRef, Source

_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "and",
        "or",
        "by",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "has",
        "have",
        "had",
        "after",
        "over",
        "amid",
        "says",
        "said",
        "new",
        "un",
        "le",
        "la",
        "les",
        "de",
        "des",
        "du",
        "et",
        "en",
        "un",
        "une",
        "el",
        "los",
        "las",
        "del",
        "y",
        "por",
        "con",
        "para",
        "que",
    ]
)


@dataclass(frozen=True, slots=True)  # slots: one per report of the window is kept
class StoryRef:
    """What clustering needs to know of a recent alert."""

    id: str
    created: datetime
    rule_ids: tuple[str, ...]
    link: str | None
    title: str
    text: str
    countries: tuple[str, ...]
    lang: str | None = None  # the report's language (monitor.match.language)
    anchors: frozenset[str] = frozenset()  # place ids and figures it names (across)
    themes: tuple[str, ...] = ()  # its rules' themes


def alert_id(item: Item) -> str:
    """Stable across restarts and instances: the story's link, else its feed and key."""
    basis = item.link or f"{item.feed}\n{item.key}"
    return "al_" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]


def build_alert(
    item: Item, matches: Sequence[Match], now: datetime, texts: Texts | None = None
) -> Alert:
    """One alert for one item listing every rule that fired, at the highest severity
    (`texts`: the item folded for matching, which its story key is then folded from)."""
    if texts is not None:
        story_key(item.title, item.summary, texts)  # remembered for story_ref
    ordered = sorted(matches, key=lambda m: (-m.severity, m.rule_id))
    return Alert(
        id=alert_id(item),
        kind=AlertKind.MATCH,
        created=now,
        severity=max(m.severity for m in ordered),
        title=item.title,
        rules=tuple(
            RuleRef(m.rule_id, m.title, m.severity, m.description, m.theme) for m in ordered
        ),
        item=item,
        matches=tuple(ordered),
        countries=item.countries,
        sources=(source_of(item),),
        lang=item.lang,
    )


def source_of(item: Item) -> Source:
    return Source(item.feed, item.title, item.link, item.published, item.key, item.lang)


def story_ref(alert: Alert) -> StoryRef:
    item = alert.item
    summary = item.summary if item else ""
    title, text = story_key(alert.title, summary)
    lang, anchors = across.anchors(alert.title, summary, alert.lang)
    return StoryRef(
        id=alert.id,
        created=alert.created,
        rule_ids=tuple(r.id for r in alert.rules),
        link=item.link if item else None,
        title=title,
        text=text,
        countries=alert.countries,
        lang=lang,
        anchors=anchors,
        themes=tuple(r.theme for r in alert.rules),
    )


def fold(text: str) -> str:
    """Lower-case, accent-free words without stop words: what similarity compares."""
    return " ".join(_stems(fold_words(text)))


def _stems(words: Sequence[str]) -> list[str]:
    return [stem(w) for w in words if w not in _STOP]


# (title, summary) -> their story key; filled when an alert is built from an item already
# folded for matching, so the key is not folded again when the alert is placed in a story.
_KEYS: dict[tuple[str, str], tuple[str, str]] = {}
_KEYS_SIZE = 4096


def story_key(title: str, summary: str, texts: Texts | None = None) -> tuple[str, str]:
    """`fold(title)` and `fold(f"{title} {summary}")`, from `texts` when the item's title and
    summary are already folded (words never run across the space between them)."""
    key = (title, summary)
    got = _KEYS.get(key)
    if got is None:
        words = texts["title"].words if texts else fold_words(title)
        rest = texts["summary"].words if texts else fold_words(summary)
        title_stems = _stems(words)
        got = " ".join(title_stems), " ".join(title_stems + _stems(rest))
        if len(_KEYS) >= _KEYS_SIZE:
            _KEYS.clear()  # bounded; a poll's alerts are placed right after they are built
        _KEYS[key] = got
    return got


def report_ref(report: FiledReport, created: datetime) -> StoryRef:
    """What clustering knows of a report filed under a story: its title, rules, countries,
    themes."""
    _, s, summary, rule_ids, countries, themes = report
    title, text = story_key(s.title, summary)
    lang, anchors = across.anchors(s.title, summary, s.lang)
    return StoryRef(f"{s.feed}\n{s.item_key}", created, rule_ids, s.link, title, text, countries,
                    lang, anchors, themes)  # fmt: skip


def find_story(
    candidate: Alert,
    recent: Sequence[StoryRef],
    similarity: float,
    window: float,
    mine: StoryRef | None = None,
    others: Mapping[str, Sequence[StoryRef]] | None = None,
) -> StoryRef | None:
    """The recent alert this candidate repeats, or None when it is a new story
    (`mine`: the candidate's own ref, when the caller already folded it; `others`: by story
    id, the story's reports besides its alert, each of which the candidate must repeat too).
    Equal scores go to the earlier story in `recent`."""
    mine = mine or story_ref(candidate)
    best: tuple[float, StoryRef] | None = None
    for ref in recent:
        if (candidate.created - ref.created).total_seconds() > window:
            continue
        if not _shares_rule(mine, ref):
            continue
        score = _similarity(mine, ref)
        if score < similarity or (best is not None and score <= best[0]):
            continue
        reports = others.get(ref.id, ()) if others else ()
        if all(_repeats(mine, r, similarity) for r in reports):
            best = (score, ref)
    return best[1] if best else None


def _shares_rule(a: StoryRef, b: StoryRef) -> bool:
    """A report whose rules the store no longer knows (hits pruned) shares any. Reports in
    two languages share a theme: a language's terms may reach the theme by another of its
    rules (an Arabic strike report firing deadly-armed-attack, the English one massacre)."""
    if not b.rule_ids or set(a.rule_ids) & set(b.rule_ids):
        return True
    across_languages = a.lang and b.lang and a.lang != b.lang
    return bool(across_languages and set(a.themes) & set(b.themes))


def _repeats(a: StoryRef, b: StoryRef, similarity: float) -> bool:
    return _shares_rule(a, b) and _similarity(a, b) >= similarity


def _similarity(a: StoryRef, b: StoryRef) -> float:
    if a.link and a.link == b.link:
        return 100.0
    if a.countries and b.countries and not set(a.countries) & set(b.countries):
        return 0.0
    if a.lang and b.lang and a.lang != b.lang:  # words cannot be compared: what they name can
        return across.similarity(a.countries, a.anchors, b.countries, b.anchors)
    if len(a.title.split()) < 4 or len(b.title.split()) < 4:
        return float(fuzz.token_sort_ratio(a.title, b.title))
    return float(max(fuzz.token_set_ratio(a.title, b.title), fuzz.token_set_ratio(a.text, b.text)))


def cooldown_reason(candidate: Alert, recent: Sequence[StoryRef]) -> str | None:
    """Why a new story is suppressed: a rule with a cooldown fired for the same country lately."""
    for match in candidate.matches:
        if match.cooldown <= 0:
            continue
        for ref in recent:
            age = (candidate.created - ref.created).total_seconds()
            same_country = set(ref.countries) & set(candidate.countries) or not (
                ref.countries or candidate.countries
            )
            if match.rule_id in ref.rule_ids and age < match.cooldown and same_country:
                return f"cooldown of rule {match.rule_id} ({ref.id} {age / 3600:.1f}h ago)"
    return None


def corroboration_alert(story: Alert, sources: Sequence[Source], now: datetime) -> Alert:
    """The one follow-up notice sent when a story reaches N independent sources."""
    feeds = sorted({s.feed for s in sources})
    return replace(
        story,
        id=story.id + ".corroborated",
        kind=AlertKind.CORROBORATION,
        created=now,
        title=f"Corroborated by {len(feeds)} sources: {story.title}",
        sources=tuple(sources),
        text=f"Now reported by {len(feeds)} independent sources: {', '.join(feeds)}.",
        data={"story": story.id, "sources": len(feeds)},
        suppressed=None,
    )
