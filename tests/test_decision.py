"""The decision of rules and model on the hard cases of issue 15, from real corpus items.

Each case is an item of corpus/ (title and summary as published, looked up by its title),
and the test asserts what an analyst would see: an alert or none. The kinds are those the
pack missed or misfired on before the model and the pack revision: mass executions,
killings at aid distributions, starvation as a weapon, killings by troops, beheadings by
armed groups, torture in custody, verdicts for atrocity crimes (old ones included); and the
false-alarm kinds: displacement without a violent cause, obituaries and op-eds that name
old crimes, accidents with bodies, ordinary UN and tribunal business, judicial executions.
A few cases pin how the alert was decided: by the model alone (then explained by its
words), or a rule overruled by the model. A model-decided alert is also followed through
`monitor run --once` to a webhook on loopback.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from monitor.match.decision import Assessment, Screen, screen
from monitor.model import Item, Severity
from monitor.rules import load_rules
from tests.channel_servers import http_receiver
from tests.e2e import env_with, run_monitor
from tests.feedfiles import rss, story, write_config
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "corpus"))
import folds  # noqa: E402

ALERT = [
    "Video evidence shows Afghan commandos executed by Taliban",
    "Refugees killed in Somalia food aid shooting",
    "Ending starvation as a weapon of war in Sudan",
    "Scores of civilians beheaded by insurgents in Mozambique, witness says",
    "Decapitados 14 civiles por extremistas argelinos",
    "‘I’ll destroy your family’: India’s activists tell of false arrest and torture in custody",
    "Leaked video from inside police stations shows ferocious beatings",
    "Assad regime colonel involved in 4,000 cases of torture is handed a life sentence",
    "France jails former doctor for 24 years over role in 1994 Rwanda genocide",
    "Ex-Rwandan military policeman found guilty of genocide by Paris court",
    "Kosovo tribunal convicts ex-rebel leader for war crimes",
    "Cadena perpetua para un exoficial ruandés por su participación en el genocidio de 1994",
    "Sudan to hand ex-President Omar al-Bashir to ICC",
    "Au moins 58 morts dans deux attaques en Ituri en République démocratique du Congo",
]
NO_ALERT = [
    "In Pakistan, locals race to stay ahead of relentless flooding",
    "Syrian girl who laughed at bombs displaced in Turkey earthquake",
    "Evacuan a miles de habitantes en franja de Gaza por lluvias torrenciales",
    "Benjamin B. Ferencz, Last Surviving Nuremberg Prosecutor, Dies at 103",
    "Hebe de Bonafini, 93, Who Rallied Mothers of ‘the Disappeared,’ Dies",
    "Viewpoint: Why Germany's Namibia genocide apology is not enough",
    "Myanmar jade mine landslide leaves dozens feared dead",
    "About 100 wedding guests feared dead as boat capsizes in northern Nigeria",
    "Stampede kills 37 people in army recruitment drive in Congo-Brazzaville",
    "Fifth Committee takes up 2012-2013 financing for Rwanda, Former Yugoslavia tribunals",
    "Ukraine aims for UN-backed peace summit with Russia in February",
    "Former tennis No. 1 Halep suspended for doping violations",
    "Texas executes inmate for the first time in nearly a year",
    "Arabia Saudí decapita a un egipcio por tráfico de drogas",
    "Russia accuses Britain of 'genocide' by supplying Ukraine depleted uranium tank shells",
]
MODEL_ALONE = "Sudan to hand ex-President Omar al-Bashir to ICC"  # no rule fires: the model does
OVERRULED = "Russia accuses Britain of 'genocide' by supplying Ukraine depleted uranium tank shells"


@cache
def the_screen() -> Screen:
    return screen(load_rules([ROOT / "rules"]))


@cache
def corpus() -> dict[str, folds.Row]:
    return {r.title: r for r in folds.read()}


def row(title: str) -> folds.Row:
    found = [r for t, r in corpus().items() if t.startswith(title)]
    assert len(found) == 1, f"{title!r}: {len(found)} corpus items start so"
    return found[0]


def assess(title: str) -> Assessment:
    r = row(title)
    item = Item("k", "corpus", r.title, r.summary, None, datetime(2025, 1, 1, tzinfo=UTC))
    return the_screen().assess(item)


def alerts(seen: Assessment) -> bool:
    return any(m.severity >= Severity.LOW for m in seen.matches)


@pytest.mark.parametrize("title", ALERT)
def test_hard_cases_alert(title: str) -> None:
    assert row(title).label
    seen = assess(title)
    assert alerts(seen), (title, seen.probability, seen.vetoed)


@pytest.mark.parametrize("title", NO_ALERT)
def test_false_alarm_kinds_stay_quiet(title: str) -> None:
    assert not row(title).label
    seen = assess(title)
    assert not alerts(seen), (title, seen.probability, [m.rule_id for m in seen.matches])


def test_a_rule_the_model_overrules_is_kept_aside_not_alerted() -> None:
    seen = assess(OVERRULED)
    assert seen.vetoed and not seen.matches
    assert seen.probability is not None and seen.probability < the_screen().decision.veto


def test_a_model_decided_match_names_its_theme_and_the_words_that_weighed() -> None:
    seen = assess(MODEL_ALONE)
    (match,) = seen.matches
    assert match.rule_id == match.theme == "icc-judicial"
    assert match.probability is not None and match.probability >= the_screen().decision.alone
    assert match.severity >= Severity.LOW
    title = row(MODEL_ALONE).title
    assert match.hits and all(h.group == "model" and h.score > 0 for h in match.hits)
    assert {h.field for h in match.hits} <= {"title", "summary"}
    assert all(h.text in h.snippet for h in match.hits)
    assert any(h.text in title for h in match.hits if h.field == "title")
    assert sum(h.score for h in match.hits) <= 100.0


WEBHOOK = '[[channels]]\nname = "ops"\ntype = "webhook"\nurl_env = "HOOK"\nmin_severity = "low"\n'


def test_a_model_decided_alert_reaches_the_webhook_explained(
    tmp_path: Path, feeds: FeedServer
) -> None:
    r, quiet = row(MODEL_ALONE), row(NO_ALERT[6])
    now = datetime.now(UTC).replace(microsecond=0)
    url = feeds.publish("news-a", rss(story("m-1", r.title, r.summary, now),
                                      story("m-2", quiet.title, quiet.summary, now)))  # fmt: skip
    cfg = write_config(tmp_path, {"news-a": url}, rules=ROOT / "rules", channels=WEBHOOK)
    with http_receiver() as rx:
        out = run_monitor(["run", "--once", "-c", str(cfg)], env_with(HOOK=rx.url()))
        bodies = [json.loads(req.body) for req in rx.requests]
    assert out.returncode == 0, out.stderr[-2000:]
    assert [b["item"]["title"] for b in bodies] == [r.title]
    (match,) = bodies[0]["matches"]
    assert match["rule"] == "icc-judicial" and bodies[0]["themes"] == ["icc-judicial"]
    assert match["probability"] >= 0.9
    assert match["terms"] and all(
        t["text"] and t["field"] in ("title", "summary") and t["score"] > 0 and t["snippet"]
        for t in match["terms"]
    )


def test_a_headline_alone_is_judged_by_the_headline_threshold() -> None:
    # An item with no summary is judged against `alone_headline`, one with a summary against
    # `alone`: headline-only feeds get the threshold measured for headlines.
    r = row(MODEL_ALONE)
    rules = load_rules([ROOT / "rules"])
    headline = Item("k", "corpus", r.title, "", None, datetime(2025, 1, 1, tzinfo=UTC))
    whole = Item("k", "corpus", r.title, r.summary, None, datetime(2025, 1, 1, tzinfo=UTC))
    p = the_screen().assess(headline).probability
    assert p is not None and 0.01 < p < 0.998 and r.summary  # 0.999 below stays above p
    for_headlines = screen(rules, alone=0.999, alone_headline=p - 0.001)
    for_whole = screen(rules, alone=p - 0.001, alone_headline=0.999)
    assert alerts(for_headlines.assess(headline))
    assert not alerts(for_whole.assess(headline))
    whole_p = for_headlines.assess(whole).probability
    assert whole_p is not None and whole_p < 0.999
    assert not alerts(for_headlines.assess(whole))
    assert the_screen().decision.alone_headline == 0.8
