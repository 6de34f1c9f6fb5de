"""Store schema: forward migrations on both engines, refusal of a newer schema, safe info."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from monitor.errors import StoreError
from monitor.model.console import Filters
from monitor.store import open_store
from monitor.store.schema import SCHEMA_VERSION
from monitor.store.serialize import alert_to_dict
from tests.factories import T0, alert, item
from tests.pg import PgServer
from tests.stores import ENGINES, create_at_version, new_target


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_upgrades_a_database_of_the_previous_schema(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A database left by the previous schema version is migrated at open; its rows stay."""
    target = new_target(engine, tmp_path, request)
    old_feed = "INSERT INTO feeds (name, items_seen, etag) VALUES ('un-news', 7, 'x')"
    old_seen = "INSERT INTO seen (feed, key, first_seen) VALUES ('un-news', 'g:1', 0)"
    create_at_version(engine, target, SCHEMA_VERSION - 1, old_feed, old_seen)
    store = open_store(target)
    try:
        assert store.info()["schema"] == SCHEMA_VERSION
        state = store.feed_state("un-news")
        assert (state.items_seen, state.etag) == (7, "x")
        assert store.seen_keys("un-news", ["g:1"]) == {"g:1"}
        store.heartbeat("a", "host", 1, T0, T0)  # a table the new version added
        assert [i.owner for i in store.instances(T0)] == ["a"]
    finally:
        store.close()


def test_refuses_a_database_newer_than_the_code(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A schema newer than this program knows is refused, naming both versions."""
    target = new_target(engine, tmp_path, request)
    create_at_version(engine, target, SCHEMA_VERSION)
    newer = SCHEMA_VERSION + 1
    _set_version(engine, target, newer)
    with pytest.raises(StoreError, match=rf"version {newer} is newer .*\({SCHEMA_VERSION}\)"):
        open_store(target)


def test_reopening_keeps_data_and_version(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Opening a current database again migrates nothing and loses nothing."""
    target = new_target(engine, tmp_path, request)
    first = open_store(target)
    first.heartbeat("a", "host", 1, T0, T0)
    first.close()
    again = open_store(target)
    try:
        assert again.info()["schema"] == SCHEMA_VERSION
        assert len(again.instances(T0)) == 1
    finally:
        again.close()


def test_instances_starting_together_migrate_once(pg_server: PgServer) -> None:
    """Several instances opening a new PostgreSQL database at once all start (advisory lock)."""
    url = pg_server.new_database()
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_store(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_postgres_info_hides_the_password(pg_server: PgServer) -> None:
    """`info()` (shown by status and logs) names the database but never the password."""
    url = pg_server.new_database().replace("postgres:@", "postgres@")
    url = url.replace("postgresql://postgres@", "postgresql://postgres:s3cr3t@")
    assert "s3cr3t" in url
    store = open_store(url)
    try:
        info = store.info()
    finally:
        store.close()
    assert info["engine"] == "postgres" and info["schema"] == SCHEMA_VERSION
    assert "s3cr3t" not in repr(info) and "postgres@" in info["url"]


def _set_version(engine: str, target: str, version: int) -> None:
    """Stamp the database as written by another version of monitor."""
    if engine == "sqlite":
        conn = sqlite3.connect(target)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
        conn.close()
        return
    with psycopg.connect(target) as pconn:
        pconn.execute(b"UPDATE schema_version SET version = %s", (version,))


def test_a_store_opened_not_to_create_finds_nothing_and_creates_nothing(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """What read-only commands open: a missing state is an error saying where it looked, and
    afterwards there is still none (an engine run creates it as before)."""
    target = new_target(engine, tmp_path, request)
    for _ in range(2):
        with pytest.raises(StoreError, match="nothing was created"):
            open_store(target, create=False)
    open_store(target).close()
    open_store(target, create=False).close()


def test_step_10_gives_alerts_kept_at_step_9_their_language(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Alerts and reports recorded at schema 9 (before alerts had a language) are kept, take
    their item's language, and the list's `lang` filter finds them."""
    target = new_target(engine, tmp_path, request)
    it = replace(item(key="g:ar", title="مجزرة بلون الدم إرتكبتها مليشيا الدعم السريع"), lang="ar")
    old = alert(it)
    body = alert_to_dict(old)
    del body["lang"], body["sources"]  # as schema 9's monitor wrote it
    (source,) = old.sources
    rows = [
        "INSERT INTO alerts (id, kind, created, severity, rule_ids, countries, body, title) "
        f"VALUES ('{old.id}', 'match', {T0.timestamp()}, 3, 'civilians-killed', 'SD', "
        f"'{json.dumps(body, ensure_ascii=False)}', 'old')",
        "INSERT INTO sources (alert_id, feed, item_key, title, link, published, added) VALUES "
        f"('{old.id}', '{source.feed}', '{source.item_key}', 'old', NULL, {T0.timestamp()}, 0)",
        "INSERT INTO items (feed, key, title, summary, published, seen, lang, countries, search) "
        f"VALUES ('{source.feed}', '{source.item_key}', 't', '', 0, 0, 'ar', 'SD', 't')",
    ]
    create_at_version(engine, target, 9, *rows)
    store = open_store(target)
    try:
        assert store.info()["schema"] == SCHEMA_VERSION == 10
        (found,) = store.list_alerts(Filters(lang="ar")).rows
        assert found.alert.id == old.id and found.alert.lang == "ar"
        assert [s.lang for s in found.alert.sources] == ["ar"]
        assert store.list_alerts(Filters(lang="en")).rows == ()
    finally:
        store.close()
