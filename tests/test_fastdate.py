"""fastdate's reading of RFC 822 and ISO 8601 dates is feedparser's, date for date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from feedparser.datetimes import _parse_date

from monitor.reader.fastdate import parse_date

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
_DATE_ELEMENT = re.compile(
    rb"<(?:\w+:)?(?:pubDate|published|updated|date|modified|issued|created|lastBuildDate)"
    rb"(?:\s[^>]*)?>([^<]{1,80})<"
)
EDGES = [
    "Tue, 18 Feb 2026 10:11:12 +0000",
    "Tue, 18 Feb 2026 10:11:12 GMT",
    "Tuesday, 18 February 2026 10:11 -0530",
    "18 Feb 2026 23:59:59 +1400",
    "Sat, 29 Feb 2025 10:00:00 +0000",  # no such day: feedparser's other parsers decide
    "Sun, 31 Dec 1899 23:00:00 -0100",
    "Mon, 1 Jan 2024 24:00:00 +0000",
    "Mon, 1 Jan 2024 12:00:60 UT",
    "Mon, 01 Foo 2024 12:00:00 +0000",
    "Mon, 01 Jan 2024 12:00:00 EST",
    "2026-02-18T10:11:12Z",
    "2026-02-18T10:11:12.999999+05:30",
    "2026-02-18t10:11:12-08:00",
    "2026-02-18T10:11:12+0530",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2024-02-29T23:59:59-23:59",
    "2026-02-18",
    "",
]


def corpus_dates() -> list[str]:
    found: set[str] = set()
    for path in CORPUS.rglob("*"):
        if path.is_file():
            for match in _DATE_ELEMENT.finditer(path.read_bytes()):
                text = match.group(1).decode("utf-8", "replace").strip()
                if text:
                    found.add(text)
    return sorted(found)


@pytest.mark.parametrize("value", EDGES)
def test_edge_cases_agree(value: str) -> None:
    assert parse_date(value) == _parse_date(value)


def test_every_date_in_the_corpus_agrees() -> None:
    dates = corpus_dates()
    if not dates:
        pytest.skip(f"no corpus under {CORPUS}")
    differ = {v: (parse_date(v), _parse_date(v)) for v in dates if parse_date(v) != _parse_date(v)}
    assert not differ
    assert len(dates) > 1000
