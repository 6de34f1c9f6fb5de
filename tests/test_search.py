"""Every item kept and searchable: an item that never alerted is found by the API, the CLI and
the /search page after a real poll on loopback; words, "phrases", folding, filters and pages on
both engines; hostile query strings answer 400 or safe results; retention prunes kept items;
a warm poll writes nothing more; db copy carries them."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from monitor.alerts import search
from monitor.alerts.decide import StoryDesk, StoryPolicy
from monitor.channels import CHANNELS
from monitor.cli.db import copy_state
from monitor.config.load import load_config
from monitor.errors import FieldError
from monitor.match.fold import Texts
from monitor.model import Alert, FeedSpec, FeedState, Item, Match, PollResult
from monitor.model.search import ItemPage
from monitor.reader.fetch import FetchPolicy, make_session
from monitor.reader.pool import ParsePool
from monitor.service.poller import Poller, PollSettings
from monitor.store import Store, open_store
from monitor.store.sqlite import SqliteStore
from monitor.web import auth, site
from monitor.web.app import Console
from tests.e2e import env_with, run_monitor
from tests.factories import T0, match
from tests.feedfiles import rss, story, write_config
from tests.feedserver import FeedServer
from tests.stores import ENGINES, new_target, open_engine

NOW = datetime.now(UTC).replace(microsecond=0)
QUIET = ("un-2", "General Assembly adopts the 2027 budget", "Member states agreed the budget.")
LOUD = ("un-1", "Massacre reported in Abyei", "Dozens killed in the town, witnesses say.")
HOSTILE = ['"', 'abyei "', '""', "*", "-", "()", "NEAR(a b)", "a OR b", "abyei*", "^abyei",
           "title:abyei", "'; DROP TABLE items; --", "\\", "%_", "a AND", "NOT", "{x}", "\x00",
           '"a" OR "b"', "é" * 10, "x" * 201, "+abyei -budget", "abyei AND budget"]  # fmt: skip


# -- end to end: a real poll on loopback, then the CLI, the API and the page ------------------
def test_an_item_that_never_alerted_is_found_by_the_cli_the_api_and_the_page(
    tmp_path: Path, feeds: FeedServer
) -> None:
    url = feeds.publish(
        "un-news", rss(*(story(*s, NOW - timedelta(hours=1)) for s in (LOUD, QUIET)))
    )
    cfg = write_config(tmp_path, {"un-news": url})
    env = env_with()
    ran = run_monitor(["run", "--once", "-c", str(cfg)], env)
    assert ran.returncode == 0, ran.stderr[-2000:]

    cli = run_monitor(["search", "budget", "--since", "30d", "--json", "-c", str(cfg)], env)
    assert cli.returncode == 0, cli.stderr[-2000:]
    [found] = [json.loads(line) for line in cli.stdout.splitlines()]
    assert found["title"] == QUIET[1] and found["alert_id"] is None and found["lang"] == "en"
    assert found["feed"] == "un-news" and found["link"] == "https://example.org/un-2"
    assert set(found) == {"key", "title", "summary", "link", "feed", "published", "seen",
                          "lang", "countries", "score", "alert_id"}  # fmt: skip
    table = run_monitor(["search", "abyei", "-c", str(cfg)], env)
    assert table.returncode == 0 and LOUD[1] in table.stdout and "[alert]" in table.stdout
    none = run_monitor(["search", "ruanda", "-c", str(cfg)], env)
    assert none.returncode == 1 and "no item matches" in none.stdout
    bad = run_monitor(["search", '"open', "-c", str(cfg)], env)
    assert bad.returncode == 2 and bad.stderr.startswith("q:")

    config = load_config(cfg, channel_types=CHANNELS)
    store = open_store(str(tmp_path / "state.db"))
    token = auth.new_token()
    store.add_token("bot", "viewer", auth.digest(token), NOW)
    server = site.start("127.0.0.1:0", Console(store, lambda: config, now=lambda: NOW))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        api = requests.get(f"{server.url.rstrip('/')}/api/v1/items", params={"q": "Budget"},
                           headers=headers, timeout=10).json()  # fmt: skip
        assert [i["title"] for i in api["items"]] == [QUIET[1]] and api["next"] is None
        loud = requests.get(f"{server.url.rstrip('/')}/api/v1/items", params={"q": "abyei"},
                            headers=headers, timeout=10).json()["items"]  # fmt: skip
        assert loud[0]["alert_id"] and store.load_alert(loud[0]["alert_id"]) is not None
        html = requests.get(f"{server.url.rstrip('/')}/search", params={"q": "budget"},
                            headers=headers, timeout=10)  # fmt: skip
        assert html.status_code == 200 and QUIET[1] in html.text
        assert 'href="https://example.org/un-2"' in html.text and LOUD[1] not in html.text
    finally:
        server.shutdown()
        server.server_close()
        store.close()


# -- the store on both engines ---------------------------------------------------------------
@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_engine(request.param, tmp_path, request)


def desk() -> StoryDesk:
    return StoryDesk(StoryPolicy(72 * 3600, 88, 3), lambda a: (("ops",), (), ()))


def kept(
    store: Store, *items: Item, at: datetime = T0, scores: dict[str, float] | None = None
) -> None:
    """One poll of each item's feed recording the items as new (no alert)."""
    for feed in dict.fromkeys(i.feed for i in items):
        mine = tuple(i for i in items if i.feed == feed)
        store.save_poll(PollResult(feed, "fetched", FeedState(feed), mine, scores=scores or {}),
                        desk(), at)  # fmt: skip


