"""The pure chain of one poll, written out: fetched answer -> parsed feed -> new items ->
countries -> matches -> candidate alerts -> feed-health notices, as one PollResult."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from monitor.alerts import health
from monitor.alerts.decide import routed
from monitor.alerts.stories import build_alert
from monitor.errors import FetchError
from monitor.match import language
from monitor.match.fold import Texts, with_article
from monitor.model import (
    Alert,
    FeedSpec,
    FeedState,
    Fetched,
    Item,
    Match,
    ParsedFeed,
    PollResult,
    Routed,
    Router,
)
from monitor.reader import cadence
from monitor.reader.documents import usable
from monitor.reader.normalize import normalize_entries

# (body, headers, final url) -> the parsed document; may raise FetchError, or anything
Parse = Callable[[bytes, dict[str, str], str], ParsedFeed]
# (item keys) -> those the store has seen already
Seen = Callable[[Sequence[str]], Collection[str]]
# (new items to be matched) -> their articles' text by item key (a teaser feed's pages,
# fetched at the edge); items missing from the answer are matched on what the feed gave
Articles = Callable[[Sequence[Item]], Mapping[str, str]]


class MatcherLike(Protocol):
    """What the pipeline needs of a compiled watchlist (monitor.match.Matcher): an item's
    text folded once (`texts`), then read by `countries` and `match`."""

    def texts(self, item: Item) -> Texts: ...

    def countries(self, item: Item, texts: Texts | None = None) -> tuple[str, ...]: ...

    def match(self, item: Item, texts: Texts | None = None) -> tuple[Match, ...]: ...


@dataclass(frozen=True)
class PollPolicy:
    """What a poll's decisions depend on besides the feed: config and the router of the moment."""

    backfill: float | None  # seconds: on a first poll, older items are recorded, not alerted
    max_backoff: float
    feed_down_after: float
    router: Router


def process(
    spec: FeedSpec,
    state: FeedState,
    fetched: Fetched,
    parse: Parse,
    seen: Seen,
    matcher: MatcherLike,
    policy: PollPolicy,
    now: datetime,
    articles: Articles | None = None,
) -> PollResult:
    """The whole poll, decided: what the store is to write, health notices included;
    `articles` (feeds with fetch_articles) gives the text of new items' pages."""
    digest = body_hash(fetched.body or b"")  # once: compared with the last, then stored
    parsed = _document(spec, state, fetched, parse, policy, now, digest)
    if isinstance(parsed, PollResult):
        return with_health(spec, state, parsed, policy, now)
    items = normalize_entries(parsed.entries, spec, fetched.url, now)
    known = seen([i.key for i in items])
    cutoff = _cutoff(state, now, policy.backfill)
    bodies = articles(_to_match(items, known, cutoff)) if articles is not None else {}
    result = fresh(spec, state, fetched, parsed, items, known, matcher, now, policy.backfill,
                   digest, bodies)  # fmt: skip
    return with_health(spec, state, result, policy, now)


def _to_match(items: Sequence[Item], known: Collection[str], cutoff: datetime | None) -> list[Item]:
    """The new items that will be matched: the only ones whose article is worth a fetch."""
    return [i for i in items if i.key not in known and i.link and not _before(i, cutoff)]


def _before(item: Item, cutoff: datetime | None) -> bool:
    return cutoff is not None and (item.date_estimated or item.published < cutoff)


def _document(
    spec: FeedSpec,
    state: FeedState,
    fetched: Fetched,
    parse: Parse,
    policy: PollPolicy,
    now: datetime,
    digest: str,
) -> ParsedFeed | PollResult:
    """The document to read, or the poll's outcome when there is none (failed, unchanged)."""
    if fetched.error:
        return failed(spec, state, fetched.error, now, policy.max_backoff, fetched.retry_after)
    if fetched.not_modified:
        return not_modified(spec, state, fetched, now)
    if state.body_hash and digest == state.body_hash:
        return not_modified(spec, state, fetched, now)  # the server ignores our validators
    try:
        parsed = parse(fetched.body or b"", fetched.headers, fetched.url)
    except FetchError as exc:
        return failed(spec, state, exc.reason, now, policy.max_backoff)
    except Exception as exc:  # the feed is the failure boundary, whatever the parser did
        return failed(spec, state, f"parse failed: {type(exc).__name__}", now, policy.max_backoff)
    problem = usable(parsed)
    return failed(spec, state, problem, now, policy.max_backoff) if problem else parsed


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def failed(
    spec: FeedSpec,
    state: FeedState,
    error: str,
    now: datetime,
    max_backoff: float,
    retry_after: float | None = None,
) -> PollResult:
    """A failed poll: count it, keep the error, back off exponentially (capped), never park."""
    failures = state.consecutive_failures + 1
    delay = min(spec.interval * 2 ** min(failures - 1, 20), max_backoff)
    why = f"backoff after {failures} failure{'s' if failures > 1 else ''}"
    if retry_after is not None and min(retry_after, max_backoff) > delay:
        delay = min(retry_after, max_backoff)
        why = f"publisher: Retry-After {cadence.span(delay)}"
    new_state = replace(
        state,
        last_attempt=now,
        last_error=error[:500],
        consecutive_failures=failures,
        failing_since=state.failing_since or now,
        next_poll=now + timedelta(seconds=delay),
        next_poll_reason=why,
    )
    return PollResult(spec.name, "failed", new_state, error=error)


