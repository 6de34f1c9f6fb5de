"""Reload as one swap: a new bundle is built whole, then installed by one reference; a bad
config or rule file leaves the bundle in force untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.service import runtime
from monitor.service.daemon import Daemon
from tests.feedfiles import write_config

RULE = """[[rules]]
id = "genocide"
title = "Genocide"
severity = "critical"
description = "Genocide named"
any = ["genocide"]
"""
CONSOLE = '[[channels]]\nname = "desk"\ntype = "console"\n'
TWO = CONSOLE + '\n[[channels]]\nname = "night"\ntype = "console"\nmin_severity = "high"\n'


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Daemon, Path, Path]]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.toml").write_text(RULE, encoding="utf-8")
    cfg = write_config(
        tmp_path, {"un-news": "http://127.0.0.1:9/rss"}, rules=rules, channels=CONSOLE
    )
    rt = runtime.build(runtime.load(cfg), parse_workers=0)
    daemon = Daemon(rt, cfg)
    yield daemon, cfg, rules
    rt.close()


def test_a_reload_installs_one_new_bundle_seen_by_polls_and_deliveries(
    setup: tuple[Daemon, Path, Path],
) -> None:
    daemon, cfg, rules = setup
    rt = daemon.rt
    before = rt.bundle
    (rules / "b.toml").write_text(RULE.replace('"genocide"', '"genocide-2"', 1), encoding="utf-8")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(CONSOLE, TWO), encoding="utf-8")
    assert daemon.reload()
    after = rt.bundle
    assert after is not before
    assert rt.poller.live() is after and rt.deliverer.live() is after
    assert len(after.rules) == 2 and sorted(after.channels) == ["desk", "night"]
    assert after.rate_limits.keys() == after.channels.keys()
    assert len(before.rules) == 1 and sorted(before.channels) == ["desk"]  # never mutated


@pytest.mark.parametrize("breakage", ["rule", "config"])
def test_a_failed_reload_keeps_the_same_bundle(
    setup: tuple[Daemon, Path, Path], breakage: str
) -> None:
    daemon, cfg, rules = setup
    before = daemon.rt.bundle
    if breakage == "rule":
        (rules / "a.toml").write_text(RULE.replace("any = ", "anyy = "), encoding="utf-8")
    else:
        cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[alerts]\nsimilarity = true\n")
    assert not daemon.reload()
    assert daemon.rt.bundle is before
    assert daemon.rt.poller.live() is before and daemon.rt.deliverer.live() is before
