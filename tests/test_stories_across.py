"""One story across languages (issue 16 part 6), through a real SQLite store: an Arabic and an
English report of the same event make one alert with two sources; reports of another event
in the same country stay apart. The reports are real (corpus/real3/ar.tsv, corpus/real2/en.tsv;
pairs read in corpus/pairs.tsv); the rule is the test's own, written in both languages."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.alerts.decide import StoryDesk, StoryPolicy
from monitor.alerts.stories import StoryRef, build_alert, find_story
from monitor.match.matcher import Matcher
from monitor.model import Alert, FeedState, Item, PollResult
from monitor.rules.load import load_rules
from monitor.store import Store, open_store
from tests.factories import alert, item
from tests.stores import due

T0 = datetime(2025, 4, 14, 8, 0, tzinfo=UTC)
RULE = """theme = "displacement"
[defaults]
fuzzy = false
[[rules]]
id = "camp-attack"
title = "Attack on a camp of displaced people"
severity = "high"
description = "An armed attack on a camp of displaced people."
any = ["camp", "مخيم"]
all = [["assault", "attack*", "هجوم", "سيطرت*", "نزوح", "نزحت", "displacing"]]
"""
CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def report(file: str, title: str) -> tuple[str, str]:
    """A real report's title and summary as the corpus keeps them."""
    with (CORPUS / file).open(encoding="utf-8", newline="") as f:
        [row] = [r for r in csv.DictReader(f, delimiter="\t") if r["title"] == title]
    return row["title"], row["summary"]


ZAMZAM_AR = report(
    "real3/ar.tsv", "قوات الدعم السريع السودانية تعلن سيطرتها على مخيم زمزم في دارفور"
)
ZAMZAM_EN = report(
    "real2/en.tsv", "Violence Erupts in Sudan's Zamzam Camp, Displacing Thousands Amid Atrocities"
)
# the same country, rule and armed group, another camp: not the same story
OTHER_AR = report(
    "real3/ar.tsv", "الهجرة الدولية: فرار 7,500 نازحاً من معسكر أبو شوك والفاشر بسبب انعدام الأمن"
)


def candidate(matcher: Matcher, feed: str, title: str, summary: str, hours: float) -> Alert:
    when = T0 + timedelta(hours=hours)
    it = Item(f"k-{feed}", feed, title, summary, f"https://{feed}.example/{hours}", when)
    texts = matcher.texts(it)
    it = Item(it.key, feed, title, summary, it.link, when, countries=matcher.countries(it, texts))
    found = matcher.match(it, texts)
    assert found, title
    return build_alert(it, found, when, texts)


def file(store: Store, alert: Alert) -> None:
    assert alert.item is not None
    desk = StoryDesk(StoryPolicy(), lambda a: (("ops",), (), ()))
    result = PollResult(alert.item.feed, "fetched", FeedState(alert.item.feed), (alert.item,),
                        (alert,))  # fmt: skip
    store.save_poll(result, desk, alert.created)


def test_an_arabic_and_an_english_report_of_one_event_are_one_alert(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "camps.toml").write_text(RULE, encoding="utf-8")
    matcher = Matcher(load_rules([tmp_path / "rules"]))
    store = open_store(str(tmp_path / "state.db"))
    first = candidate(matcher, "alarabiya", *ZAMZAM_AR, hours=0)
    assert first.item is not None and first.item.lang is None  # detected where it is compared
    file(store, first)
    file(store, candidate(matcher, "guardian", *ZAMZAM_EN, hours=20))
    file(store, candidate(matcher, "aljazeera", *OTHER_AR, hours=30))
    rows = due(store, T0 + timedelta(hours=31))
    alerts = [r for r in rows if "." not in r.alert_id]
    assert len(alerts) == 2, [r.alert_id for r in rows]
    story = store.load_alert(first.id)
    assert story is not None
    assert sorted(s.feed for s in story.sources) == ["alarabiya", "guardian"]
    store.close()


def ref(rule: str, theme: str, lang: str, anchors: set[str], when: datetime) -> StoryRef:
    return StoryRef(f"{lang}-{rule}", when, (rule,), None, "t", "t", ("SD",), lang,
                    frozenset(anchors), (theme,))  # fmt: skip


def test_reports_in_two_languages_share_a_theme_where_their_rules_differ() -> None:
    """An Arabic report firing deadly-armed-attack and an English one firing massacre (both
    of theme mass-killing) naming one town are one story; in one language they are not, nor
    under two themes."""
    cand = alert(item(title="x", link=None))
    at = cand.created
    arabic = ref("deadly-armed-attack", "mass-killing", "ar", {"p!:el-fasher", "n:75"}, at)
    english = ref("massacre", "mass-killing", "en", {"p!:el-fasher"}, at)
    other_theme = ref("genocide-finding", "genocide", "en", {"p!:el-fasher"}, at)
    same_language = ref("massacre", "mass-killing", "ar", {"p!:el-fasher"}, at)
    assert find_story(cand, [english], 88, 72 * 3600, mine=arabic) == english
    assert find_story(cand, [other_theme], 88, 72 * 3600, mine=arabic) is None
    assert find_story(cand, [same_language], 88, 72 * 3600, mine=arabic) is None


RULES_BY_LANGUAGE = """theme = "displacement"
[defaults]
fuzzy = false
[[rules]]
id = "camp-attack-ar"
title = "Attack on a camp of displaced people (ar)"
severity = "high"
description = "An armed attack on a camp of displaced people."
any = ["مخيم"]
all = [["هجوم", "سيطرت*", "نزوح"]]
[[rules]]
id = "camp-attack-en"
title = "Attack on a camp of displaced people (en)"
severity = "high"
description = "An armed attack on a camp of displaced people."
any = ["camp"]
all = [["attack*", "displacing"]]
[[rules]]
id = "camp-attack-pt"
title = "Attack on a camp of displaced people (pt)"
severity = "high"
description = "An armed attack on a camp of displaced people."
any = ["campo"]
all = [["deslocad*", "ataque"]]
"""
ZAMZAM_PT = report(
    "real3/pt.tsv",
    "Até 400.000 pessoas são deslocadas do campo de Darfur após tomada do Sudão pelas RSF, diz ONU",
)


def test_a_third_language_joins_a_story_whose_reports_fired_other_rules_of_its_theme(
    tmp_path: Path,
) -> None:
    """Each language's report fires its own rule of one theme: the Portuguese report must
    repeat the Arabic alert and the English report filed under it, which the store keeps
    by rule id only; compared by the themes of those rules, it joins the story."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "camps.toml").write_text(RULES_BY_LANGUAGE, encoding="utf-8")
    rules = load_rules([tmp_path / "rules"])
    matcher = Matcher(rules)
    store = open_store(str(tmp_path / "state.db"))
    for feed, (title, summary), hours in (
        ("alarabiya", ZAMZAM_AR, 0),
        ("guardian", ZAMZAM_EN, 20),
        ("lusa", ZAMZAM_PT, 26),
    ):
        new = candidate(matcher, feed, title, summary, hours)
        assert new.item is not None
        desk = StoryDesk(StoryPolicy(), lambda a: (("ops",), (), ()))
        result = PollResult(feed, "fetched", FeedState(feed), (new.item,), (new,))
        store.save_poll(result, desk, new.created)
    rows = due(store, T0 + timedelta(hours=27))
    assert len([r for r in rows if "." not in r.alert_id]) == 1, [r.alert_id for r in rows]
    story = store.load_alert(rows[0].alert_id)
    assert story is not None
    assert sorted(s.feed for s in story.sources) == ["alarabiya", "guardian", "lusa"]
    store.close()
