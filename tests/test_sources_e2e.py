"""Sources without feeds end to end: an HTML list page and a JSON Feed on loopback become
items and alerts through `monitor run --once` (the service's poller), with seen keys; a page
whose item selector finds nothing shows in `status` and raises "source down"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.channel_servers import HttpReceiver, http_receiver
from tests.e2e import env_with, run_monitor
from tests.feedfiles import GOOD_RULES, SIGNED_WEBHOOK, write_config
from tests.feedserver import FeedServer, Response

HTML_TYPE = {"Content-Type": "text/html; charset=utf-8"}
DAY = (datetime.now(UTC) - timedelta(hours=2)).strftime("%d %B %Y")
ROWS = [
    ("/en/statements/kenya.shtml", "UN adviser warns of genocide risk in Kenya"),
    ("/en/statements/budget.shtml", "Office presents its annual work plan"),
]
NEW_ROW = ("/en/statements/peru.shtml", "Special Adviser alarmed by genocidal attacks in Peru")


def page(rows: list[tuple[str, str]]) -> bytes:
    """A statements list page as such offices publish them: one <li> per statement, a
    relative link, the date printed for people."""
    items = "".join(
        f'<li class="statement"><span class="date">{DAY}</span>'
        f'<h3><a href="{href}">{title}</a></h3><p>Statement of the Special Adviser.</p></li>'
        for href, title in rows
    )
    return (
        "<!DOCTYPE html><html><head><title>Statements</title></head><body>"
        f'<nav><a href="/en/">Home</a></nav><ul class="statements">{items}</ul></body></html>'
    ).encode()


def html_feed(url: str, item: str = "li.statement") -> str:
    return (
        f'[[feeds]]\nname = "osapg"\nurl = "{url}"\ntype = "html"\nitem = "{item}"\n'
        'title = "h3"\nlink = "h3 a"\ndate = ".date"\nsummary = "p"\njitter = "0s"\n\n'
    )


def configure(tmp_path: Path, feeds: str, alerts: str = "") -> Path:
    cfg = write_config(tmp_path, {}, rules=GOOD_RULES, channels=SIGNED_WEBHOOK + alerts)
    cfg.write_text(cfg.read_text() + feeds)
    return cfg


def run_once(cfg: Path, rx: HttpReceiver, code: int = 0) -> list[dict[str, Any]]:
    """One `run --once` (exit 1 when a feed failed); the webhook bodies it delivered."""
    before = len(rx.requests)
    env = env_with(TEST_HOOK_URL=rx.url(), TEST_HOOK_SECRET="s3cret-value")
    done = run_monitor(["run", "--once", "-c", str(cfg)], env)
    assert done.returncode == code, done.stderr[-3000:]
    return [json.loads(r.body) for r in rx.requests[before:]]


def status(cfg: Path) -> dict[str, Any]:
    out = run_monitor(["status", "--json", "-c", str(cfg)], env_with())
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def test_an_html_list_page_alerts_once_per_new_row(tmp_path: Path, feeds: FeedServer) -> None:
    """The page's rows become items; an alerting row alerts once, a second poll alerts
    nothing, and a row added to the page alerts once, with its link made absolute."""
    url = feeds.serve("/statements.shtml", Response(body=page(ROWS), headers=HTML_TYPE))
    cfg = configure(tmp_path, html_feed(url))
    with http_receiver() as rx:
        first = run_once(cfg, rx)
        again = run_once(cfg, rx)
        feeds.serve("/statements.shtml", Response(body=page([NEW_ROW, *ROWS]), headers=HTML_TYPE))
        added = run_once(cfg, rx)
        fourth = run_once(cfg, rx)
    assert [b["title"] for b in first] == [ROWS[0][1]], first
    assert first[0]["sources"][0]["link"] == feeds.url(ROWS[0][0])
    assert first[0]["sources"][0]["feed"] == "osapg"
    assert again == [] and fourth == []
    assert [b["title"] for b in added] == [NEW_ROW[1]]
    osapg = next(f for f in status(cfg)["feeds"] if f["name"] == "osapg")
    assert osapg["items_seen"] == 3 and not osapg["last_error"]


def test_a_page_whose_selector_finds_nothing_is_a_broken_source(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """A redesigned page (the item selector matches nothing) fails the poll: `status` names
    the selector, and "source down" is raised as for a broken feed."""
    url = feeds.serve("/statements.shtml", Response(body=page(ROWS), headers=HTML_TYPE))
    cfg = configure(
        tmp_path, html_feed(url, item="div.press-release"), '\n[alerts]\nfeed_down_after = "0s"\n'
    )
    with http_receiver() as rx:
        bodies = run_once(cfg, rx, code=1)
    osapg = next(f for f in status(cfg)["feeds"] if f["name"] == "osapg")
    assert 'selector "div.press-release" matched nothing' in osapg["last_error"]
    assert osapg["consecutive_failures"] == 1
    assert [b["type"] for b in bodies] == ["alert.source_down"], bodies
    assert "div.press-release" in json.dumps(bodies[0])


def json_feed(version: str, items: list[dict[str, Any]]) -> bytes:
    return json.dumps({"version": version, "title": "Statements", "items": items}).encode()


def test_json_feeds_by_type_and_by_content_type(tmp_path: Path, feeds: FeedServer) -> None:
    """A JSON Feed 1.1 given type = "jsonfeed" and a JSON Feed 1.0 served as
    application/feed+json to a feed with no type both become items and alerts."""
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    v11 = json_feed(
        "https://jsonfeed.org/version/1.1",
        [
            {"id": "s-1", "url": "https://ex.org/s-1", "title": "Genocide warning for Kenya",
             "content_text": "The adviser warns of genocide.", "date_published": when,
             "language": "en"},
            {"id": "s-2", "url": "https://ex.org/s-2", "title": "Annual report presented",
             "content_html": "<p>Routine.</p>", "date_published": when},
        ],
    )  # fmt: skip
    v10 = json_feed(
        "https://jsonfeed.org/version/1",
        [{"id": 7, "url": "https://ex.org/p-7", "title": "Massacre and genocide feared in Peru",
          "summary": "Civilians killed.", "date_modified": when}],
    )  # fmt: skip
    typed = feeds.serve("/feed.json", Response(body=v11, headers={"Content-Type": "text/plain"}))
    sniffed = feeds.serve(
        "/other.json", Response(body=v10, headers={"Content-Type": "application/feed+json"})
    )
    tables = (
        f'[[feeds]]\nname = "typed"\nurl = "{typed}"\ntype = "jsonfeed"\njitter = "0s"\n\n'
        f'[[feeds]]\nname = "sniffed"\nurl = "{sniffed}"\njitter = "0s"\n\n'
    )
    cfg = configure(tmp_path, tables)
    with http_receiver() as rx:
        first = run_once(cfg, rx)
        again = run_once(cfg, rx)
    titles = sorted(b["title"] for b in first if b["type"] == "alert.match")
    assert titles == ["Genocide warning for Kenya", "Massacre and genocide feared in Peru"]
    assert again == []
    seen = {f["name"]: f["items_seen"] for f in status(cfg)["feeds"]}
    assert seen == {"typed": 2, "sniffed": 1}


def test_a_body_that_is_not_a_json_feed_fails_with_the_reason(
    tmp_path: Path, feeds: FeedServer
) -> None:
    """type = "jsonfeed" on invalid JSON, or on JSON that is no JSON Feed: the poll fails
    and `status` says what was wrong."""
    broken = feeds.serve("/broken.json", Response(body=b"{not json", headers=HTML_TYPE))
    other = feeds.serve("/other.json", Response(body=b'{"items": []}', headers=HTML_TYPE))
    tables = "".join(
        f'[[feeds]]\nname = "{n}"\nurl = "{u}"\ntype = "jsonfeed"\njitter = "0s"\n\n'
        for n, u in (("broken", broken), ("other", other))
    )
    cfg = configure(tmp_path, tables)
    with http_receiver() as rx:
        run_once(cfg, rx, code=1)
    errors = {f["name"]: f["last_error"] for f in status(cfg)["feeds"]}
    assert "not valid JSON" in errors["broken"]
    assert "not a JSON Feed" in errors["other"]