def it(key: str, title: str, summary: str = "", feed: str = "un-news", **kw: object) -> Item:
    return Item(key, feed, title, summary, f"https://news.example.org/{key}", T0, **kw)  # type: ignore[arg-type]


def find(store: Store, **params: str) -> list[str]:
    """The keys of the items the query finds, newest first (first page)."""
    return [k.key for k in store.search_items(search.query(params, T0)).rows]


def test_words_and_together_phrases_keep_order_case_and_accents_fold(store: Store) -> None:
    kept(
        store,
        it("a", "Génocide signalé à Abyei", "Des charniers découverts"),
        it("b", "Mass grave found near El Fasher"),
        it("c", "Grave concerns over mass displacement"),
        it("d", "مقتل مدنيين في الفاشر", "قُتِلَ عشرات"),
    )
    assert find(store, q="genocide ABYEI") == ["a"]
    assert find(store, q="génocide abyei") == ["a"] and find(store, q="genocide budget") == []
    assert find(store, q="charniers") == ["a"]  # the summary is searched too
    assert find(store, q="mass grave") == ["c", "b"]
    assert find(store, q='"mass grave"') == ["b"] and find(store, q='"grave mass"') == []
    assert find(store, q='"El Fasher" mass') == ["b"]
    assert find(store, q="قتل") == ["d"]  # harakat fold like accents


def test_filters_feed_country_times_and_pages(store: Store) -> None:
    kept(store, *(it(f"k{i}", f"Shelling in town {i}", countries=("SD",)) for i in range(60)))
    kept(store, it("other", "Shelling elsewhere", feed="ohchr", countries=("SS", "SD")),
         at=T0 + timedelta(hours=2))  # fmt: skip
    assert find(store, q="shelling", feed="ohchr") == ["other"]
    assert find(store, q="shelling", country="ss") == ["other"]
    assert len(find(store, q="shelling", country="SD")) == 50
    assert find(store, q="shelling", since=(T0 + timedelta(hours=1)).isoformat()) == ["other"]
    assert "other" not in find(store, q="shelling", until=(T0 + timedelta(hours=1)).isoformat())
    assert find(store, until="1m") == [] and len(find(store, since="3h")) == 50
    first = store.search_items(search.query({"q": "shelling"}))
    assert first.rows[0].key == "other" and len(first.rows) == 50 and first.after is not None
    rest: ItemPage = store.search_items(search.query({"q": "shelling", "cursor": str(first.after)}))
    keys = [k.key for k in first.rows + rest.rows]
    assert len(keys) == 61 == len(set(keys)) and rest.after is None


