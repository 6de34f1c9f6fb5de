"""structlog set-up: console renderer on a TTY, JSON otherwise; secrets redacted, text bounded."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import structlog

MAX_FIELD = 500  # feed text never reaches a log line unbounded
MAX_TRACE = 4000  # a traceback's head and innermost frames; its last line always kept
TRACE_FIELDS = ("exception",)  # where structlog's format_exc_info puts a traceback
_secrets: tuple[str, ...] = ()


def set_secrets(secrets: Iterable[str]) -> None:
    """Values that must never appear in a log line (webhook URLs, passwords, DB URLs).

    A secret URL's parts are secrets too: Slack and most webhook services put the token in
    the path, and a receiver may echo it back in an error body."""
    global _secrets
    parts: set[str] = set()
    for secret in secrets:
        if secret:
            parts.add(secret)
            parts.update(_url_parts(secret))
    _secrets = tuple(sorted({s for s in parts if len(s) >= 6}, key=len, reverse=True))


def _url_parts(value: str) -> list[str]:
    """Path segments, query values, user and password of a URL-shaped secret."""
    if "://" not in value:
        return []
    parts = urlsplit(value)
    out = [seg for seg in parts.path.split("/") if len(seg) >= 8]
    out += [v for _, v in parse_qsl(parts.query) if len(v) >= 8]
    out += [x for x in (parts.username, parts.password) if x]
    if parts.path.strip("/"):
        out.append(parts.path)
    return out


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


def _clean(value: Any, depth: int = 0) -> Any:
    """Redact and bound a field; lists and dicts stay structured (JSON logs keep their shape)."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, list | tuple | set | frozenset) and depth < 3:
        return [_clean(v, depth + 1) for v in list(value)[:50]]
    if isinstance(value, dict) and depth < 3:
        return {str(k)[:100]: _clean(v, depth + 1) for k, v in list(value.items())[:50]}
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = redact(text)
    return text if len(text) <= MAX_FIELD else text[:MAX_FIELD] + "…"


def bound_trace(text: str) -> str:
    """A traceback cut in the middle, never at the end: its last line is the exception's
    type and message (e.g. "sqlite3.OperationalError: database or disk is full")."""
    if len(text) <= MAX_TRACE:
        return text
    body, _, last = text.rstrip("\n").rpartition("\n")
    if len(last) > MAX_FIELD:  # a message quoting feed text stays bounded, type first
        last = last[:MAX_FIELD] + "…"
    room = max(MAX_TRACE - len(last) - MAX_FIELD, 0)
    if len(body) > MAX_FIELD + room:  # the outermost frames, "…", the innermost ones
        body = f"{body[:MAX_FIELD]}\n…\n{body[len(body) - room :]}"
    return f"{body}\n{last}" if body else last


def _scrub(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key in TRACE_FIELDS and isinstance(value, str):
            event[key] = bound_trace(redact(value))
        else:
            event[key] = _clean(value)
    return event


class _ToStructlog(logging.Handler):
    """Libraries (APScheduler, urllib3, psycopg) log through the stdlib: send their warnings
    through the same processors, so they are events with fields, redacted and bounded."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string must not break logging
            message = str(record.msg)
        logger = structlog.get_logger(record.name)
        # a library's traceback (exc_info) is rendered and bounded like ours, not dropped
        logger.log(
            record.levelno, "lib.log", logger=record.name, message=message, exc_info=record.exc_info
        )


def setup(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog once for the process; safe to call again on reload."""
    stream = stream or sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and stream.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if use_console
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _scrub,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, _ToStructlog)]
    root.addHandler(_ToStructlog())
    root.setLevel(logging.WARNING)
