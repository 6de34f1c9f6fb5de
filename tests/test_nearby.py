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
    index = RefIndex()
    index.add(refs[:200])
    window = Window(index, [r.id for r in refs[:200]])
    for n in range(200, 300):  # candidates, each opening a story later ones may repeat
        _check(window, refs[:n], refs[n])
        window.append(refs[n])


def test_each_poll_sees_its_own_window_in_its_own_order() -> None:
    rng = random.Random(11)
    refs = [_ref(rng, n) for n in range(400)]
    index = RefIndex()
    for lo, hi in [(0, 100), (0, 120), (30, 150), (90, 260), (260, 260), (300, 400)]:
        recent = refs[lo:hi]
        index.add(recent)
        _check(Window(index, [r.id for r in recent]), recent, _ref(rng, 1000))
    shuffled = refs[300:400]
    rng.shuffle(shuffled)  # polls side by side record their alerts out of their time order
    _check(Window(index, [r.id for r in shuffled]), shuffled, _ref(rng, 1001))
    index.keep({r.id for r in refs[300:400]})
    assert len(index) == 100
    _check(Window(index, [r.id for r in refs[300:400]]), refs[300:400], _ref(rng, 1002))
