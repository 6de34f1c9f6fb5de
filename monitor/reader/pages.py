"""A web page without a feed -> ParsedFeed: its items found by the feed's CSS selectors.

The page is untrusted: lxml's HTML parser reads it without network access and within
libxml2's depth and text limits (huge_tree off; HTML has no entity declarations to expand),
the body is already capped by the fetch edge, and this runs where a feed's parse runs, under
the parse deadline (monitor.reader.pool). Selectors come from the config, which checked them
at start (monitor.config.sources); they are compiled once per process.

Inside each `item` element: `link` is the href of the matched element or of its first <a>
(the item itself when no link selector is given), resolved against the page (and its
<base href>); `title` is the matched text, else the link's text; `date` is read from a
`datetime` or `content` attribute, else the text (monitor.reader.pagedate), and without a
`date` selector from the item's first <time>; `summary` is the matched text; the
language declared for an item is the `lang` in scope (<html lang>), else Content-Language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from urllib.parse import urljoin

from lxml import etree, html
from lxml.cssselect import CSSSelector

from monitor.errors import FetchError
from monitor.model import ParsedFeed, RawEntry, Selectors
from monitor.reader.fastxml import lang_of
from monitor.reader.pagedate import parse_page_date
from monitor.reader.parse import http_language

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}charset", re.IGNORECASE)
_HIDDEN = ("script", "style", "noscript", "template")
MAX_TEXT = 20_000  # characters of one field's text kept (normalize bounds them further)


@lru_cache(maxsize=512)
def compiled(selector: str) -> CSSSelector:
    """The selector as lxml's XPath (cssselect's HTML translator), compiled once."""
    return CSSSelector(selector, translator="html")


def parse_html(
    body: bytes, headers: Mapping[str, str], url: str, selectors: Selectors
) -> ParsedFeed:
    """The page's items; FetchError (a failed poll, shown in `status`) when the page cannot
    be read or the item selector finds nothing on it."""
    root = _tree(body, headers)
    base = urljoin(url, _base_href(root) or "")
    found = compiled(selectors.item)(root)
    if not found:
        raise FetchError(
            f'html: the item selector "{selectors.item}" matched nothing on the page '
            "(has the page changed? check the selector with monitor test-rules)"
        )
    page_language = http_language({k.lower(): v for k, v in headers.items()})
    entries = [
        e for e in (_entry(el, selectors, base, page_language) for el in found) if e is not None
    ]
    if not entries:
        raise FetchError(
            f'html: the {len(found)} elements item = "{selectors.item}" matched have neither '
            "a link nor a title (check the link and title selectors)"
        )
    return ParsedFeed(entries=tuple(entries))


def _tree(body: bytes, headers: Mapping[str, str]) -> etree._Element:
    parser = html.HTMLParser(
        encoding=_encoding(body, headers),
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        default_doctype=False,
    )
    try:
        root = html.document_fromstring(body, parser=parser)
    except (etree.ParserError, ValueError, LookupError) as exc:
        raise FetchError(f"html: the page cannot be read: {exc}"[:300]) from None
    etree.strip_elements(root, *_HIDDEN, with_tail=False)  # their text is not the page's
    return root


def _encoding(body: bytes, headers: Mapping[str, str]) -> str | None:
    """The header's charset; else UTF-8 when the page declares none and decodes as UTF-8
    (libxml2 would read it as Latin-1); else None: libxml2 reads the page's <meta>."""
    lowered = {k.lower(): v for k, v in headers.items()}
    declared = _CHARSET.search(lowered.get("content-type", ""))
    if declared:
        return declared.group(1)
    if _META_CHARSET.search(body[:4096]):
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def _base_href(root: etree._Element) -> str | None:
    for el in root.iter("base"):
        href = el.get("href")
        if isinstance(href, str) and href.strip():
            return href.strip()
    return None


def _entry(
    el: etree._Element, s: Selectors, base: str, page_language: str | None
) -> RawEntry | None:
    anchor = _first(el, s.link) if s.link else el
    href = _href(anchor) if anchor is not None else None
    link = urljoin(base, href) if href else None
    title = _text(_first(el, s.title)) if s.title else ""
    if not title and anchor is not None:
        title = _text(_anchor_of(anchor))
    if not link and not title:
        return None
    return RawEntry(
        guid=None if link else f"title:{title}",  # key: the link, else the title
        link=link,
        title=title,
        summary=_text(_first(el, s.summary)) if s.summary else "",
        published=_date(el, s.date),
        # the lang in scope (<html lang="ar">, or one on the item), else Content-Language
        language=lang_of(el) or page_language,
    )


def _first(el: etree._Element, selector: str | None) -> etree._Element | None:
    if not selector:
        return None
    found = compiled(selector)(el)
    return found[0] if found else None


def _anchor_of(el: etree._Element) -> etree._Element:
    """The element if it links, else its first <a href> (else the element itself)."""
    if el.get("href"):
        return el
    return next(el.iterdescendants("a"), el)


def _href(el: etree._Element) -> str | None:
    href = _anchor_of(el).get("href")
    return href.strip() if href and href.strip() else None


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    return " ".join("".join(el.itertext())[:MAX_TEXT].split())


def _date(el: etree._Element, selector: str | None) -> datetime | None:
    found = _first(el, selector) if selector else next(el.iterdescendants("time"), None)
    if found is None:
        return None
    for attr in ("datetime", "content"):
        when = parse_page_date(found.get(attr))
        if when is not None:
            return when
    return parse_page_date(_text(found))
