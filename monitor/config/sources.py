"""A [[feeds]] table's `type` and, for type = "html", its CSS selectors (`item`, `title`,
`link`, `date`, `summary`), checked at start: a selector that cssselect cannot translate is
a config error naming the feed and the key, never a failing poll hours later. Its
`language` too: an ISO 639-1 code, checked against pycountry's list."""

from __future__ import annotations

import pycountry
from cssselect import HTMLTranslator, SelectorError

from monitor.config.reader import Table
from monitor.model import Selectors
from monitor.model.sources import FEED_TYPES

SELECTOR_KEYS = ("item", "title", "link", "date", "summary")
_TYPES_HELP = (
    '"rss" (RSS, Atom or RDF; the default), "html" (a page read with CSS selectors) '
    'or "jsonfeed" (JSON Feed 1.0 / 1.1)'
)


def feed_type(t: Table, name: str) -> tuple[str, Selectors | None]:
    """The feed's type and selectors; problems recorded in t, ("rss", None) on a bad type."""
    kind = t.get("type", str, "rss")
    if kind not in FEED_TYPES:
        t.problem("type", f'feed {name}: "{kind}" is not a feed type; write {_TYPES_HELP}')
        t.allow(SELECTOR_KEYS)
        return "rss", None
    if kind != "html":
        for key in SELECTOR_KEYS:
            if t.has(key):
                t.allow([key])
                t.problem(
                    key,
                    f'feed {name}: CSS selectors belong to type = "html" feeds; '
                    f'add type = "html" or remove {key}',
                )
        return kind, None
    return kind, _selectors(t, name)


def _selectors(t: Table, name: str) -> Selectors | None:
    found = {key: _selector(t, key, name) for key in SELECTOR_KEYS}
    item = found.pop("item")
    if not t.has("item"):
        t.problem(
            "item",
            f'feed {name}: missing; type = "html" needs item, the CSS selector of each '
            'item on the page (e.g. item = "article" or item = "ul.news > li")',
        )
    return Selectors(item, **found) if item else None


def _selector(t: Table, key: str, name: str) -> str | None:
    value = t.get(key, str, "").strip()
    if not t.has(key):
        return None
    if not value:
        t.problem(key, f'feed {name}: empty; write a CSS selector (e.g. {key} = "a") or remove it')
        return None
    problem = selector_problem(value)
    if problem:
        t.problem(key, f'feed {name}: "{value}" is not a CSS selector lxml can use ({problem})')
        return None
    return value


def selector_problem(selector: str) -> str | None:
    """Why cssselect cannot translate the selector to XPath (None when it can)."""
    try:
        HTMLTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        return str(exc) or type(exc).__name__
    return None


def feed_language(t: Table, name: str) -> str | None:
    """The feed's configured language (ISO 639-1, lower case), None when it sets none."""
    if not t.has("language"):
        return None
    value = t.get("language", str, "").strip()
    if not isinstance(t.data.get("language"), str):
        return None  # t.get said why
    code = value.lower()
    if len(code) == 2 and code.isalpha() and pycountry.languages.get(alpha_2=code) is not None:
        return code
    t.problem(
        "language",
        f'feed {name}: "{value[:40]}" is not an ISO 639-1 language code; write two letters, '
        'e.g. language = "ar" (Arabic), "ru", "uk", "pt", "en"',
    )
    return None
