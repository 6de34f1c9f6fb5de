"""Story clustering and alert building: the pure decisions of monitor/alerts/stories.py."""

from __future__ import annotations

from datetime import timedelta

from monitor.alerts.stories import StoryRef, alert_id, find_story, story_ref
from monitor.model import Severity
from tests.factories import T0, alert, item, match

SAME = [
    "Dozens of civilians killed in shelling of El Fasher market",
    "Sudan: civilians killed in shelling of El Fasher market",
    "El Fasher: dozens of civilians killed as shells hit market",
]


def ref(title: str, summary: str = "", link: str | None = None, **kw: object) -> StoryRef:
    a = alert(item(title=title, summary=summary, link=link, key=title), *kw.get("m", ()))  # type: ignore[arg-type]
    return story_ref(a)


def test_rewordings_of_one_event_are_one_story() -> None:
    """Three outlets' headlines of one shelling cluster together."""
    for i, title in enumerate(SAME):
        for other in SAME[i + 1 :]:
            cand = alert(item(title=title, summary="", link=None, key="a"))
            assert find_story(cand, [ref(other)], 88, 72 * 3600) is not None, (title, other)


def test_another_event_in_the_same_town_is_a_new_story() -> None:
    """A different target in the same town, same rule, is not merged."""
    cand = alert(item(title="Civilians killed in shelling of El Fasher hospital", link=None))
    assert find_story(cand, [ref(SAME[0])], 88, 72 * 3600) is None


def test_different_countries_never_merge() -> None:
    """Identical wording about two countries stays two stories."""
    cand = alert(item(title=SAME[0], link=None, countries=("UA",)))
    assert find_story(cand, [ref(SAME[0])], 88, 72 * 3600) is None


def test_story_window_and_rule_are_required() -> None:
    """Outside the window, or under another rule, the same text is a new story."""
    late = alert(item(title=SAME[1], link=None), now=T0 + timedelta(hours=73))
    assert find_story(late, [ref(SAME[0])], 88, 72 * 3600) is None
    other_rule = alert(item(title=SAME[1], link=None), match("genocide-finding"))
    assert find_story(other_rule, [ref(SAME[0])], 88, 72 * 3600) is None


def test_same_link_is_the_same_story_whatever_the_words() -> None:
    """A shared canonical link clusters even with unrelated titles."""
    cand = alert(item(title="Something else entirely", link="https://x.org/a"))
    assert find_story(cand, [ref("Another headline", link="https://x.org/a")], 88, 1e9)


def test_alert_lists_all_rules_at_highest_severity() -> None:
    """An item firing several rules gives one alert listing them, at the top severity."""
    a = alert(
        item(), match("civilians-killed", Severity.HIGH), match("genocide", Severity.CRITICAL)
    )
    assert a.severity == Severity.CRITICAL
    assert [r.id for r in a.rules] == ["genocide", "civilians-killed"]
    assert a.id == alert_id(item())


def test_alert_id_is_stable_and_depends_on_the_story() -> None:
    """The id comes from the link (else feed and key), so restarts and instances agree."""
    assert alert_id(item()) == alert_id(item(feed="other", key="g:2"))
    assert alert_id(item(link=None)) != alert_id(item(link=None, key="g:2"))
