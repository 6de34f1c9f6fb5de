"""The index of recent stories gives every story a candidate could join, in the window's order:
placing a candidate against it decides as placing it against the whole window."""

import random
from datetime import UTC, datetime

from monitor.alerts.nearby import RefIndex, Window
from monitor.alerts.stories import StoryRef, _shares_rule

T0 = datetime(2026, 12, 1, tzinfo=UTC)
RULES = ["massacre", "genocide-named", "forced-displacement", "hate-speech", "icc-warrant"]
THEMES = ["mass-killing", "genocide", "displacement", None]


def _ref(rng: random.Random, n: int) -> StoryRef:
    rules = tuple(rng.sample(RULES, rng.randint(0, 2)))  # none: hits pruned, shares any
    return StoryRef(
        id=f"al_{n}",
        created=T0,
        rule_ids=rules,
        link=None,
        title="t",
        text="t",
        countries=(),
        lang=rng.choice(["en", "fr", "ar", None]),
        themes=tuple(rng.choice(THEMES) for _ in rules),
    )


def _check(window: Window, refs: list[StoryRef], mine: StoryRef) -> None:
    expected = [r for r in refs if _shares_rule(mine, r)]
    near = window.near(mine)
    assert [r for r in near if _shares_rule(mine, r)] == expected
    assert len(near) < len(refs) or not expected  # it does leave stories out


def test_near_holds_every_story_the_candidate_shares_a_rule_or_theme_with_in_order() -> None:
    rng = random.Random(7)
    refs = [_ref(rng, n) for n in range(300)]
    index = RefIndex(refs[:200])
    window = Window(index, 0)
    for n in range(200, 300):  # candidates, each opening a story later ones may repeat
        _check(window, refs[:n], refs[n])
        window.append(refs[n])


def test_the_window_slides_from_poll_to_poll_without_reindexing_and_rebuilds_otherwise() -> None:
    rng = random.Random(11)
    refs = [_ref(rng, n) for n in range(400)]
    index = RefIndex(refs[:100])  # the first poll's window
    start = 0
    for lo, hi in [(0, 120), (30, 150), (30, 150), (90, 260), (260, 260)]:
        at = index.window(refs[lo:hi], start)
        assert at is not None
        window = Window(index, at)
        assert len(window) == hi - lo
        _check(window, refs[lo:hi], _ref(rng, 1000))
        start = at
    assert len(index.refs) == 260  # each ref indexed once
    assert index.window(refs[300:400], start) is None  # none of it indexed: the caller rebuilds
    assert index.window(refs[350:360] + refs[10:12], start) is None  # not a continuation
    assert index.window(refs[320:330], 350) is None  # begins before the last window did
