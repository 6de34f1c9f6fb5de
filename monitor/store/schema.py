"""The versioned schema: forward migrations, each a list of portable SQL statements."""

from __future__ import annotations

from monitor.errors import StoreError
from monitor.store import Tx

# Times are unix seconds (REAL / double precision) so both engines compare them the same way.
# Each entry migrates from version i to i+1. Never edit a released step: add one.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE feeds (
            name TEXT PRIMARY KEY,
            etag TEXT, last_modified TEXT, body_hash TEXT,
            last_success DOUBLE PRECISION, last_attempt DOUBLE PRECISION, last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            failing_since DOUBLE PRECISION, next_poll DOUBLE PRECISION,
            items_seen INTEGER NOT NULL DEFAULT 0, last_new_item DOUBLE PRECISION,
            down_alerted INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT, lease_until DOUBLE PRECISION)""",
        """CREATE TABLE seen (
            feed TEXT NOT NULL, key TEXT NOT NULL, first_seen DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (feed, key))""",
        "CREATE INDEX seen_first_seen ON seen (first_seen)",
        """CREATE TABLE alerts (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
            severity INTEGER NOT NULL, rule_ids TEXT NOT NULL, countries TEXT NOT NULL,
            link TEXT, suppressed TEXT, corroborated INTEGER NOT NULL DEFAULT 0,
            body TEXT NOT NULL)""",
        "CREATE INDEX alerts_created ON alerts (created)",
        """CREATE TABLE sources (
            alert_id TEXT NOT NULL, feed TEXT NOT NULL, item_key TEXT NOT NULL,
            title TEXT NOT NULL, link TEXT, published DOUBLE PRECISION NOT NULL,
            added DOUBLE PRECISION NOT NULL, PRIMARY KEY (alert_id, feed, item_key))""",
        """CREATE TABLE hits (
            feed TEXT NOT NULL, item_key TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
            rule_id TEXT NOT NULL, theme TEXT NOT NULL, country TEXT NOT NULL,
            PRIMARY KEY (feed, item_key, rule_id, country))""",
        "CREATE INDEX hits_created ON hits (created)",
        """CREATE TABLE outbox (
            id {serial}, alert_id TEXT NOT NULL, channel TEXT NOT NULL,
            status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt DOUBLE PRECISION NOT NULL, created DOUBLE PRECISION NOT NULL,
            first_attempt DOUBLE PRECISION, sent_at DOUBLE PRECISION, last_error TEXT,
            claim_owner TEXT, claim_until DOUBLE PRECISION,
            UNIQUE (alert_id, channel))""",
        "CREATE INDEX outbox_due ON outbox (status, next_attempt)",
        """CREATE TABLE jobs (
            job TEXT PRIMARY KEY, period_key TEXT NOT NULL, ran DOUBLE PRECISION NOT NULL)""",
    ],
    # 2: several instances share one database; each says who it is and that it is alive.
    [
        """CREATE TABLE instances (
            owner TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
            started DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX feeds_next_poll ON feeds (next_poll)",
    ],
    # 3: a feed that answers but publishes nothing for too long gets its own health flag.
    [
        "ALTER TABLE feeds ADD COLUMN silent_alerted INTEGER NOT NULL DEFAULT 0",
    ],
    # 4: an alert that routes to no channel says why (`alert.unrouted`, `monitor status`).
    [
        "ALTER TABLE alerts ADD COLUMN unrouted TEXT",
    ],
    # 5: each report of a story keeps its summary: a newcomer must repeat every report.
    [
        "ALTER TABLE sources ADD COLUMN summary TEXT",
    ],
    # 6: the analysts' console: triage state on alerts (with the columns its filters read),
    # notes and history, silences, review holds, people and machines, items marked missed.
    [
        "ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'new'",
        "ALTER TABLE alerts ADD COLUMN assignee TEXT",
        "ALTER TABLE alerts ADD COLUMN silence_id TEXT",
        "ALTER TABLE alerts ADD COLUMN title TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE alerts ADD COLUMN themes TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE alerts ADD COLUMN tags TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE alerts ADD COLUMN search TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE alerts ADD COLUMN updated DOUBLE PRECISION",
        "CREATE INDEX alerts_state ON alerts (state, created)",
        "ALTER TABLE outbox ADD COLUMN unreviewed INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN silence_id TEXT",
        """CREATE TABLE notes (
            id {serial}, alert_id TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX notes_alert ON notes (alert_id)",
        """CREATE TABLE history (
            id {serial}, alert_id TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '', created DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX history_alert ON history (alert_id)",
        """CREATE TABLE silences (
            id TEXT PRIMARY KEY, matchers TEXT NOT NULL, reason TEXT NOT NULL,
            created_by TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
            starts DOUBLE PRECISION NOT NULL, ends DOUBLE PRECISION NOT NULL,
            expired_by TEXT)""",
        "CREATE INDEX silences_ends ON silences (ends)",
        """CREATE TABLE users (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE tokens (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
            created DOUBLE PRECISION NOT NULL, last_used DOUBLE PRECISION)""",
        """CREATE TABLE sessions (
            id_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, csrf TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE missed (
            feed TEXT NOT NULL, item_key TEXT NOT NULL, title TEXT NOT NULL, summary TEXT,
            link TEXT, note TEXT, marked_by TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (feed, item_key))""",
    ],
    # 7: polite polling: why the next poll is when it is, and the pace the feed declared
    # (a 304 carries no body to declare it again).
    [
        "ALTER TABLE feeds ADD COLUMN next_poll_reason TEXT",
        "ALTER TABLE feeds ADD COLUMN declared_refresh DOUBLE PRECISION",
        "ALTER TABLE feeds ADD COLUMN declared_source TEXT",
    ],
    # 8: every new item kept for the retention period and searchable, not only alerted ones;
    # `search` is its title and summary folded (case, accents) into words, the text both
    # engines index ({items_text}: FTS5 on SQLite, a tsvector with GIN on PostgreSQL).
    [
        """CREATE TABLE items (
            id {serial}, feed TEXT NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL,
            summary TEXT NOT NULL, link TEXT, published DOUBLE PRECISION NOT NULL,
            seen DOUBLE PRECISION NOT NULL, lang TEXT, countries TEXT NOT NULL,
            score DOUBLE PRECISION, alert_id TEXT, search TEXT NOT NULL,
            UNIQUE (feed, key))""",
        "CREATE INDEX items_seen ON items (seen)",
        "CREATE INDEX items_feed ON items (feed, id)",
        "{items_text}",
    ],
    # 9: evidence: each source's article page of an alert, fetched after the alert was
    # created: its main text, the raw HTML's SHA-256 and bytes ({blob}: BLOB / BYTEA, within
    # the size cap), the answer's status, time, final URL and type; failures retried with
    # backoff (state pending) until max_attempts; what a web archive answered when asked.
    [
        """CREATE TABLE evidence (
            alert_id TEXT NOT NULL, link TEXT NOT NULL, feed TEXT NOT NULL,
            state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt DOUBLE PRECISION NOT NULL, created DOUBLE PRECISION NOT NULL,
            fetched_at DOUBLE PRECISION, http_status INTEGER, final_url TEXT,
            content_type TEXT, size INTEGER, sha256 TEXT, text TEXT, raw {blob}, error TEXT,
            archive_status INTEGER, archive_url TEXT, archive_error TEXT,
            archived_at DOUBLE PRECISION, claim_owner TEXT, claim_until DOUBLE PRECISION,
            PRIMARY KEY (alert_id, link))""",
        "CREATE INDEX evidence_due ON evidence (state, next_attempt)",
    ],
    # 10: the language of each alert (its first item's, ISO 639-1; the list filters on it)
    # and of each report of a story; rows already there take theirs from the alert's body
    # and from the items table (a report whose item retention dropped stays NULL).
    [
        "ALTER TABLE alerts ADD COLUMN lang TEXT",
        "ALTER TABLE sources ADD COLUMN lang TEXT",
        "UPDATE sources SET lang = (SELECT i.lang FROM items i "
        "WHERE i.feed = sources.feed AND i.key = sources.item_key)",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)


def _console_columns(tx: Tx) -> None:
    from monitor.store.console import backfill

    backfill(tx)


def _alert_languages(tx: Tx) -> None:
    from monitor.store.console import backfill_lang

    backfill_lang(tx)


# Data a step's new columns need from rows already there, written in Python once after it.
BACKFILLS = {5: _console_columns, 9: _alert_languages}

SERIAL = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgres": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
}
BLOB = {"sqlite": "BLOB", "postgres": "BYTEA"}

