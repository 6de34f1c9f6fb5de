"""Untrusted HTML or text -> one line of visible, bounded text, without per-character loops.

Feed summaries are mostly simple markup: tags with plain attributes, entities, now and then a
comment. Those are read by one regex split (`_fast_strip`), the text between tags unescaped
as `html.parser` would unescape it. Anything else (a bare "<", a quote in an unquoted
attribute, CDATA, declarations, scripts and the other elements whose content is dropped)
goes to `html.parser` (`_parser_strip`), so both paths give the same text; tests check it on
the real captures. `clean` maps control and format characters with one `str.translate` over
a table of the characters the text holds that were never met before, not a Python call per
character.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

MAX_RAW = 200_000  # never feed more than this to the HTML stripper
TAGLIKE = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_DROP_CONTENT = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg"})
_BLOCK = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
_SP = "[ \t\n\r\f]"  # what html.parser takes for spaces inside a tag
# Two captures (an end tag's name, a start tag's; None for a comment), so split() gives
# text, name, name, text... A subset of what html.parser reads as one tag, chosen so that
# both end at the same ">": end tags without attributes (html.parser ends those at the first
# ">"), quoted values without "<", bare values without quotes, attributes spaced apart.
_NAME = "[a-zA-Z][-.:a-zA-Z0-9_]*"
_FAST_TAG = re.compile(
    rf"""<(?:!--.*?--\s*>
    |/({_NAME}){_SP}*>
    |({_NAME})(?:{_SP}+[^\s"'<>/=]+(?:{_SP}*={_SP}*(?:"[^"<]*"|'[^'<]*'|[^\s"'<>=`]+))?)*
      {_SP}*/?>)""",
    re.S | re.X,
)


def plain_text(raw: str, limit: int) -> str:
    """HTML or text -> one line of visible text, entities decoded, bounded to limit chars."""
    text = raw[:MAX_RAW]
    for _ in range(2):  # twice: feeds that escape their HTML ship "&lt;p&gt;" as text
        if "<" not in text and "&" not in text:
            break
        text = strip_html(text)
        if "<" not in text or not TAGLIKE.search(text):
            break
    return bound(_clean_head(text, limit), limit)


def _clean_head(text: str, limit: int) -> str:
    """clean(text), or as much of its start as bound(_, limit) reads (a long article: 1 %).

    Cut at a space, clean gives the start of clean(text) exactly: a space composes with
    nothing under NFC and ends a word. Enough is cut when more than `limit` chars remain.
    """
    if len(text) > 8 * limit:
        cut = text.find(" ", 4 * limit)
        if cut != -1:
            head = clean(text[:cut])
            if len(head) > limit:
                return head
    return clean(text)


def strip_html(text: str) -> str:
    """The visible text of an HTML fragment: tags, comments, scripts and styles dropped."""
    fast = _fast_strip(text)
    return _parser_strip(text) if fast is None else fast


def _fast_strip(text: str) -> str | None:
    """The text of simple markup; None when html.parser must read it."""
    if "<" not in text:
        return html.unescape(text)
    parts = _FAST_TAG.split(text)
    chunks = parts[0::3]
    if "<" in "".join(chunks):
        return None  # markup the regex does not read: a bare "<", CDATA, an odd attribute
    names = [end or start for end, start in zip(parts[1::3], parts[2::3], strict=True)]
    out: list[str] = []
    for chunk, name in zip(chunks, [*names, None], strict=True):
        out.append(html.unescape(chunk) if "&" in chunk else chunk)
        if name is not None:
            name = name.lower()
            if name in _BLOCK:
                out.append(" ")
            elif name in _DROP_CONTENT:
                return None  # what to drop depends on nesting and CDATA modes
    return "".join(out)


class _TextExtractor(HTMLParser):
    """Collects visible text; drops scripts, styles and every attribute (pixels, handlers)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT and self.skip:
            self.skip -= 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _parser_strip(text: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: fall back to a blunt strip
        return html.unescape(TAGLIKE.sub(" ", text))
    return "".join(parser.parts)


_TABLE_SIZE = 65536
_REPLACES = 8  # up to this many characters to map, one str.replace each
# Characters known to be kept as they are (printable ASCII, whitespace, and each letter met
# since): most texts hold nothing else, which one C-level set difference shows.
_PLAIN = frozenset(chr(c) for c in range(128) if chr(c).isprintable() or chr(c).isspace())
_KEPT: set[str] = set(_PLAIN)
_DROPPED: dict[str, str] = {}  # character -> "" (format) or " " (control, unassigned...)


def clean(text: str) -> str:
    """Drop control and format characters (NUL, bidi overrides), normalise, collapse spaces.

    Controls become spaces; invisible format characters (soft hyphen, zero-width space, BOM,
    bidi controls) are removed, so "geno\u00adcide" stays one word. ZWJ and ZWNJ are kept:
    they are part of how Persian, Indic scripts and emoji are spelt.
    """
    text = unicodedata.normalize("NFC", text)
    # str.split() splits on the characters regex "\s" matches (str.isspace).
    words = " ".join(text.split())
    if words.isprintable():  # no control or format character left: nothing to map (C code)
        return words
    others = set(text) - _KEPT
    if others:
        text = _mapped(text, _table(others))
    return " ".join(text.split())


def _mapped(text: str, table: dict[int, str]) -> str:
    """text.translate(table): by str.replace when the table is short (the usual one or two
    soft hyphens or zero-width spaces in a long text), 60 times faster than translate's dict
    lookup per character. Each replacement is "" or " ", which no table maps, so replacing
    one character after the other gives what translating all at once gives."""
    if len(table) > _REPLACES:
        return text.translate(table)
    for code, replacement in table.items():
        text = text.replace(chr(code), replacement)
    return text


def _table(chars: set[str]) -> dict[int, str]:
    """The replacements for those of `chars` that are not kept as they are."""
    if len(_KEPT) + len(_DROPPED) >= _TABLE_SIZE:
        _KEPT.intersection_update(_PLAIN)  # bounded: a hostile text may hold every code point
        _DROPPED.clear()
    table: dict[int, str] = {}
    for ch in chars:  # characters never met before, or dropped ones: few
        got = _DROPPED.get(ch)
        if got is None:
            got = _replacement(ch)
            if got is None:
                _KEPT.add(ch)
                continue
            _DROPPED[ch] = got
        table[ord(ch)] = got
    return table


def _replacement(ch: str) -> str | None:
    category = unicodedata.category(ch)
    if category[0] != "C" or ch in "\t\n\u200c\u200d":
        return None
    return "" if category == "Cf" else " "


def bound(text: str, limit: int) -> str:
    """Cut at a word boundary near limit and mark the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.7:
        cut = cut[:space]
    return cut.rstrip() + "…"
