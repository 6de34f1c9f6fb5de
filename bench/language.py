"""Item language detection (monitor.match.language, issue 16 part 1): accuracy per language on
the corpus's real items and speed, as the pipeline calls it (title; title and summary when the
title alone is unsure), on one core.

    .venv/bin/python bench/language.py
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "corpus"))
import folds  # noqa: E402

from monitor.match import language  # noqa: E402


def rss_mb() -> int:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) // 1024


def main() -> int:
    rows = folds.read()
    before = rss_mb()
    started = time.process_time()
    language.detect("warm up: the model loads on first use")
    loaded = time.process_time() - started
    right: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    wrong: Counter[tuple[str, str | None]] = Counter()
    started = time.process_time()
    for r in rows:
        got = language.detect(r.title, r.summary)
        seen[r.lang] += 1
        if got == r.lang:
            right[r.lang] += 1
        else:
            wrong[r.lang, got] += 1
    took = time.process_time() - started
    print(f"model load {loaded:.2f} CPU-s, +{rss_mb() - before} MB RSS")
    print(f"{len(rows)} items in {took:.2f} CPU-s: {len(rows) / took:,.0f} items/s")
    print(f"accuracy {sum(right.values()) / len(rows):.4f}")
    for lang in sorted(seen):
        print(f"  {lang}: {right[lang]}/{seen[lang]} = {right[lang] / seen[lang]:.4f}")
    for (lang, got), n in wrong.most_common(8):
        print(f"  {lang} taken for {got}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
