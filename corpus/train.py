"""`make model`: train the relevance model on corpus/ and write it into the package.

Two linear models over `monitor.match.features` (the same function scores at run time):
- relevance: logistic regression, alert (label 1) against the rest, all features, on each
  item and again on its title alone (when it has a summary);
- themes: one-against-rest logistic regressions over the positives' categories, on words
  only, which name the theme a model-decided alert is routed as.
Trained with scikit-learn's liblinear (deterministic, single-threaded); weights rounded to
four decimals, features sorted, gzip without a timestamp, so the same corpus gives the same
file byte for byte. scikit-learn is needed only here (`pip install -e '.[train]'`).

    .venv/bin/python corpus/train.py [--out monitor/match/data/relevance.json.gz] [--every N]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import folds

from monitor.match.features import item_features
from monitor.match.fold import fold_words

OUT = folds.ROOT / "monitor" / "match" / "data" / "relevance.json.gz"
C_RELEVANCE = 100.0  # chosen by source-grouped cross-validation (rules/README.md, session 9)
C_THEMES = 10.0
DIGITS = 4
MIN_ITEMS = 2  # a feature must occur in this many training items
# Lighter features are left out of the file: with round 5, 0.05 -> 0.2 halved the features
# (121,589 -> 66,392) and the load's peak (52 -> 35 MB) for the same decision (make eval);
# in session 9, C 30 -> 100 with 0.2 -> 0.4 gave a better decision from fewer features.
MIN_WEIGHT = 0.4
MIN_THEME_WEIGHT = 0.05  # the theme models only rank themes: their faint words are left out
# Decision thresholds (monitor.match.decision), chosen by cross-validation in `make eval`.
VETO = 0.02  # a rule's match stands unless the model's probability is below this
ALONE = 0.9  # with no rule firing, the model alone alerts from this probability
ALONE_HEADLINE = 0.8  # ... and from this one for an item with no summary
# The labelling rules' categories and the themes of the default pack that route them.
THEMES = {
    "cah": "crimes-against-humanity",
    "displacement": "displacement",
    "genocide": "genocide",
    "hate-speech": "hate-speech",
    "icc": "icc-judicial",
    "massacre": "mass-killing",
    "persecution": "persecution",
    "sexual-violence": "sexual-violence",
    "torture": "torture-disappearance",
    "war-crimes": "war-crimes",
    "warning": "early-warning",
}


def features(row: folds.Row) -> list[str]:
    return item_features([fold_words(row.title), fold_words(row.summary)])


def _matrix(docs: Sequence[Sequence[str]], vocab: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    data: list[float] = []
    index: list[int] = []
    starts = [0]
    for doc in docs:
        counts = Counter(f for f in doc if f in vocab)
        scale = 1 / math.sqrt(len(doc)) if doc else 0.0
        for f in sorted(counts, key=vocab.__getitem__):
            index.append(vocab[f])
            data.append(counts[f] * scale)
        starts.append(len(index))
    return csr_matrix((data, index, starts), shape=(len(docs), len(vocab)))


def _fit(
    docs: Sequence[Sequence[str]],
    labels: Sequence[bool],
    c: float,
    least: float = MIN_WEIGHT,
    nb: bool = False,
) -> tuple[float, dict[str, float]]:
    from sklearn.linear_model import LogisticRegression

    # A feature seen in one training item only is that item's fingerprint, not evidence.
    seen = Counter(f for doc in docs for f in set(doc))
    vocab: dict[str, int] = {}
    for doc in docs:
        for f in doc:
            if seen[f] >= MIN_ITEMS:
                vocab.setdefault(f, len(vocab))
    x = _matrix(docs, vocab)
    ratio = _nb_ratio(x, labels) if nb else None
    model = LogisticRegression(C=c, solver="liblinear", max_iter=1000)
    model.fit(x if ratio is None else x.multiply(ratio).tocsr(), list(labels))
    # Scaled features x*r with weights w score as the raw features with weights w*r: the
    # file, and the scoring at run time, stay those of a plain linear model.
    weights = model.coef_[0] if ratio is None else model.coef_[0] * ratio
    kept = {f: round(float(weights[j]), DIGITS) for f, j in vocab.items()}
    return round(float(model.intercept_[0]), DIGITS), {
        f: w for f, w in sorted(kept.items()) if abs(w) >= least
    }


def _nb_ratio(x: Any, labels: Sequence[bool]) -> Any:
    """Naive Bayes log-count ratios of the features (present or not, add-one smoothed).

    Scaling each feature by how much more often it occurs in alerts than in the rest before
    the regression (NB-LR, Wang and Manning 2012) lets a few hundred positives speak for
    rare words: measured by source-grouped CV (rules/README.md), the model alone gains about
    two points of F1 on whole items and three on titles alone over the plain regression.
    """
    import numpy as np

    present = (x > 0).astype(float)
    y = np.asarray(labels, dtype=bool)
    p = 1.0 + np.asarray(present[y].sum(axis=0)).ravel()
    q = 1.0 + np.asarray(present[~y].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def fit_relevance(rows: Sequence[folds.Row]) -> dict[str, Any]:
    """The relevance part of a model file, trained on `rows`."""
    # Each item with a summary is also learned from its title alone: headline-only feeds
    # (and the outside measurement's headlines) must not find the model timid.
    both = [*rows, *(replace(r, summary="") for r in rows if r.summary)]
    docs = [features(r) for r in both]
    bias, weights = _fit(docs, [r.label for r in both], C_RELEVANCE, nb=True)
    return {"bias": bias, "weights": weights}


def fit_themes(rows: Sequence[folds.Row]) -> dict[str, Any]:
    positives = [r for r in rows if r.label and r.note in THEMES]
    docs = [[f for f in features(r) if f.startswith("w:")] for r in positives]
    out: dict[str, Any] = {}
    for category, theme in sorted(THEMES.items()):
        labels = [r.note == category for r in positives]
        bias, weights = _fit(docs, labels, C_THEMES, MIN_THEME_WEIGHT)
        out[theme] = {"bias": bias, "weights": weights}
    return out


def digest(rows: Sequence[folds.Row]) -> str:
    """The SHA-256 of what training reads: a shipped model names the corpus it came from."""
    out = hashlib.sha256()
    for r in rows:
        out.update(f"{r.title}\t{r.summary}\t{int(r.label)}\t{r.note}\n".encode())
    return out.hexdigest()


def train(rows: Sequence[folds.Row]) -> dict[str, Any]:
    """The whole model file's content."""
    return {
        "format": 1,
        "trained_on": {
            "items": len(rows),
            "positives": sum(r.label for r in rows),
            "sha256": digest(rows),
        },
        "decision": {"veto": VETO, "alone": ALONE, "alone_headline": ALONE_HEADLINE},
        "relevance": fit_relevance(rows),
        "themes": fit_themes(rows),
    }


def write(model: dict[str, Any], out: Path) -> None:
    body = json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as f:
        f.write(body.encode())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--every", type=int, default=1, help="train on every Nth item (quick checks)")
    args = ap.parse_args(argv)
    rows = folds.read()[:: args.every]
    model = train(rows)
    write(model, args.out)
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()
    n = len(model["relevance"]["weights"])
    print(f"{args.out}: {args.out.stat().st_size:,} bytes, {n:,} relevance features, "
          f"trained on {len(rows):,} items; sha256 {sha}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
