"""What a feed is read as: its type and, for a page without a feed, the CSS selectors of
its items (the [[feeds]] keys `type`, `item`, `title`, `link`, `date`, `summary`)."""

from __future__ import annotations

from dataclasses import dataclass

# "rss" reads RSS, Atom and RDF (and a JSON Feed it recognises by its content type);
# "html" reads a page through Selectors; "jsonfeed" reads JSON Feed 1.0 / 1.1.
FEED_TYPES = ("rss", "html", "jsonfeed")


@dataclass(frozen=True)
class Selectors:
    """CSS selectors of an html source. `item` is matched on the page; the others inside each
    item. None: link = the item itself, title = the link's text, date = a <time> in the item,
    summary = none."""

    item: str
    title: str | None = None
    link: str | None = None
    date: str | None = None
    summary: str | None = None