def test_kept_fields_score_countries_lang_and_alert(store: Store) -> None:
    kept(store, it("s", "Shelling in Abyei", countries=("SD", "SS")), scores={"s": 0.812345})
    [k] = store.search_items(search.query({"q": "abyei"})).rows
    assert (k.score, k.countries, k.lang, k.alert_id) == (0.8123, ("SD", "SS"), None, None)

    assert (k.published, k.seen, k.link) == (T0, T0, "https://news.example.org/s")


def test_the_lang_filter_finds_items_in_one_language(store: Store) -> None:
    arabic = it("ar", "مقتل مدنيين في الفاشر", lang="ar")
    kept(store, arabic, it("en", "Civilians killed", lang="en"), it("none", "Civilians"))
    assert find(store, lang="ar") == ["ar"] and find(store, lang="EN") == ["en"]
    assert find(store, q="civilians", lang="en") == ["en"] and find(store, lang="pt") == []


def test_an_alerting_item_keeps_its_alert_id(store: Store) -> None:
    item = it("m", "Massacre reported in Abyei")
    a = _alert(item, match())
    store.save_poll(PollResult("un-news", "fetched", FeedState("un-news"), (item,), (a,)),
                    desk(), T0)  # fmt: skip
    [k] = store.search_items(search.query({"q": "massacre"})).rows
    assert k.alert_id == a.id


def _alert(item: Item, m: Match) -> Alert:
    from monitor.alerts.stories import build_alert

    return build_alert(item, (m,), T0)


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_query_strings_answer_400_naming_q_or_safe_results(store: Store, q: str) -> None:
    kept(store, it("a", "Abyei shelling", "budget OR NOT near"))
    try:
        parsed = search.query({"q": q})
    except FieldError as exc:
        assert exc.field == "q"
        return
    found = store.search_items(parsed)  # never an engine error
    assert {k.key for k in found.rows} <= {"a"}


def test_bad_filters_name_their_field() -> None:
    for params, field in (({"country": "Sudan"}, "country"), ({"since": "soon"}, "since"),
                          ({"lang": "arabic"}, "lang"), ({"lang": "a1"}, "lang"),
                          ({"cursor": "abc"}, "cursor"), ({"limit": "51"}, "limit"),
                          ({"until": "2026-13-01"}, "until"), ({"q": "'\"'"}, "q")):  # fmt: skip
        with pytest.raises(FieldError) as exc:
            search.query(params, T0)
        assert exc.value.field == field


def test_retention_prunes_kept_items_and_their_index(store: Store) -> None:
    kept(store, it("old", "Abyei shelling last year"), at=T0 - timedelta(days=200))
    kept(store, it("new", "Abyei shelling today"))
    store.prune(T0 - timedelta(days=180))
    assert find(store, q="abyei") == ["new"] and find(store, q="year") == []
    if isinstance(store, SqliteStore):  # the FTS5 index agrees with its table
        with store._tx() as tx:
            tx.x("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")