# Where the engines part: each one's full-text index over items.search (step 8). SQLite's is
# an external-content FTS5 table kept by triggers (any client writing items keeps it right;
# `search` is already folded, so the tokenizer folds nothing more); PostgreSQL's a stored
# tsvector ('simple': no stemming, the same for every language) under a GIN index.
ITEMS_TEXT = {
    "sqlite": [
        "CREATE VIRTUAL TABLE items_fts USING fts5(search, content='items', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
        "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN "
        "INSERT INTO items_fts (rowid, search) VALUES (new.id, new.search); END",
        "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN "
        "INSERT INTO items_fts (items_fts, rowid, search) VALUES ('delete', old.id, old.search); "
        "END",
    ],
    "postgres": [
        "ALTER TABLE items ADD COLUMN tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED",
        "CREATE INDEX items_tsv ON items USING gin (tsv)",
    ],
}


def statements(step: int, dialect: str) -> list[str]:
    """The SQL of one migration step for one engine."""
    out: list[str] = []
    for sql in MIGRATIONS[step]:
        if sql == "{items_text}":
            out.extend(ITEMS_TEXT[dialect])
        else:
            out.append(sql.replace("{serial}", SERIAL[dialect]).replace("{blob}", BLOB[dialect]))
    return out


def migrate(tx: Tx, version: int, dialect: str, where: str) -> None:
    """Apply the forward steps from `version`; refuse a database newer than this code.
    Each engine reads and records the version its own way around this."""
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{where}: database schema version {version} is newer than this monitor knows "
            f"({SCHEMA_VERSION}); upgrade monitor before using it"
        )
    for step in range(version, SCHEMA_VERSION):
        for sql in statements(step, dialect):
            tx.x(sql)
        if step in BACKFILLS:
            BACKFILLS[step](tx)
