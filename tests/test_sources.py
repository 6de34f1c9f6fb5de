"""Sources without feeds, part by part: a page read with CSS selectors (links, titles, dates
in English, French and Spanish), JSON Feed 1.0 / 1.1 and how one is recognised, the config's
checks of type and selectors (at start and on reload), and test-rules on saved pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.channels import CHANNELS
from monitor.config.load import load_config
from monitor.errors import ConfigError, FetchError
from monitor.model import FeedSpec, Selectors
from monitor.reader.documents import parse_document
from monitor.reader.jsonfeed import is_jsonfeed
from monitor.reader.normalize import normalize_entries
from monitor.reader.pagedate import parse_page_date
from monitor.reader.pool import ParsePool
from monitor.service import runtime
from monitor.service.daemon import Daemon
from tests.e2e import env_with, run_monitor
from tests.feedfiles import GOOD_RULES, write_config

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PAGE = """<!DOCTYPE html><html><head><base href="/fr/"></head><body>
<script>document.write("<li class=row><a href=/x>injected</a></li>")</script>
<ul><li class="row"><a href="declarations/1.html">Déclaration sur le Soudan</a>
  <span class="date">1er mars 2026</span><p>Le Conseiller spécial est alarmé.</p></li>
<li class="row"><h3>Statement on Myanmar</h3><a href="https://ex.org/2?utm_source=x">Read</a>
  <time datetime="2026-05-02T09:30:00Z">2 May</time></li>
<li class="row"><span class="date">12 de marzo de 2026</span><b>Sin enlace</b></li>
<li class="row"></li></ul></body></html>""".encode()
SPEC = FeedSpec("osapg", "https://www.un.org/en/page", 600.0, type="html")


def items(selectors: Selectors, page: bytes = PAGE) -> list[tuple[str, str, str, str]]:
    """(key, title, published date, summary) of the page's items, as the pipeline keeps them."""
    parsed = parse_document(page, {}, SPEC.url, "html", selectors)
    return [
        (i.key, i.title, "" if i.date_estimated else i.published.date().isoformat(), i.summary)
        for i in normalize_entries(parsed.entries, SPEC, SPEC.url, NOW)
    ]


def test_items_links_titles_dates_and_summaries_come_from_the_selectors() -> None:
    """Links resolve against the page's <base>, tracking parameters go; the title falls back
    to the link's text; dates in French and from a <time datetime>; an item without a link
    is keyed by its title; an empty item is no item; a script's markup is no item."""
    got = items(Selectors(item="li.row", title="h3, b", date=".date, time", summary="p"))
    assert got == [
        ("l:https://www.un.org/fr/declarations/1.html", "Déclaration sur le Soudan",
         "2026-03-01", "Le Conseiller spécial est alarmé."),
        ("l:https://ex.org/2", "Statement on Myanmar", "2026-05-02", ""),
        ("g:title:Sin enlace", "Sin enlace", "2026-03-12", ""),
    ]  # fmt: skip


def test_without_link_or_date_selectors_the_item_s_first_link_and_time_are_used() -> None:
    """No `link`: the item's first <a>; no `date`: its <time>, else undated (backfill then
    treats it as feeds without dates are treated); no title: the link's text (the item's
    text when it has no link)."""
    got = items(Selectors(item="li.row"))
    assert [(k, d) for k, _t, d, _s in got] == [
        ("l:https://www.un.org/fr/declarations/1.html", ""),
        ("l:https://ex.org/2", "2026-05-02"),
        ("g:title:12 de marzo de 2026Sin enlace", ""),
    ]
    assert got[1][1] == "Read"


def test_a_page_with_no_match_fails_naming_the_selector() -> None:
    with pytest.raises(FetchError, match=r'item selector "article\.news" matched nothing'):
        parse_document(PAGE, {}, SPEC.url, "html", Selectors(item="article.news"))


def test_entities_declared_by_a_page_are_not_expanded() -> None:
    page = b'<!DOCTYPE html [<!ENTITY x "EXPANDED">]><ul><li><a href="/a">T &x;</a></li></ul>'
    got = items(Selectors(item="li"), page)
    assert "EXPANDED" not in got[0][1]


def test_a_page_parses_in_the_pool_under_the_deadline() -> None:
    """With workers, an html source goes to the parse pool (its selectors pickled along)."""
    pool = ParsePool(1, 20.0)
    try:
        parsed = pool.parse_as("html", Selectors(item="li.row"), PAGE, {}, SPEC.url)
    finally:
        pool.close()
    assert len(parsed.entries) == 3


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-03-12T10:00:00+01:00", "2026-03-12"),
        ("Tue, 17 Feb 2026 23:30:00 -0500", "2026-02-18"),
        ("Press Release: 7 December 2016", "2016-12-07"),
        ("March 12, 2026", "2026-03-12"),
        ("Sept. 3, 2025", "2025-09-03"),
        ("Publié le 14 février 2026", "2026-02-14"),
        ("1er août 2025", "2025-08-01"),
        ("12 de diciembre de 2025", "2025-12-12"),
        ("5 setiembre 2025", "2025-09-05"),
        ("12/03/2026", "2026-03-12"),  # day first, as these sites write it
        ("03/25/2026", "2026-03-25"),  # only month first makes sense
        ("Issued 2026-01-05", "2026-01-05"),
    ],
)
def test_page_dates_in_common_formats(text: str, day: str) -> None:
    when = parse_page_date(text)
    assert when is not None and when.tzinfo is not None and when.date().isoformat() == day


