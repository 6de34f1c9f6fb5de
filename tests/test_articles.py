"""Full text for teaser feeds (issue 14, part 2), on loopback and both engines: a feed with
`fetch_articles = true` whose items carry only "Read more" alerts on its article's text, and
the explanation says the hit came from the article; only new items' pages are fetched; with
fetch_articles off none is; a dead article server leaves the item matched on its feed text.
Links from a feed on a public address never reach a private one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from structlog.testing import capture_logs

from monitor.channels import render
from monitor.match.fold import ARTICLE_BYTES, texts, with_article
from monitor.reader.addresses import REFUSED, REFUSED_LINK
from monitor.reader.fetch import FetchPolicy, make_session
from monitor.reader.page import fetch_page
from monitor.service.runtime import Runtime
from monitor.web import auth, site
from monitor.web.app import Console
from tests.feedfiles import item, rss, write_config
from tests.feedserver import FeedServer, Response
from tests.loopback import closed_port
from tests.runtimes import poll, runtime_of
from tests.stores import ENGINES, new_target

NOW = datetime.now(UTC).replace(microsecond=0)
PAGE = (
    b"<html><body><nav>News | Sport</nav><article><h1>Statement on Abyei</h1><p>The Special "
    b"Adviser is alarmed by reports that a massacre of civilians took place in Abyei town on "
    b"Monday, and calls on all parties to protect civilians.</p></article></body></html>"
)


def teaser(guid: str, title: str, link: str, when: datetime = NOW) -> str:
    date = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return item(title, guid=guid, link=link, date=date, description="Read more")


@pytest.fixture(params=ENGINES)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The [state] table of the engine's store (PostgreSQL's URL in the environment)."""
    if request.param == "sqlite":
        yield 'path = "state.db"'
        return
    monkeypatch.setenv("ARTICLES_TEST_PG", new_target("postgres", tmp_path, request))
    yield 'url_env = "ARTICLES_TEST_PG"'


def configured(
    tmp_path: Path, url: str, state: str, fetch: bool = True, defaults: str = ""
) -> Path:
    cfg = write_config(tmp_path, {"osapg": url}, state=state, defaults=defaults)
    text = cfg.read_text().replace(
        'jitter = "0s"\n', f'jitter = "0s"\nfetch_articles = {str(fetch).lower()}\n'
    )
    cfg.write_text(text + "\n[model]\nenabled = false\n")  # the rules alone decide here
    return cfg


def alert_page(rt: Runtime, alert_id: str) -> str:
    """The console's page of the alert, as a viewer reads it."""
    token = auth.new_token()
    rt.store.add_token("viewer", "viewer", auth.digest(token), NOW)
    server = site.start("127.0.0.1:0", Console(rt.store, lambda: rt.config))
    try:
        url = f"{server.url.rstrip('/')}/alerts/{alert_id}"
        return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).text
    finally:
        server.shutdown()
        server.server_close()


def test_a_teaser_feed_alerts_on_its_article_and_says_so(
    tmp_path: Path, feeds: FeedServer, engine: str
) -> None:
    page = feeds.serve("/statements/abyei", Response(body=PAGE))
    url = feeds.publish("osapg", rss(teaser("s1", "Statement by the Special Adviser", page)))
    with runtime_of(configured(tmp_path, url, engine)) as rt:
        result = poll(rt)
        [candidate] = result.alerts
        [m] = candidate.matches
        [hit] = m.hits
        assert (hit.field, hit.text) == ("article", "massacre")
        assert "massacre of civilians took place in Abyei" in hit.snippet
        assert render.hit_line(hit) == '"massacre" matched "massacre" in the article (100)'
        stored = rt.store.load_alert(candidate.id)
        assert stored is not None and stored.matches[0].hits[0].field == "article"
        assert "matched “massacre” in the article" in alert_page(rt, candidate.id)

        later = NOW + timedelta(minutes=5)
        feeds.publish("osapg", rss(teaser("s1", "Statement by the Special Adviser", page),
                                   teaser("s2", "Statement on Darfur", page, later)))  # fmt: skip
        again = poll(rt)
        assert [i.key for i in again.items] == ["g:s2"] and len(again.alerts) == 1
    assert len(feeds.requests("/statements/abyei")) == 2, "only the new item's page is fetched"


