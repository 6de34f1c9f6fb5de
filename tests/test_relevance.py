"""The learned relevance model as shipped: small, reproducible, fresh, scored on every item.

`make model` (corpus/train.py) must give the same file from the same corpus, and the file
in the package must be the one trained on corpus/ as it stands (its trained_on digest).
`monitor test-rules --json` gives every item, alerting or not, the model's probability as
"score"; `[model]` in the config switches it off or moves its thresholds, and bad values
are refused at their key.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.match.relevance import load
from tests.e2e import env_with, run_monitor
from tests.feedfiles import CONSOLE, item, rss, write_config

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "monitor" / "match" / "data" / "relevance.json.gz"
sys.path.insert(0, str(ROOT / "corpus"))
import folds  # noqa: E402
import train  # noqa: E402

# Real items of the corpus (corpus/real/en.tsv): one alert, one ordinary story.
ALERT = "Uganda-Sudan: LRA killed at least 300 Sudanese villagers, says UPDF"
ORDINARY = "Pressure grows on Jacob Rees-Mogg over MPs' remote access"


def test_the_shipped_model_is_small_and_trained_on_the_corpus_as_it_stands() -> None:
    assert SHIPPED.stat().st_size <= 5 * 2**20
    content = json.loads(gzip.decompress(SHIPPED.read_bytes()))
    rows = folds.read()
    assert content["trained_on"]["items"] == len(rows)
    assert content["trained_on"]["sha256"] == train.digest(rows), (
        "corpus/ changed since the model was trained: run `make model` and commit the file"
    )


def test_make_model_gives_the_same_file_byte_for_byte(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    outs = [tmp_path / "a.json.gz", tmp_path / "b.json.gz"]
    for out in outs:  # two processes: nothing may depend on hash seeds or timestamps
        done = subprocess.run(
            [sys.executable, str(ROOT / "corpus" / "train.py"), "--every", "4", "--out", str(out)],
            capture_output=True, text=True, timeout=300, env=env_with(PYTHONHASHSEED="random"),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert load(outs[0]).trained_on["items"] == len(folds.read()[::4])


def _feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    path.write_bytes(rss(item(ALERT, guid="1", link="http://x/1"),
                         item(ORDINARY, guid="2", link="http://x/2")))  # fmt: skip
    return path


def test_test_rules_json_gives_every_item_the_models_probability(tmp_path: Path) -> None:
    feed = _feed(tmp_path)
    out = run_monitor(
        ["test-rules", "--rules", str(ROOT / "rules"), "--json", str(feed)], env_with()
    )
    assert out.returncode == 0, out.stderr
    rows = {r["title"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert 0.5 < rows[ALERT]["score"] <= 1 and rows[ALERT]["matches"]
    assert 0 <= rows[ORDINARY]["score"] < 0.2 and not rows[ORDINARY]["matches"]
    assert all(m["probability"] == rows[ALERT]["score"] for m in rows[ALERT]["matches"])
    alone = run_monitor(
        ["test-rules", "--rules", str(ROOT / "rules"), "--no-model", "--json", str(feed)],
        env_with(),
    )
    assert [json.loads(r)["score"] for r in alone.stdout.splitlines()] == [None, None]


def test_model_settings_are_read_and_bad_ones_refused_at_their_key(tmp_path: Path) -> None:
    feed = _feed(tmp_path)
    rules = ROOT / "rules"
    off = write_config(tmp_path, {}, rules=rules, channels=CONSOLE + "\n[model]\nenabled = false\n")
    out = run_monitor(["test-rules", "-c", str(off), "--json", str(feed)], env_with())
    assert out.returncode == 0, out.stderr
    assert {json.loads(r)["score"] for r in out.stdout.splitlines()} == {None}
    refused = (("veto = 1.5", "model.veto"), ('path = "nowhere.json.gz"', "nowhere.json.gz"),
               ("enabled = 1", "model.enabled"), ("threshold = 0.5", "threshold"))  # fmt: skip
    for body, key in refused:
        cfg = write_config(tmp_path, {}, rules=rules, channels=f"{CONSOLE}\n[model]\n{body}\n")
        out = run_monitor(["check", "-c", str(cfg)], env_with())
        assert out.returncode == 2, (body, out.stdout, out.stderr)
        assert key in out.stdout + out.stderr, (body, out.stdout, out.stderr)


def test_a_word_weighs_what_its_features_weigh_in_the_file() -> None:
    """The scorer's own tables give each word the summed weight of `word_features`, in
    the same order, so a retrained model or new features cannot drift from training."""
    from itertools import repeat

    from monitor.match.features import word_features
    from monitor.match.fold import fold_words

    content = json.loads(gzip.decompress(SHIPPED.read_bytes()))
    weights = content["relevance"]["weights"]
    model = load().model
    words = set(fold_words(f"{ALERT} {ORDINARY} massacrés Génocide x 1 ab")) | {""}
    for word in words:
        features = word_features(word)
        expected = complex(sum(map(weights.get, features, repeat(0.0))), len(features))
        assert model._weigh(word) == expected, word


def test_themes_rank_as_one_words_only_model_per_theme_in_the_file() -> None:
    """The theme tables (one row of weights per word) give every theme the probability its
    own model in the file gives: bias plus the item's word weights over the square root of
    its word count, through the logistic function; the themes ranked by it."""
    import math

    from monitor.match.fold import fold_words

    content = json.loads(gzip.decompress(SHIPPED.read_bytes()))
    themes = load().theme_models
    texts = [
        (ALERT, ""),
        (ORDINARY, "The Commons authorities said remote voting would end in June."),
        ("Des civils tués lors d'une attaque contre un camp de déplacés", "Selon l'ONU"),
        ("", ""),
    ]
    for title, summary in texts:
        fields = [fold_words(title), fold_words(summary)]
        words = [w for f in fields for w in f]
        expected = {}
        for theme, m in content["themes"].items():
            total = sum(m["weights"].get(f"w:{w}", 0.0) for w in words)
            x = m["bias"] + (total / math.sqrt(len(words)) if words else 0.0)
            expected[theme] = 1 / (1 + math.exp(-x))
        ranked = themes.ranked(fields)
        assert [t for t, _ in ranked] == sorted(expected, key=lambda t: (-expected[t], t))
        for theme, p in ranked:
            assert p == pytest.approx(expected[theme], abs=1e-12), (title, theme)
