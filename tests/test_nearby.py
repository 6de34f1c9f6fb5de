"""The index of recent stories gives every story a candidate could join, in the window's order:
placing a candidate against it decides as placing it against the whole window."""

import random
from datetime import UTC, datetime

from monitor.alerts.nearby import RefIndex
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


def test_near_holds_every_story_the_candidate_shares_a_rule_or_theme_with_in_order() -> None:
    rng = random.Random(7)
    refs = [_ref(rng, n) for n in range(300)]
    index = RefIndex(refs[:200])
    for n in range(200, 300):  # candidates, each added as a new story after it is placed
        mine = refs[n]
        window = index.refs
        expected = [r for r in window if _shares_rule(mine, r)]
        near = index.near(mine)
        assert [r for r in near if _shares_rule(mine, r)] == expected
        assert len(near) < len(window) or not expected
        index.append(mine)
