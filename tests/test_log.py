"""What a logged exception shows in the JSON logs (issue 17, point 10)."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from monitor import log
from monitor.service.jobs import guard


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The daemon's logging set-up writing JSON into a buffer; the previous set-up restored."""
    saved = structlog.get_config()
    handlers, level = list(logging.getLogger().handlers), logging.getLogger().level
    out = io.StringIO()
    log.setup("json", "info", out)
    try:
        yield out
    finally:
        structlog.configure(**saved)
        logging.getLogger().handlers = handlers
        logging.getLogger().setLevel(level)


def fill(db: sqlite3.Connection, depth: int) -> None:
    """A store write some frames deep (a traceback well over 500 characters)."""
    if depth:
        fill(db, depth - 1)
        return
    db.execute("insert into seen values (?)", ("x" * 100_000,))


def full_database(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("create table seen (key text)")
    db.execute("pragma max_page_count = 8")  # a full disk, as SQLite reports it
    return db


def logged(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_crashed_job_logs_the_exception_type_and_message(json_log: io.StringIO, tmp_path: Path):
    """A daemon job failing on a full disk: its logged traceback ends with the exception's
    type and message, not with whatever frame the first 500 characters reached."""
    db = full_database(tmp_path / "state.db")
    guard("digest", lambda: fill(db, 12))()
    [event] = logged(json_log)
    assert event["event"] == "digest.failed" and event["level"] == "error"
    trace = str(event["exception"])
    assert trace.startswith("Traceback (most recent call last):")
    assert trace.splitlines()[-1] == "sqlite3.OperationalError: database or disk is full"
    assert len(trace) > log.MAX_FIELD


def test_huge_traceback_is_bounded_but_keeps_head_and_last_line(json_log: io.StringIO):
    """A very deep traceback with a message quoting feed text is cut in the middle: the
    head, an ellipsis, the innermost frames and the start of the last line survive."""

    def deep(n: int) -> None:
        if n:
            deeper(n - 1)  # two alternating frames: Python does not fold them as repeats
        raise ValueError("unparsable feed: " + "y" * 20_000)

    def deeper(n: int) -> None:
        deep(n)

    try:
        deep(100)
    except ValueError:
        structlog.get_logger("t").exception("feed.job_crashed", feed="f")
    [event] = logged(json_log)
    lines = str(event["exception"]).splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert "…" in lines
    assert lines[-1].startswith("ValueError: unparsable feed: yyy") and lines[-1].endswith("…")
    assert any("in deep" in line for line in lines[-4:-1])
    assert len(str(event["exception"])) <= log.MAX_TRACE + 10


def test_library_traceback_is_logged_with_its_last_line(json_log: io.StringIO):
    """A library logging an exception through the stdlib (APScheduler's job errors) gets
    its traceback into the event, bounded and ending with the exception."""
    try:
        raise ConnectionResetError("peer reset the connection")
    except ConnectionResetError:
        logging.getLogger("apscheduler.executors").exception("Job raised an exception")
    [event] = logged(json_log)
    assert event["event"] == "lib.log" and event["message"] == "Job raised an exception"
    last = str(event["exception"]).splitlines()[-1]
    assert last == "ConnectionResetError: peer reset the connection"


def test_secret_in_a_traceback_is_redacted(json_log: io.StringIO):
    log.set_secrets(["https://hooks.example.org/services/T000/B000/XXXXSECRETXXXX"])
    try:
        try:
            raise OSError("POST https://hooks.example.org/services/T000/B000/XXXXSECRETXXXX")
        except OSError:
            structlog.get_logger("t").exception("delivery.crashed")
        [event] = logged(json_log)
        assert "XXXXSECRETXXXX" not in json.dumps(event)
        assert str(event["exception"]).splitlines()[-1] == "OSError: POST [redacted]"
    finally:
        log.set_secrets([])
