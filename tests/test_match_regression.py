"""The matcher's exact output on real and labelled text is pinned by stored fingerprints.

Speed work on monitor.match must not change a single Match: every rule, hit,
text, snippet, score and group, and every item's countries. Each source
(tests/data/eval.tsv, ../shared/eval/headlines-dev.tsv, titles and summaries
of ../shared/corpus/real-feeds/*.xml, bench_match.py's synthetic items; each
item also with its title in capitals, to exercise acronyms) is matched with
the test fixtures pack and with the default pack, and the SHA-256 of the
output is compared with tests/data/match_fingerprints.json.
Sources absent here are skipped; the default pack's fingerprints are skipped
when rules/ changed since they were stored (its digest is stored with them).

    .venv/bin/python -m tests.test_match_regression --dump FILE  # per-item output, to diff
    .venv/bin/python -m tests.test_match_regression --update     # after an intended change
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.bench_match import synthetic_items
from monitor.match import Matcher
from monitor.model import FeedSpec, Item
from monitor.reader.normalize import normalize_entries
from monitor.reader.parse import parse_feed
from monitor.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
STORED = ROOT / "tests" / "data" / "match_fingerprints.json"
PACKS = {"fixtures": ROOT / "tests" / "data" / "rules_fixtures" / "good", "default": ROOT / "rules"}
WHEN = datetime(2024, 5, 1, tzinfo=UTC)


def _tsv(path: Path) -> Iterator[Item]:
    with path.open(encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle, delimiter="\t")):
            yield Item(f"{path.name}:{i}", "eval", row["title"], row["summary"], None, WHEN)


def _feeds(folder: Path) -> Iterator[Item]:
    for path in sorted(folder.glob("*.xml")):
        url = f"http://localhost/{path.name}"
        parsed = parse_feed(path.read_bytes(), {}, url)
        yield from normalize_entries(parsed.entries, FeedSpec(path.stem, url, 600.0), url, WHEN)


def _synthetic(_: Path) -> Iterator[Item]:
    yield from synthetic_items(5000, 7)


SOURCES = {
    "eval": (ROOT / "tests" / "data" / "eval.tsv", _tsv),
    "dev": (SHARED / "eval" / "headlines-dev.tsv", _tsv),
    "feeds": (SHARED / "corpus" / "real-feeds", _feeds),
    "bench": (ROOT / "bench" / "bench_match.py", _synthetic),
}


@functools.cache
def items(source: str) -> list[Item]:
    """The source's items, each followed by its all-capitals twin."""
    path, read = SOURCES[source]
    out = []
    for item in read(path):
        out += [item, replace(item, key=item.key + ":upper", title=item.title.upper())]
    return out


def lines(matcher: Matcher, source: str) -> Iterator[str]:
    """One line per item: key, countries and the repr of every Match."""
    for item in items(source):
        countries = matcher.countries(item)
        matches = matcher.match(replace(item, countries=countries))
        # The rules never set a probability (the model does, in monitor.match.decision):
        # leaving the field out keeps the fingerprints of the rules' output comparable.
        yield f"{item.key}\t{countries}\t{repr(matches).replace(', probability=None', '')}"


def fingerprint(matcher: Matcher, source: str) -> str:
    digest = hashlib.sha256()
    for line in lines(matcher, source):
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def pack_digest(pack: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKS[pack].rglob("*.toml")):
        digest.update(path.relative_to(PACKS[pack]).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def stored() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(STORED.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("pack", sorted(PACKS))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_output_unchanged(stored: dict[str, dict[str, str]], pack: str, source: str) -> None:
    if not SOURCES[source][0].exists():
        pytest.skip(f"{SOURCES[source][0]} absent")
    if stored[pack]["rules"] != pack_digest(pack):
        pytest.skip(f"{PACKS[pack]} changed since the fingerprints were stored")
    matcher = Matcher(load_rules([PACKS[pack]]))
    assert fingerprint(matcher, source) == stored[pack][source], (
        "matcher output changed; diff `python -m tests.test_match_regression --dump FILE` "
        "before and after, then --update if the change is intended"
    )


def _update() -> None:
    data: dict[str, dict[str, str]] = {}
    for pack, path in PACKS.items():
        matcher = Matcher(load_rules([path]))
        data[pack] = {"rules": pack_digest(pack)}
        for source in SOURCES:
            if SOURCES[source][0].exists():
                data[pack][source] = fingerprint(matcher, source)
    STORED.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _dump(out: Path) -> None:
    with out.open("w", encoding="utf-8") as handle:
        for pack, path in PACKS.items():
            matcher = Matcher(load_rules([path]))
            for source in SOURCES:
                if SOURCES[source][0].exists():
                    handle.writelines(f"{pack}\t{line}\n" for line in lines(matcher, source))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--update"]:
        _update()
    elif sys.argv[1:2] == ["--dump"] and len(sys.argv) == 3:
        _dump(Path(sys.argv[2]))
    else:
        sys.exit(__doc__)
