"""feedparser's conventions on lxml nodes: element names, xml:base, URL joins, the repairs
it makes to every text value, its date parser; and Decline, the fast path's way out."""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Any

from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri

from monitor.reader.fastdate import parse_date as _parse_date

_KNOWN_NS = {k.lower(): v for k, v in _FeedParserMixin.namespaces.items()}
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_PLAIN_URL = re.compile(r"https?://[^/?#\[\];\x00-\x20][^\[\];\x00-\x20]*\Z")
_C1 = re.compile("[\x80-\x9f]")


class Decline(Exception):
    """The fast path cannot read this document as feedparser would: feedparser reads it."""


def name_of(el: Any) -> str:
    """feedparser's name for an element: its namespace's usual prefix, lower-cased."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    name = known_name(tag)
    if name is not None:
        return name
    # expat, under feedparser, names an unknown namespace by a prefix declared for it
    local = tag.split("}", 1)[1]
    return f"{el.prefix}:{local}".lower() if el.prefix else local.lower()


@functools.lru_cache(maxsize=4096)  # bounded: a hostile document's made-up tags stay cheap
def known_name(tag: str) -> str | None:
    if tag[0] != "{":
        return tag.lower()
    ns, local = tag[1:].split("}", 1)
    prefix = _KNOWN_NS.get(ns.lower())
    if prefix is None:
        return None
    return f"{prefix}:{local}".lower() if prefix else local.lower()


def base_of(el: Any, base: str) -> str:
    """The base URI inside el: xml:base (or a bare base attribute) resolved as feedparser does."""
    given = el.get(_XML_BASE) or el.get("base")
    if not given:
        return base
    return (make_safe_absolute_uri(base, given) or base) if base else _urljoin(base, given)


def lang_of(el: Any) -> str | None:
    """The xml:lang in scope at el (a bare lang attribute counts), as feedparser keeps it:
    the nearest one on el or an ancestor; an empty one means none."""
    node = el
    while node is not None:
        value = node.get(_XML_LANG)
        if value is None:
            value = node.get("lang")
        if value is not None:
            return value or None
        node = node.getparent()
    return None


def join(base: str, uri: str) -> str:
    """feedparser's _urljoin, without its cost for the common absolute http(s) link.

    urljoin returns such a link as urlunparse(urlparse(link)), which is the link itself
    unless it has an empty query or fragment, params (;), brackets, spaces or controls,
    non-ASCII, or extra slashes after the scheme (all of which take the full road).
    """
    if uri.isascii() and _PLAIN_URL.match(uri) and not uri.endswith(("?", "#")) and "?#" not in uri:
        return uri
    return str(_urljoin(base, uri))


def fix_text(value: str) -> str:
    """feedparser's last touches on every value: undo UTF-8 read as Latin-1, map cp1252 C1."""
    if value.isascii():
        return value  # both repairs leave ASCII as it is (the common case, kept cheap)
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(_cp1252) if _C1.search(value) else value


def parse_date(value: str) -> Any:
    """feedparser's reading of a date (fastdate); long strings go to feedparser in the pool."""
    if len(value) > 200:
        raise Decline("an overlong date")
    return _parse_date(value)