def succeeded(
    spec: FeedSpec,
    state: FeedState,
    fetched: Fetched,
    now: datetime,
    parsed: ParsedFeed | None = None,
) -> FeedState:
    """The state after an answer: validators kept, the next poll as polite as asked. The pace
    the document declares is `parsed`'s; without a parse (304, same body) the last one holds."""
    refresh, source = state.declared_refresh, state.declared_source
    if parsed is not None:
        refresh, source = parsed.refresh, parsed.refresh_source or None
    delay, why = cadence.next_delay(spec, refresh, source, fetched.headers, now)
    return replace(
        state,
        etag=fetched.etag or (None if fetched.status == 200 else state.etag),
        last_modified=fetched.last_modified
        or (None if fetched.status == 200 else state.last_modified),
        last_attempt=now,
        last_success=now,
        last_error=None,
        consecutive_failures=0,
        failing_since=None,
        next_poll=now + timedelta(seconds=delay),
        next_poll_reason=why,
        declared_refresh=refresh,
        declared_source=source,
    )


def not_modified(spec: FeedSpec, state: FeedState, fetched: Fetched, now: datetime) -> PollResult:
    """A 304 (or an identical body): nothing new, nothing parsed."""
    outcome = "not_modified" if fetched.status == 304 else "unchanged"
    return PollResult(spec.name, outcome, succeeded(spec, state, fetched, now))


def fresh(
    spec: FeedSpec,
    state: FeedState,
    fetched: Fetched,
    parsed: ParsedFeed,
    items: Sequence[Item],
    known: Collection[str],
    matcher: MatcherLike,
    now: datetime,
    backfill: float | None,
    digest: str,
    articles: Mapping[str, str] | None = None,
) -> PollResult:
    """Items not yet known -> matches -> candidate alerts, and the feed's next state. An
    item's article text, when `articles` has it, is matched as the field "article"."""
    got = articles or {}
    new_items = [i for i in items if i.key not in known]
    folded = [(i, with_article(matcher.texts(i), got.get(i.key, ""))) for i in new_items]
    tagged = [(tag(i, t, matcher), t) for i, t in folded]
    new = tuple(i for i, _ in tagged)
    scores: dict[str, float] = {}
    alerts = tuple(_alerts(tagged, matcher, now, _cutoff(state, now, backfill), scores))
    next_state = replace(
        succeeded(spec, state, fetched, now, parsed),
        body_hash=digest,
        items_seen=state.items_seen + len(new),
        last_new_item=now if new else state.last_new_item,
    )
    return PollResult(
        spec.name, "fetched", next_state, new, alerts, None, len(items), parsed.bozo, (), scores
    )


def tag(item: Item, texts: Texts, matcher: MatcherLike) -> Item:
    """A new item with the countries it names and its language (detected; unsure, the one
    normalisation declared in item.lang). test-rules tags its items with this too."""
    lang = language.detect(item.title, item.summary, item.lang)
    return replace(item, countries=matcher.countries(item, texts), lang=lang)


def _cutoff(state: FeedState, now: datetime, backfill: float | None) -> datetime | None:
    """On a feed's first poll, only items published within the backfill window alert."""
    if not state.first_poll or backfill is None:
        return None
    return now - timedelta(seconds=backfill)


def _alerts(
    items: Sequence[tuple[Item, Texts]],
    matcher: MatcherLike,
    now: datetime,
    cutoff: datetime | None,
    scores: dict[str, float],
) -> list[Alert]:
    """Candidate alerts of the items past the cutoff; each screened item's model
    probability goes into `scores`."""
    out = []
    for item, texts in items:
        if _before(item, cutoff):
            continue  # first poll: old (or undated) items are recorded without alerting
        matches, probability = _screen(matcher, item, texts)
        if probability is not None:
            scores[item.key] = probability
        if matches:
            out.append(build_alert(item, matches, now, texts))
    return out


def _screen(
    matcher: MatcherLike, item: Item, texts: Texts
) -> tuple[tuple[Match, ...], float | None]:
    """The matches and the model's probability: a Screen assesses; a bare Matcher (rules
    alone, as test-rules' corpus checks use) only matches, and gives no probability."""
    assess = getattr(matcher, "assess", None)
    if assess is None:
        return matcher.match(item, texts), None
    assessed = assess(item, texts)
    return assessed.matches, assessed.probability


def with_health(
    spec: FeedSpec, before: FeedState, result: PollResult, policy: PollPolicy, now: datetime
) -> PollResult:
    """One "source down" notice after failing for feed_down_after, one "source back" after;
    one "publishes again" when a feed called silent has new items."""
    st = result.state
    notices: list[Alert] = []
    if result.outcome == "failed":
        down_for = (now - st.failing_since).total_seconds() if st.failing_since else -1.0
        if not st.down_alerted and down_for >= policy.feed_down_after:
            notices.append(health.down(spec, st, now))
            st = replace(st, down_alerted=True)
        return _with(result, st, notices, policy.router)
    if result.items and before.silent_alerted:
        notices.append(health.heard(spec, now))
        st = replace(st, silent_alerted=False)
    if before.down_alerted:
        notices.append(health.back(spec, before, now))
        st = replace(st, down_alerted=False)
    return _with(result, st, notices, policy.router)


def _with(result: PollResult, state: FeedState, notices: list[Alert], router: Router) -> PollResult:
    if not notices:
        return result
    sent: tuple[Routed, ...] = tuple(routed(n, router) for n in notices)
    return replace(result, state=state, notices=result.notices + sent)
