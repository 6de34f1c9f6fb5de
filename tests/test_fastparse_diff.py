"""The fast path against feedparser over every file of ../shared/corpus: for each document it
either declines (feedparser reads it) or gives the same normalised items (keys, titles, links,
published times, summaries, declared languages) as feedparser does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import FetchError
from monitor.model import FeedSpec
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_fast, parse_slow

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SETS = ("feedparser-tests", "w3c-feedvalidator", "real-feeds")
NOW = datetime(2030, 1, 1, tzinfo=UTC)
URL = "http://example.org/feeds/doc.xml"
HEADERS = {"content-type": "application/xml"}

# file (relative to the corpus) -> why the fast path's answer is the right one
ALLOWED: dict[str, str] = {}


def documents(name: str) -> Iterator[Path]:
    for path in sorted((CORPUS / name).rglob("*")):
        if path.is_file() and path.suffix.lower() not in (".md", ".txt", ".py"):
            yield path


def items(entries: tuple, url: str) -> list[tuple[object, ...]]:
    spec = FeedSpec("doc", url, 600)
    return [
        (i.key, i.title, i.link, i.published, i.summary, i.date_estimated, i.lang)
        for i in normalize_entries(entries, spec, url, NOW)
    ]


def compare(path: Path, headers: dict[str, str]) -> str | None:
    """'fast', 'fallback' or 'refused' when the answers agree, else a description of the diff."""
    body = path.read_bytes()
    try:
        fast = parse_fast(body, headers, URL)
    except FetchError:
        with pytest.raises(FetchError):
            parse_slow(body, headers, URL)
        return "refused"
    if fast is None:
        return "fallback"
    slow = parse_slow(body, headers, URL)
    mine, theirs = items(fast.entries, URL), items(slow.entries, URL)
    if mine == theirs:
        return "fast"
    for a, b in zip(mine, theirs, strict=False):
        if a != b:
            return f"differs: fast {a!r}\n  feedparser {b!r}"
    return f"differs: {len(mine)} items against feedparser's {len(theirs)}"


@pytest.mark.parametrize("corpus", SETS)
def test_fast_path_gives_feedparsers_items_or_declines(corpus: str) -> None:
    if not (CORPUS / corpus).is_dir():
        pytest.skip(f"no corpus under {CORPUS}")
    counts = {"fast": 0, "fallback": 0, "refused": 0}
    diffs: dict[str, str] = {}
    for path in documents(corpus):
        rel = str(path.relative_to(CORPUS))
        outcome = compare(path, HEADERS)
        if outcome in counts:
            counts[outcome] += 1
        elif rel not in ALLOWED:
            diffs[rel] = outcome or ""
    print(f"\n{corpus}: {counts}")
    assert not diffs, "\n".join(f"{k}: {v}" for k, v in list(diffs.items())[:10])


def test_every_real_capture_takes_the_fast_path() -> None:
    """...under the Content-Types servers send and without any, with feedparser's items each
    time: the one with bare "&"s in its URLs (feedparser's loose parser reads it) too, and,
    without a Content-Type, undeclared documents feedparser decodes as ISO-8859-1."""
    if not (CORPUS / "real-feeds").is_dir():
        pytest.skip(f"no corpus under {CORPUS}")
    for headers in ({"content-type": "application/rss+xml"}, {"content-type": "text/xml"}, {}):
        outcomes = {p.name: compare(p, headers) for p in documents("real-feeds")}
        assert {n: o for n, o in outcomes.items() if o != "fast"} == {}, headers
