"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) -> ParsedFeed, and how to tell
one from its answer: `application/feed+json`, or `application/json` whose body names a
jsonfeed.org version. The body is capped by the fetch edge; Python's json reads it in
linear time, and nesting too deep for it is refused, not a crash."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.errors import FetchError
from monitor.model import ParsedFeed, RawEntry
from monitor.reader.pagedate import parse_page_date

_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$")
_VERSION_BYTES = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/')


def is_jsonfeed(body: bytes, headers: Mapping[str, str]) -> bool:
    """True when the answer says it is a JSON Feed: its content type, or a JSON body that
    names a jsonfeed.org version."""
    lowered = {k.lower(): v for k, v in headers.items()}
    kind = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "application/feed+json":
        return True
    json_typed = kind == "application/json" or kind.endswith("+json")
    return json_typed and body.lstrip()[:1] == b"{" and bool(_VERSION_BYTES.search(body))


def parse_jsonfeed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """The feed's items; FetchError naming what is wrong when the body is not a JSON Feed."""
    doc = _json(body)
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not _VERSION.match(version):
        raise FetchError(
            'JSON Feed: not a JSON Feed (no "version" of https://jsonfeed.org/version/1 '
            "or /1.1 in a top-level object)"
        )
    items = doc.get("items")
    if not isinstance(items, list):
        raise FetchError('JSON Feed: "items" is missing or not a list')
    language = _str(doc.get("language"))
    authors = _authors(doc)
    entries = tuple(_entry(i, language, authors) for i in items if isinstance(i, dict))
    return ParsedFeed(entries=entries, is_feed=True)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))  # JSON Feed is UTF-8 by definition
    except UnicodeDecodeError as exc:
        raise FetchError(f"JSON Feed: the body is not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise FetchError(f"JSON Feed: the body is not valid JSON ({exc})"[:300]) from None
    except RecursionError:
        raise FetchError("JSON Feed: the body nests too deep to read") from None


def _entry(item: Mapping[str, Any], language: str | None, authors: tuple[str, ...]) -> RawEntry:
    summary = _str(item.get("summary")) or _str(item.get("content_text"))
    return RawEntry(
        guid=_id(item.get("id")),
        link=_str(item.get("url")) or _str(item.get("external_url")),
        title=_str(item.get("title")) or "",
        summary=summary or _str(item.get("content_html")) or "",
        published=_when(item.get("date_published")) or _when(item.get("date_modified")),
        authors=_authors(item) or authors,
        language=_str(item.get("language")) or language,
    )


def _authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """1.1's `authors` list, else 1.0's single `author`."""
    raw = obj.get("authors")
    found = raw if isinstance(raw, list) else [obj.get("author")]
    return tuple(str(a["name"])[:200] for a in found if isinstance(a, dict) and _str(a.get("name")))


def _id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):  # 1.0 feeds sometimes give numbers; 1.1 says string
        return str(value)
    return _str(value)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _when(value: object) -> datetime | None:
    """RFC 3339, as the spec writes dates; anything else as a page would write it."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return parse_page_date(value)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment if 1990 <= moment.year <= 2200 else None
