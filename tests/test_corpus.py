"""Every document of the shared corpora through fetch-less ingestion: pipeline.process, store."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.alerts.decide import StoryDesk, StoryPolicy
from monitor.match import Matcher
from monitor.model import Alert, FeedSpec, FeedState, Fetched
from monitor.pipeline import PollPolicy, process
from monitor.reader.parse import parse_feed
from monitor.rules import load_rules
from monitor.store.sqlite import SqliteStore
from tests.feedfiles import RULES

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SETS = ("feedparser-tests", "w3c-feedvalidator")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def folders() -> list[Path]:
    """Each corpus's top-level folders, one test each (a failure names its folder)."""
    found = []
    for name in SETS:
        root = CORPUS / name
        if root.is_dir():
            found.extend(sorted(p for p in root.iterdir() if p.is_dir()))
    return found


def documents(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() not in (".md", ".txt", ".py"):
            yield path


def no_route(alert: Alert) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    return (), (), ()


POLICY = PollPolicy(backfill=None, max_backoff=3600, feed_down_after=6 * 3600, router=no_route)


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    rules = tmp_path_factory.mktemp("rules") / "r.toml"
    rules.write_text(RULES, encoding="utf-8")
    return Matcher(load_rules([rules]))


def ingest(store: SqliteStore, matcher: Matcher, path: Path, name: str) -> str:
    """One document as if fetched: pipeline.process (parse, normalise, match) -> store."""
    url = f"http://example.org/{name}"
    spec = FeedSpec(name, url, 600)
    fetched = Fetched(name, url, 200, path.read_bytes(), {"content-type": "application/xml"})
    seen = functools.partial(store.seen_keys, name)
    result = process(spec, FeedState(name), fetched, parse_feed, seen, matcher, POLICY, NOW)
    store.save_poll(result, StoryDesk(StoryPolicy(), no_route), NOW)
    return result.outcome


@pytest.mark.parametrize("folder", folders(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_ingests_without_exception(folder: Path, matcher: Matcher, tmp_path: Path):
    """Every document is parsed, normalised and stored, or refused as a value; none raises."""
    store = SqliteStore(tmp_path / "state.db")
    crashes: list[str] = []
    outcomes: dict[str, int] = {}
    try:
        for i, path in enumerate(documents(folder)):
            try:
                outcome = ingest(store, matcher, path, f"doc{i}")
            except Exception:
                crashes.append(f"{path.relative_to(CORPUS)}:\n{traceback.format_exc(limit=3)}")
                continue
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        stored = store.feed_states()
    finally:
        store.close()
    assert not crashes, "\n".join(crashes[:5])
    assert sum(outcomes.values()) == len(stored)


def test_corpus_present_or_skipped():
    """The corpora are found next to the repository (else the corpus tests are skipped)."""
    if not folders():
        pytest.skip(f"no corpus under {CORPUS}")
    assert sum(1 for f in folders() for _ in documents(f)) > 1000
