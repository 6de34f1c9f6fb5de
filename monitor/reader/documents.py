"""Which reader a fetched document goes to: the feed's `type`, and a JSON Feed recognised by
its answer even where no type was given ("rss", the default, covers RSS, Atom and RDF)."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.errors import FetchError
from monitor.model import ParsedFeed, Selectors
from monitor.reader.jsonfeed import is_jsonfeed, parse_jsonfeed
from monitor.reader.pages import parse_html
from monitor.reader.parse import parse_feed


def read_as(kind: str, body: bytes, headers: Mapping[str, str]) -> str:
    """The reader for this answer: `kind`, but "jsonfeed" for an "rss" feed serving one."""
    if kind == "rss" and is_jsonfeed(body, headers):
        return "jsonfeed"
    return kind


def parse_document(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    kind: str = "rss",
    selectors: Selectors | None = None,
) -> ParsedFeed:
    """Parse one fetched document as a feed of type `kind`. Raises FetchError for a document
    that cannot be read as that type (hostile, not JSON, no item on the page)."""
    kind = read_as(kind, body, headers)
    if kind == "html":
        if selectors is None:
            raise FetchError('html: the feed has no selectors (write item = "...")')
        return parse_html(body, headers, url, selectors)
    if kind == "jsonfeed":
        return parse_jsonfeed(body, headers, url)
    return parse_feed(body, headers, url)


def usable(parsed: ParsedFeed) -> str | None:
    """Why a parsed document cannot be used (None when it can): a bozo feed with entries is used."""
    if parsed.entries:
        return None
    if not parsed.is_feed:
        return "not a feed (no RSS or Atom found)"
    if parsed.bozo:
        return f"unparseable feed: {parsed.bozo}"
    return None