@pytest.mark.parametrize("text", ["", "no date here", "31 February 2026", "13/13/2026"])
def test_text_without_a_real_date_gives_none(text: str) -> None:
    assert parse_page_date(text) is None


def test_json_feed_items_in_both_versions() -> None:
    """1.1: authors list, language; 1.0: one author, a numeric id; content_text, else
    summary, else content_html, as the summary; date_modified when not published."""
    v11 = {
        "version": "https://jsonfeed.org/version/1.1", "language": "fr",
        "items": [{"id": "a", "url": "https://ex.org/a", "title": "A",
                   "content_html": "<p>html</p>", "date_published": "2026-05-01T10:00:00Z",
                   "authors": [{"name": "OSAPG"}]}],
    }  # fmt: skip
    v10 = {
        "version": "https://jsonfeed.org/version/1", "author": {"name": "ICC"},
        "items": [{"id": 7, "external_url": "https://ex.org/7", "summary": "s",
                   "content_text": "t", "date_modified": "2026-05-02T10:00:00+02:00"}],
    }  # fmt: skip
    a = parse_document(json.dumps(v11).encode(), {}, "https://ex.org/f", "jsonfeed").entries[0]
    b = parse_document(json.dumps(v10).encode(), {}, "https://ex.org/f", "jsonfeed").entries[0]
    assert (a.guid, a.link, a.summary, a.authors, a.language) == (
        "a",
        "https://ex.org/a",
        "<p>html</p>",
        ("OSAPG",),
        "fr",
    )
    assert a.published == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert (b.guid, b.link, b.summary, b.authors) == ("7", "https://ex.org/7", "s", ("ICC",))
    assert b.published == datetime(2026, 5, 2, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("content_type", "body", "detected"),
    [
        ("application/feed+json", b"{}", True),
        ("application/json; charset=utf-8", b'{"version": "https://jsonfeed.org/version/1"}', True),
        ("application/json", b'{"version": "1.0", "items": []}', False),
        ("application/rss+xml", b'<rss version="2.0"/>', False),
        ("text/html", b'{"version": "https://jsonfeed.org/version/1"}', False),
    ],
)  # fmt: skip
def test_a_json_feed_is_recognised_by_its_answer(
    content_type: str, body: bytes, detected: bool
) -> None:
    assert is_jsonfeed(body, {"Content-Type": content_type}) is detected


def config_with(tmp_path: Path, feed: str) -> Path:
    cfg = write_config(tmp_path, {}, rules=GOOD_RULES)
    cfg.write_text(cfg.read_text() + f'[[feeds]]\nname = "page"\nurl = "https://ex.org/"\n{feed}')
    return cfg


@pytest.mark.parametrize(
    ("feed", "key", "says"),
    [
        ('type = "atom"\n', "type", '"atom" is not a feed type; write "rss"'),
        ('type = "html"\ntitle = "h3"\n', "item", 'missing; type = "html" needs item'),
        ('type = "html"\nitem = "li >"\n', "item", '"li >" is not a CSS selector'),
        ('type = "html"\nitem = "li"\ndate = "time:bogus"\n', "date", "is not a CSS selector"),
        ('item = "li"\n', "item", 'CSS selectors belong to type = "html" feeds'),
        ('type = "jsonfeed"\nlink = "a"\n', "link", 'add type = "html" or remove link'),
        ('type = "html"\nitem = "li"\nselector = "a"\n', "selector", "unknown key"),
    ],
)
def test_bad_types_and_selectors_are_rejected_naming_feed_and_key(
    tmp_path: Path, feed: str, key: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config_with(tmp_path, feed), {}, channel_types=CHANNELS)
    assert any(f"feeds[0].{key}: " in p and says in p for p in caught.value.problems), (
        caught.value.problems
    )


def test_a_bad_selector_stops_the_service_at_start(tmp_path: Path) -> None:
    cfg = config_with(tmp_path, 'type = "html"\nitem = "li["\n')
    done = run_monitor(["run", "--once", "-c", str(cfg)], env_with())
    assert done.returncode == 2
    assert "feeds[0].item: feed page:" in done.stderr


def test_a_reload_with_a_bad_selector_keeps_the_config_in_force(tmp_path: Path) -> None:
    cfg = config_with(tmp_path, 'type = "html"\nitem = "li.row"\n')
    rt = runtime.build(runtime.load(cfg), parse_workers=0)
    try:
        daemon = Daemon(rt, cfg)
        before = rt.bundle
        cfg.write_text(cfg.read_text().replace('item = "li.row"', 'item = "li.row >"'))
        assert not daemon.reload()
        assert rt.bundle is before
        assert rt.config.feeds[0].selectors == Selectors(item="li.row")
    finally:
        rt.close()