def test_db_copy_carries_kept_items_into_postgres(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    src = open_store(str(tmp_path / "src.db"))
    dst = open_store(new_target("postgres", tmp_path, request))
    try:
        kept(src, it("a", "Génocide à Abyei"), it("b", "Budget adopted"), scores={"a": 0.9})
        assert copy_state(src, dst)["items"] == 2
        [k] = dst.search_items(search.query({"q": "genocide"})).rows
        assert (k.key, k.score) == ("a", 0.9) and find(dst, q="budget") == ["b"]
    finally:
        src.close()
        dst.close()


# -- the poll path: new items kept with the seen rows, a warm poll adds nothing ---------------
class Scored:
    """A screen firing no rule whose model gives every item 0.25."""

    def texts(self, item: Item) -> Texts:
        return {}

    def countries(self, item: Item, texts: Texts | None = None) -> tuple[str, ...]:
        return ("SD",)

    def match(self, item: Item, texts: Texts | None = None) -> tuple[Match, ...]:
        return ()

    def assess(self, item: Item, texts: Texts | None = None) -> SimpleNamespace:
        return SimpleNamespace(matches=(), probability=0.25)


@dataclass
class Statements:
    sql: list[str]

    def __call__(self, statement: str) -> None:
        self.sql.append(statement)


WRITES = {"INSERT", "UPDATE", "DELETE"}


def test_a_warm_poll_writes_one_statement_and_keeps_nothing_new(
    tmp_path: Path, feeds: FeedServer
) -> None:
    url = feeds.publish("un-news", rss(story(*QUIET, NOW)))
    store = SqliteStore(tmp_path / "state.db")
    settings = PollSettings(None, 3600.0, 6 * 3600.0, StoryPolicy(72 * 3600, 88, 3))
    bundle = SimpleNamespace(matcher=Scored(), router=lambda a: (("ops",), (), ()), poll=settings)
    policy = FetchPolicy("monitor-test/1")
    poller = Poller(store, make_session(policy), policy, ParsePool(0), lambda: bundle,
                    lambda: NOW)  # fmt: skip
    spec = FeedSpec("un-news", url, 600.0)
    try:
        assert store.claim_feed("un-news", "me", NOW, 60.0, due_only=False)
        fetched, _ = poller.poll(spec)
        assert fetched.outcome == "fetched"
        [k] = store.search_items(search.query({"q": "budget"})).rows
        assert (k.score, k.countries) == (0.25, ("SD",))
        seen = Statements([])
        store._conn.set_trace_callback(seen)
        assert store.claim_feed("un-news", "me", NOW, 60.0, due_only=False)
        before = len(seen.sql)
        warm, _ = poller.poll(spec)  # answered 304
        assert warm.outcome == "not_modified"
        warm_sql = seen.sql[before:]
        assert [s.split()[0] for s in warm_sql if s.split()[0] in WRITES] == ["UPDATE"]
        assert not [s for s in warm_sql if re.search(r"\bitems(_fts)?\b", s)], warm_sql
    finally:
        store._conn.set_trace_callback(None)
        store.close()


def test_fts5_is_in_this_python() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    conn.close()


def test_the_api_refuses_a_malformed_query_and_the_page_escapes_feed_text(
    store: Store, tmp_path: Path
) -> None:
    hostile = Item("h", "un-news", "<script>alert(1)</script> Abyei", "<b>bold</b>",
                   "javascript:alert(1)", T0)  # fmt: skip
    kept(store, hostile)
    (tmp_path / "config.toml").write_text('[state]\npath = "state.db"\n')
    config = load_config(tmp_path / "config.toml", channel_types=CHANNELS)
    token = auth.new_token()
    store.add_token("bot", "viewer", auth.digest(token), T0)
    server = site.start("127.0.0.1:0", Console(store, lambda: config, now=lambda: T0))
    base, headers = server.url.rstrip("/"), {"Authorization": f"Bearer {token}"}
    try:
        bad = requests.get(f"{base}/api/v1/items", params={"q": 'abyei "'}, headers=headers,
                           timeout=10)  # fmt: skip
        assert bad.status_code == 400 and bad.json()["field"] == "q" and bad.json()["error"]
        assert requests.get(f"{base}/api/v1/items", timeout=10).status_code == 401
        [got] = requests.get(f"{base}/api/v1/items", params={"q": "abyei"}, headers=headers,
                             timeout=10).json()["items"]  # fmt: skip
        assert got["link"] is None and got["title"] == hostile.title
        html = requests.get(f"{base}/search", params={"q": "abyei"}, headers=headers, timeout=10)
        assert html.status_code == 200 and "<script>alert(1)" not in html.text
        assert "&lt;script&gt;" in html.text and "javascript:" not in html.text
        refused = requests.get(f"{base}/search", params={"q": "*"}, headers=headers, timeout=10)
        assert refused.status_code == 400 and "no word to search for" in refused.text
    finally:
        server.shutdown()
        server.server_close()