def test_without_fetch_articles_no_page_is_fetched(
    tmp_path: Path, feeds: FeedServer, engine: str
) -> None:
    page = feeds.serve("/statements/abyei", Response(body=PAGE))
    url = feeds.publish("osapg", rss(teaser("s1", "Statement by the Special Adviser", page)))
    with runtime_of(configured(tmp_path, url, engine, fetch=False)) as rt:
        result = poll(rt)
    assert len(result.items) == 1 and result.alerts == ()
    assert feeds.requests("/statements/abyei") == []


def test_a_dead_article_server_leaves_the_item_matched_on_its_feed_text(
    tmp_path: Path, feeds: FeedServer, engine: str
) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/statements/abyei"
    url = feeds.publish("osapg", rss(teaser("s1", "Massacre reported in Abyei", dead)))
    with runtime_of(configured(tmp_path, url, engine)) as rt, capture_logs() as logged:
        result = poll(rt)
        failed = rt.metrics.articles.labels("osapg", "failed")._value.get()
        [candidate] = result.alerts
        assert rt.store.load_alert(candidate.id) is not None
    assert len(result.items) == 1 and result.state.items_seen == 1
    assert candidate.matches[0].hits[0].field == "title"
    assert failed == 1
    [event] = [e for e in logged if e.get("event") == "article.failed"]
    assert event["link"] == dead and event["feed"] == "osapg" and "connection" in event["error"]


# a real page's shape at its worst for the extractor: a long table (about 5 s to extract)
SLOW_PAGE = b"<html><body><table>" + b"<tr><td>cell text</td><td>x</td></tr>" * 40000 + b"</table>"


def test_a_page_too_slow_to_extract_is_cut_at_the_parse_deadline(
    tmp_path: Path, feeds: FeedServer
) -> None:
    page = feeds.serve("/statements/slow", Response(body=SLOW_PAGE))
    url = feeds.publish("osapg", rss(teaser("s1", "Massacre reported in Abyei", page)))
    cfg = configured(tmp_path, url, 'path = "state.db"', defaults='parse_timeout = "1s"')
    with runtime_of(cfg, parse_workers=1) as rt, capture_logs() as logged:
        started = time.monotonic()
        result = poll(rt)
        took = time.monotonic() - started
        [candidate] = result.alerts
    assert candidate.matches[0].hits[0].field == "title", "matched on what the feed gave"
    [event] = [e for e in logged if e.get("event") == "article.failed"]
    assert "article extraction exceeded its 1s deadline" in event["error"]
    assert took < 4, "the poll is not held by the extractor"


def test_the_article_is_matched_up_to_its_first_20_kb() -> None:
    head = "Civilians fled. " * 1270  # 20,320 bytes, within the 20 KiB matched
    folded = with_article(texts("t", "Read more"), head + "massacre " + "x" * 5000)
    assert ARTICLE_BYTES == 20 * 1024
    assert len(folded["article"].text.encode()) == ARTICLE_BYTES
    assert "massacre" in folded["article"].words
    assert "massacre" not in with_article(texts("t", ""), "é" * 11000 + "massacre")["article"].words
    assert "article" not in with_article(texts("t", "s"), "")  # no page: the feed's text alone


def test_a_link_from_a_public_feed_never_reaches_a_private_address(feeds: FeedServer) -> None:
    policy = FetchPolicy("monitor-test/1", 1.0, 1.0, 2.0, 1_000_000, 3)
    link = feeds.serve("/internal", Response(body=b"internal"))
    public_feed = "http://news.example.org/feed.xml"
    with make_session(policy) as session:
        own = fetch_page(session, link, policy, origin=feeds.url("/feed.xml"))
        public = fetch_page(session, link, policy, origin=public_feed,
                            resolve=lambda host: ["93.184.216.34"])  # fmt: skip
        unknown = fetch_page(session, link, policy, origin=None)
        elsewhere = feeds.url("/internal", host="localhost")
        rebound = fetch_page(session, elsewhere, policy, origin=public_feed,
                             resolve=lambda host: ["93.184.216.34"])  # fmt: skip
    assert own.body == b"internal" and own.status == 200 and own.error is None
    assert public.error == REFUSED_LINK and unknown.error == REFUSED_LINK
    assert rebound.error == REFUSED and rebound.body is None
    assert len(feeds.requests("/internal")) == 1