def test_test_rules_reads_a_saved_page_as_its_configured_feed(tmp_path: Path) -> None:
    """--feed NAME: the feed's type and selectors, links resolved against its URL."""
    page = tmp_path / "statements.html"
    page.write_bytes(
        b'<ul><li class="s"><a href="/s/1">UN adviser warns of genocide in Kenya</a></li>'
        b'<li class="s"><a href="/s/2">Annual work plan</a></li></ul>'
    )
    cfg = config_with(tmp_path, 'type = "html"\nitem = "li.s"\n')
    by_feed = run_monitor(
        ["test-rules", "--json", "--no-model", "-c", str(cfg), "--feed", "page", str(page)],
        env_with(),
    )
    by_flags = run_monitor(
        ["test-rules", "--json", "--no-model", "-c", str(cfg), "--type", "html",
         "--item", "li.s", "--base", "https://ex.org/", str(page)],
        env_with(),
    )  # fmt: skip
    assert by_feed.returncode == 0, by_feed.stderr
    rows = [json.loads(line) for line in by_feed.stdout.splitlines()]
    flagged = [json.loads(line) for line in by_flags.stdout.splitlines()]
    assert [r["key"] for r in rows] == [r["key"] for r in flagged]
    assert [r["link"] for r in rows] == ["https://ex.org/s/1", "https://ex.org/s/2"]
    assert rows[0]["matches"] and not rows[1]["matches"]


def test_test_rules_refuses_a_bad_selector_and_reads_a_saved_json_feed(tmp_path: Path) -> None:
    saved = tmp_path / "feed.json"
    saved.write_text(json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": "1", "url": "https://ex.org/1", "title": "Genocide feared in Kenya"}],
    }))  # fmt: skip
    cfg = config_with(tmp_path, "")
    bad = run_monitor(
        ["test-rules", "-c", str(cfg), "--type", "html", "--item", "li >", str(saved)], env_with()
    )
    assert bad.returncode == 2 and '--item: "li >" is not a CSS selector' in bad.stderr
    read = run_monitor(
        ["test-rules", "--json", "--no-model", "-c", str(cfg), str(saved)], env_with()
    )
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["title"] == "Genocide feared in Kenya"


def test_an_opml_export_leaves_html_pages_out(tmp_path: Path) -> None:
    """A page read with selectors is no feed to another reader; a JSON Feed is one."""
    cfg = config_with(tmp_path, 'type = "html"\nitem = "li"\n')
    cfg.write_text(
        cfg.read_text() + '\n[[feeds]]\nname = "j"\nurl = "https://ex.org/f.json"\n'
        'type = "jsonfeed"\n'
    )
    out = run_monitor(["feeds", "export", "-c", str(cfg)], env_with())
    assert out.returncode == 0, out.stderr
    assert "https://ex.org/f.json" in out.stdout and 'xmlUrl="https://ex.org/"' not in out.stdout


SHIPPED_PAGES = {
    # the shapes the shipped selectors must read whatever the markup around the links
    "osapg-statements": (b'<nav><a href="/en/genocideprevention/statements.shtml">Statements'
                         b'</a></nav><div><p><a href="/en/genocideprevention/documents/media/'
                         b'statements/2025/Statement-Sudan.pdf">Statement on El Fasher</a></p>'
                         b'<a href="/en/genocideprevention/about.shtml">About</a></div>'),
    "icc-news-page": (b'<div class="view"><div><a href="/news/situation-darfur-verdict">'
                      b'Darfur: ICC Trial Chamber finds Ali Kushayb guilty</a></div>'
                      b'<a href="/about">About the Court</a></div>'),
    "icc-situations": (b'<ul><li><a href="/situations/darfur">Darfur, Sudan</a></li><li>'
                       b'<a href="/cases/abd-al-rahman">Abd-Al-Rahman</a></li></ul>'),
}  # fmt: skip


def test_the_shipped_pages_without_feeds_read_links_in_any_markup() -> None:
    shipped = load_config(Path(__file__).parent.parent / "config.toml", channel_types=CHANNELS)
    pages = {f.name: f for f in shipped.feeds if f.type == "html"}
    assert set(pages) == set(SHIPPED_PAGES)
    titles = {}
    for name, spec in pages.items():
        parsed = parse_document(SHIPPED_PAGES[name], {}, spec.url, "html", spec.selectors)
        titles[name] = [e.title for e in parsed.entries]
    assert titles == {
        "osapg-statements": ["Statements", "Statement on El Fasher"],
        "icc-news-page": ["Darfur: ICC Trial Chamber finds Ali Kushayb guilty"],
        "icc-situations": ["Darfur, Sudan", "Abd-Al-Rahman"],
    }
