"""Each item's language carried to every output, end to end on loopback: `monitor run
--once` reads feeds that declare Arabic, English and Portuguese (one declaring nothing, its
language set in the config), delivers webhook payloads with `lang`, and the alert API, its
`lang` filter, the CSV export and the console's pages show it; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from monitor.channels import CHANNELS
from monitor.config.load import Config, load_config
from monitor.model import utcnow
from monitor.store import open_store
from monitor.web import auth, site
from monitor.web.app import Console
from tests.channel_servers import http_receiver
from tests.e2e import env_with, run_monitor
from tests.feedfiles import item, webhook, write_config
from tests.feedserver import FeedServer, Response
from tests.pg import PgServer
from tests.stores import ENGINES
from tests.test_web_pages import PASSWORD, sign_in

# real published Arabic headlines (corpus-work r3/ar/items.tsv), each naming a massacre
AR_1 = "مجزرة بلون الدم إرتكبتها مليشيا الدعم السريع بقرية ود النورة"
AR_2 = "أسوشيتد برس: قوات إريترية نفذت مجزرة مروّعة في تيغراي"
AR_IN_EN = "مجزرة جديدة للاحتلال الإسرائيلي بحق المدنيين وسط غزة"
EN = "Massacre reported in the village of Tawila"
SHORT_PT = "Massacre: Cabo Delgado"  # names alone: detection is unsure, the declaration holds
SHORT_CONFIGURED = "Massacre!"  # a feed declaring nothing; its config says "pt"
RULES = """theme = "test"

[[rules]]
id = "massacre"
title = "Massacre reported"
severity = "high"
description = "A test rule, in English and Arabic."
any = ["massacre", "مجزرة"]
"""
EXPECTED = {AR_1: "ar", AR_2: "ar", AR_IN_EN: "ar", EN: "en", SHORT_PT: "pt",
            SHORT_CONFIGURED: "pt"}  # fmt: skip


def rss(language: str | None, *items: str) -> bytes:
    declared = f"<language>{language}</language>" if language else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>T</title>'
        f"<link>http://example.org/</link><description>d</description>{declared}"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def entry(title: str, n: str) -> str:
    return item(title, guid=n, link=f"https://news.example.org/{n}")


@pytest.fixture(params=ENGINES)
def state(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, dict[str, str]]:
    """([state] table, the store's target, environment) for one engine."""
    if request.param == "sqlite":
        return 'path = "state.db"', str(tmp_path / "state.db"), {}
    pg: PgServer = request.getfixturevalue("pg_server")
    url = pg.new_database()
    return 'url_env = "LANG_PG_URL"', url, {"LANG_PG_URL": url}


@dataclass
class Run:
    bodies: list[dict[str, Any]]  # what the webhook received
    target: str  # the store
    config: Config


@pytest.fixture
def delivered(tmp_path: Path, feeds: FeedServer, state: tuple[str, str, dict[str, str]]) -> Run:
    """What one `run --once` delivered and recorded."""
    table, target, env_extra = state
    documents = {
        "ar-news": rss("ar", entry(AR_1, "a1"), entry(AR_2, "a2")),
        "en-news": rss("en-GB", entry(EN, "e1"), entry(AR_IN_EN, "e2")),
        "pt-news": rss("pt-BR", entry(SHORT_PT, "p1")),
    }
    urls = {name: feeds.serve(f"/{name}.xml", Response(body=d)) for name, d in documents.items()}
    bare = feeds.serve("/bare.xml", Response(body=rss(None, entry(SHORT_CONFIGURED, "b1"))))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "massacre.toml").write_text(RULES, encoding="utf-8")
    configured = f'[[feeds]]\nname = "bare"\nurl = "{bare}"\nlanguage = "pt"\njitter = "0s"\n\n'
    cfg = write_config(tmp_path, urls, rules=tmp_path / "rules",
                       channels=configured + webhook("LANG_HOOK"), state=table)  # fmt: skip
    with http_receiver() as rx:
        env = env_with(LANG_HOOK=rx.url(), **env_extra)
        run = run_monitor(["run", "--once", "-c", str(cfg)], env)
        bodies = [json.loads(r.body) for r in rx.requests]
    assert run.returncode == 0, run.stderr[-2000:]
    return Run(bodies, target, load_config(cfg, env, channel_types=CHANNELS))


def test_webhook_payloads_carry_each_alerts_language(delivered: Run) -> None:
    """Arabic from the Arabic feed and from the feed wrongly declaring English, English,
    and the declared (or configured) language where a title is too short to tell."""
    bodies = delivered.bodies
    assert {b["title"]: b["lang"] for b in bodies} == EXPECTED
    for b in bodies:
        assert b["item"]["lang"] == b["lang"]
        assert [s["lang"] for s in b["sources"]] == [b["lang"]]


def test_api_console_and_csv_show_the_language(delivered: Run) -> None:
    """The alert API gives `lang` and filters on it; the list page, an alert's page and the
    search page show it; the CSV has a lang column; the search API's items carry theirs."""
    store = open_store(delivered.target)
    token = auth.new_token()
    store.add_token("bot", "viewer", auth.digest(token), utcnow())
    store.add_user("amina", "analyst", auth.hash_password(PASSWORD), utcnow())
    server = site.start("127.0.0.1:0", Console(store, lambda: delivered.config))
    base = server.url.rstrip("/")
    bearer = {"Authorization": f"Bearer {token}"}
    try:
        listed = requests.get(base + "/api/v1/alerts", headers=bearer, timeout=10).json()["alerts"]
        assert {a["title"]: a["lang"] for a in listed} == EXPECTED
        arabic = requests.get(base + "/api/v1/alerts", params={"lang": "AR"}, headers=bearer,
                              timeout=10).json()["alerts"]  # fmt: skip
        assert {a["title"] for a in arabic} == {AR_1, AR_2, AR_IN_EN}
        bad = requests.get(base + "/api/v1/alerts", params={"lang": "arabic"}, headers=bearer,
                           timeout=10)  # fmt: skip
        assert bad.status_code == 400 and "lang" in bad.text
        one = next(a for a in listed if a["title"] == AR_1)
        detail = requests.get(base + f"/api/v1/alerts/{one['id']}", headers=bearer, timeout=10)
        assert detail.json()["lang"] == "ar" and detail.json()["sources"][0]["lang"] == "ar"
        items = requests.get(base + "/api/v1/items", params={"feed": "en-news"}, headers=bearer,
                             timeout=10).json()["items"]  # fmt: skip
        assert {i["title"]: i["lang"] for i in items} == {EN: "en", AR_IN_EN: "ar"}
        csv_rows = requests.get(base + "/api/v1/alerts.csv", headers=bearer, timeout=10).text
        header, *rows = csv_rows.splitlines()
        assert "lang" in header.split(",")
        assert sum(",ar," in r for r in rows) == 3
        with requests.Session() as s:
            assert sign_in(s, base, "amina", PASSWORD).status_code == 303
            page = s.get(base + "/", params={"lang": "ar"}, timeout=10).text
            assert AR_1 in page and EN not in page
            assert (
                'lang="ar" dir="auto"' in page
                and '<td data-label="Lang" class="lang">ar</td>' in page
            )
            found = s.get(base + "/search", params={"feed": "ar-news"}, timeout=10).text
            assert found.count('<td data-label="Lang" class="lang">ar</td>') == 2
            shown = s.get(base + f"/alerts/{one['id']}", timeout=10).text
            assert 'language <span class="lang">ar</span>' in shown
    finally:
        server.shutdown()
        server.server_close()
        store.close()
