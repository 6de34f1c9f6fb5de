"""Benchmark of the whole ingestion in one process: parse, normalise, match, in CPU seconds.

The feeds are the real captures in ../shared/corpus/real-feeds (every file that parses to
entries), read once from disk and then ingested `--copies` times (ten by default: 13,070
items), the steps of `monitor test-rules --json` in-process: `parse_feed`, then
`normalize_entries`, then what `pipeline.tag` does (the item's language, detected: stage
"language"; its countries) and the rules with the relevance model (`Screen`, as config.toml
configures them; countries, rules and model are stage "match"). Each stage is timed with
`time.process_time` (CPU of this process, so other work on a shared machine costs wall time,
not these figures); the JSON lines of test-rules are built outside the timers and hashed, so
two runs (or two commits) can be checked for the same items out. `--no-language` leaves the
detection out, as this benchmark did before session 9 (items keep their declared language;
the hash is then that of those runs).

    .venv/bin/python bench/ingest.py [--copies 10] [--corpus DIR] [--config config.toml]
                                     [--no-model] [--no-language]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.cli.testrules import _rules, item_json  # noqa: E402  (after the path fix)
from monitor.match import language  # noqa: E402
from monitor.model import FeedSpec  # noqa: E402
from monitor.reader.normalize import normalize_entries  # noqa: E402
from monitor.reader.parse import parse_feed  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "real-feeds"
NOW = datetime(2026, 12, 1, tzinfo=UTC)  # fixed: the same items (and dates) every run


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--config", type=Path, default=ROOT / "config.toml")
    p.add_argument("--no-model", action="store_true", help="rules alone")
    p.add_argument("--no-language", action="store_true", help="no language detection")
    args = p.parse_args()
    files = [(f, f.read_bytes()) for f in sorted(args.corpus.rglob("*.xml")) if f.is_file()]
    t0 = time.process_time()
    screen = _rules(args.config, None, not args.no_model)
    if not args.no_language:
        language.model()  # loaded with the rules, as the daemon loads it on its first item
    fold = getattr(screen, "texts", None)
    setup = time.process_time() - t0
    digest = hashlib.sha256()
    cpu = {"parse": 0.0, "normalise": 0.0, "language": 0.0, "match": 0.0}
    items = 0
    for _ in range(args.copies):
        for path, body in files:
            url = path.resolve().as_uri()
            t0 = time.process_time()
            parsed = parse_feed(body, {}, url)
            t1 = time.process_time()
            cpu["parse"] += t1 - t0
            if not parsed.entries:
                continue
            spec = FeedSpec(str(path), "http://localhost/", 600.0)
            batch = normalize_entries(parsed.entries, spec, url, NOW)
            t2 = time.process_time()
            cpu["normalise"] += t2 - t1
            langs = [i.lang for i in batch]
            if not args.no_language:  # pipeline.tag's detection, on its own clock
                langs = [language.detect(i.title, i.summary, i.lang) for i in batch]
                t3 = time.process_time()
                cpu["language"] += t3 - t2
                t2 = t3
            seen = []
            for item, lang in zip(batch, langs, strict=True):
                if fold is None:  # commits before issue 13 fold the item for each step
                    item = replace(item, countries=screen.countries(item))
                    seen.append((item, screen.assess(item)))
                    continue
                texts = fold(item)
                item = replace(item, countries=screen.countries(item, texts), lang=lang)
                seen.append((item, screen.assess(item, texts)))
            cpu["match"] += time.process_time() - t2
            items += len(batch)
            for item, assessment in seen:  # outside the timers: the output, for comparison
                line = json.dumps(item_json(item, assessment), ensure_ascii=False)
                digest.update(line.encode() + b"\n")
    total = sum(cpu.values())
    report = {
        "files": len(files),
        "copies": args.copies,
        "items": items,
        "setup_cpu_s": round(setup, 3),
        "cpu_s": {k: round(v, 3) for k, v in cpu.items()},
        "total_cpu_s": round(total, 3),
        "items_per_cpu_s": round(items / total) if total else None,
        "per_stage_items_per_cpu_s": {k: round(items / v) if v else None for k, v in cpu.items()},
        "output_sha256": digest.hexdigest()[:16],
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
