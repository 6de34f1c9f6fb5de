"""One set of reports, one set of alerts: whatever order the reports arrive in, and however
many instances sharing one PostgreSQL file them at once (issue 17, point 15).

The corpus (tests/data/stories.tsv) is 60 reports of 20 stories, one per feed, matched by
the shipped rules: rewordings whose similarity is not transitive (A like B, B like C, A not
like C) and reports of one story firing different rules, which is what made the number of
alerts depend on arrival order.
"""

from __future__ import annotations

import csv
import random
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.alerts.decide import StoryDesk, StoryPolicy
from monitor.alerts.stories import build_alert
from monitor.match.matcher import Matcher
from monitor.model import Alert, FeedState, Item, PollResult
from monitor.rules.load import load_rules
from monitor.store import Store, open_store
from tests.e2e import REPO
from tests.pg import PgServer
from tests.stores import due

CORPUS = Path(__file__).parent / "data" / "stories.tsv"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def corpus() -> list[tuple[str, str, str]]:
    """(story, title, summary) of each report, one report per feed."""
    with CORPUS.open(encoding="utf-8") as f:
        return [(r["story"], r["title"], r["summary"]) for r in csv.DictReader(f, delimiter="\t")]


def candidates() -> list[Alert]:
    """The candidate alert of each report the shipped rules match, as a poll builds it."""
    matcher = Matcher(load_rules([REPO / "rules"]))
    out = []
    for i, (story, title, summary) in enumerate(corpus()):
        link = f"https://example.org/{story}/{i}"
        it = Item(f"k{i}", f"feed-{i:03d}", title, summary, link, T0, ("news",), ())
        it = replace(it, countries=matcher.countries(it))
        if found := matcher.match(it):
            out.append(build_alert(it, found, T0))
    return out


def file_reports(store: Store, alerts: Sequence[Alert]) -> None:
    """One instance's polls of these feeds, one transaction each, in this order."""
    desk = StoryDesk(StoryPolicy(), lambda a: (("ops",), (), ()))
    for a in alerts:
        assert a.item is not None
        result = PollResult(a.item.feed, "fetched", FeedState(a.item.feed), (a.item,), (a,))
        store.save_poll(result, desk, T0)


def raised(store: Store, alerts: Sequence[Alert]) -> Counter[tuple[str, str]]:
    """What the operator gets: per story of the corpus, how many alerts and notices."""
    story = {a.id: a.item.link.split("/")[3] for a in alerts if a.item and a.item.link}
    out: Counter[tuple[str, str]] = Counter()
    for row in due(store, T0):
        base, _, notice = row.alert_id.partition(".")
        out[(story[base], notice or "alert")] += 1
    return out


def one_instance(path: Path, alerts: Sequence[Alert]) -> Counter[tuple[str, str]]:
    store = open_store(str(path))
    try:
        file_reports(store, alerts)
        return raised(store, alerts)
    finally:
        store.close()


def test_arrival_order_does_not_change_the_alerts(tmp_path: Path) -> None:
    """One instance, the same 59 matched reports in six orders: the same alerts each time."""
    alerts = candidates()
    rng = random.Random(15)
    orders = [alerts, alerts[::-1], *(rng.sample(alerts, len(alerts)) for _ in range(4))]
    results = [one_instance(tmp_path / f"s{i}.db", o) for i, o in enumerate(orders)]
    print(f"story order: {[sum(r.values()) for r in results]} alerts over {len(orders)} orders")
    assert all(r == results[0] for r in results), [sum(r.values()) for r in results]


@pytest.mark.parametrize("split", [3, 5])
def test_two_instances_on_postgres_raise_what_one_raises(
    tmp_path: Path, pg_server: PgServer, split: int
) -> None:
    """Two stores on one PostgreSQL file interleaved halves of the reports from two threads
    at once (one forwards, one backwards): together they raise what one instance raises."""
    alerts = candidates()
    reference = one_instance(tmp_path / "one.db", alerts)
    url = pg_server.new_database()
    stores = [open_store(url), open_store(url)]
    halves = [
        [a for i, a in enumerate(alerts) if i % split != 0],
        [a for i, a in enumerate(alerts) if i % split == 0][::-1],
    ]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def instance(store: Store, reports: list[Alert]) -> None:
        try:
            start.wait(10)
            file_reports(store, reports)
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    threads = [
        threading.Thread(target=instance, args=pair) for pair in zip(stores, halves, strict=True)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        together = raised(stores[0], alerts)
    finally:
        for s in stores:
            s.close()
    print(f"two instances: {sum(together.values())} alerts, one: {sum(reference.values())}")
    assert together == reference, (together - reference, reference - together)
