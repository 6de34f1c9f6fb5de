"""One <item>/<entry> read on lxml into the dict feedparser's strict parser would build.

Only the keys parse.py reads are built (id, link, links, title, summary, content, the three
*_parsed dates, authors, language; the title's xml:lang as title_detail), with feedparser's
rules for which element wins: a later element at the same or a shallower depth overwrites,
the first titled <title> sticks, content fills an empty summary, a permalink GUID stands in
for a missing link, xml:base resolves links.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from lxml import etree

from monitor.reader.fastxml import (
    Decline,
    base_of,
    fix_text,
    join,
    known_name,
    lang_of,
    name_of,
    parse_date,
)

_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_TEXT_TYPES = {"text/plain", "text/html"}
_XHTML = "application/xhtml+xml"
_ATOM_NS = "{http://www.w3.org/2005/Atom}"
_ENTITYISH = re.compile("&([A-Za-z0-9_]+);")
_EMAIL = re.compile(r"\(?<?[\w.+-]+@[\w-]+(\.[\w-]+)+>?\)?")
# elements that change feedparser's state in ways not mirrored here
_DECLINE = {"item", "entry", "channel", "feed", "textinput", "abstract", "body"}
_DECLINE |= {"xhtml:body", "rss", "rdf:rdf", "fullitem", "content:encoded:body"}
_DATES = {
    **dict.fromkeys(("pubdate", "published", "issued", "dcterms:issued"), "published_parsed"),
    **dict.fromkeys(
        ("updated", "modified", "lastbuilddate", "dc:date", "dcterms:modified"), "updated_parsed"
    ),
    **dict.fromkeys(("created", "dcterms:created"), "created_parsed"),
}
_AUTHORS = {"author", "managingeditor", "dc:author", "dc:creator", "itunes:author"}


def _markup(el: Any) -> str:
    """Inline XHTML as markup: normalize.py strips it to its text as it does feedparser's."""
    inner = (el.text or "") + "".join(
        etree.tostring(child, encoding="unicode", with_tail=True) for child in el
    )
    return inner.strip()


def _plain_markup(el: Any) -> bool:
    """Elements in no namespace, none a <div> (feedparser drops those tags, typepad's habit)."""
    return all(
        isinstance(tag := child.tag, str) and tag[0] != "{" and tag.lower() != "div"
        for child in el.iterdescendants()
    )


def _level(el: Any) -> int:
    return sum(1 for _ in el.iterancestors())


_SHORT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html", "xhtml": _XHTML}


def _content_type(value: str) -> str:
    value = value.lower()
    return _SHORT_TYPES.get(value, value)


class Entry:
    """The state feedparser keeps while inside one entry."""

    def __init__(self, depth: int, *, bases: bool = True, langs: bool = True) -> None:
        self.depth = depth
        self.bases = bases  # False: the document has no xml:base, skip looking for one
        self.langs = langs  # False: the document has no xml:lang, skip looking for one
        self.d: dict[str, Any] = {"links": []}
        self.depths: dict[str, int] = {}
        self.title_depth = -1
        self.has_content = False

    def read(self, el: Any, base: str) -> dict[str, Any]:
        about = el.get(_RDF_ABOUT)
        if about:
            self.d["id"] = about
        self._children(el, base, self.depth)
        return self.d

    def _children(self, el: Any, base: str, depth: int) -> None:
        depth += 1
        cache, bases = _BY_TAG, self.bases
        for child in el:
            handler = cache.get(child.tag, _MISS)
            if handler is _MISS:
                handler = _handler(child)
            inner = base_of(child, base) if bases else base
            if handler is None:  # an element without meaning here: feedparser walks inside
                if len(child):
                    self._children(child, inner, depth)
            else:
                handler(self, child, inner, depth)

    def _reset_title(self, el: Any, base: str, depth: int) -> None:
        if len(el):
            raise Decline("<image> with children inside an entry")
        self.title_depth = -1  # feedparser resets it on <source> and <image>

    def _source(self, el: Any, base: str, depth: int) -> None:
        """What an Atom <source> leaves behind in feedparser: only the title marker.

        Its elements are the source feed's, not the entry's; but feedparser's marker of
        "the entry has its title" is reset at <source> and set by a title inside it.
        """
        self.title_depth = -1
        for child in el.iter():
            name = name_of(child) if child is not el else ""
            if name in _DECLINE or name == "source":
                raise Decline(f"<{name}> inside a <source>")
            if name in ("title", "dc:title") and ((child.text or "").strip() or len(child)):
                self.title_depth = depth + sum(1 for _ in child.iterancestors()) - _level(el)

    def _text(self, el: Any) -> str:
        if len(el):
            raise Decline("markup inside a text element")
        text = el.text
        return fix_text(text.strip()) if text else ""

    def _typed_text(self, el: Any, default: str) -> tuple[str, str]:
        """A text construct's value and type; base64 and inline XHTML are feedparser's."""
        if not len(el) and not len(el.attrib):  # the common case: text of the default type
            text = el.text
            return (fix_text(text.strip()) if text else ""), default
        kind = _content_type(el.get("type") or default)
        if el.get("mode") is not None:
            raise Decline("a base64 text construct")
        if kind == _XHTML and el.tag.startswith(_ATOM_NS):
            return fix_text(_markup(el)), kind
        if kind not in _TEXT_TYPES:
            raise Decline("a base64 or XHTML text construct")
        if len(el) and kind == "text/html" and _plain_markup(el):
            # HTML written as elements (unescaped): feedparser takes it as inline XHTML
            return fix_text(_markup(el)), _XHTML
        return self._text(el), kind

    def _store(self, key: str, value: str, depth: int) -> None:
        old = self.depths.get(key)
        if old is None or depth <= old:
            self.depths[key] = depth
            self.d[key] = value

    def _title(self, el: Any, base: str, depth: int, media: bool = False) -> None:
        value, _ = self._typed_text(el, "text/plain")
        if not -1 < self.title_depth <= depth:
            self._store("title", value, depth)
            # feedparser's title_detail, written even when the value was not (depth)
            self.d["title_detail"] = {"language": lang_of(el) if self.langs else None}
        if value and not media:  # media:title leaves the marker as it was
            self.title_depth = depth

    def _summary(self, el: Any, base: str, depth: int, default: str = "text/html") -> None:
        if "summary" in self.d and not self.has_content:
            self._content(el, base, depth)  # a second summary is taken as content
            return
        value, _ = self._typed_text(el, default)
        self._store("summary", value, depth)

    def _content(self, el: Any, base: str, depth: int, default: str = "text/plain") -> None:
        self.has_content = True
        value, kind = self._typed_text(el, default)
        self.d.setdefault("content", []).append({"type": kind, "value": value})
        self.d.setdefault("summary", value)

    def _link(self, el: Any, base: str, depth: int = 0) -> None:
        rel, kind, href = "alternate", "text/html", None  # RSS's <link>: no attribute
        if len(el.attrib):
            rel = (el.get("rel") if el.get("rel") is not None else "alternate").lower()
            kind = (
                el.get("type") or ("application/atom+xml" if rel == "self" else "text/html")
            ).lower()
            href = el.get("url") or el.get("uri") or el.get("href")
        if href:
            href = join(base, href)
            self.d["links"].append({"rel": rel, "type": kind, "href": href})
            if rel == "alternate" and _content_type(kind) in _HTML_TYPES:
                self.d["link"] = href
            return
        self.d["links"].append({"rel": rel, "type": kind})
        if len(el):
            raise Decline("markup inside <link>")
        value = (el.text or "").strip()
        value = fix_text(join(base, value) if value else value)
        # feedparser's repair of query strings it believes were misread as entities
        if "&" in value:
            value = _ENTITYISH.sub(r"&\g<1>", value.replace("&amp;", "&"))
        self.d["link"] = value
        if value:
            self.d["links"][-1]["href"] = value

    def _guid(self, el: Any, base: str, depth: int) -> None:
        is_link = (el.get("isPermaLink") or el.get("ispermalink") or "true") == "true"
        if len(el):
            raise Decline("markup inside <guid>")
        value = (el.text or "").strip()
        if value and is_link:
            value = join(base, value)
        value = fix_text(value)
        self._store("id", value, depth)
        self.d.setdefault("guidislink", is_link and "link" not in self.d)
        if is_link:
            self.d.setdefault("link", value)

    def _language(self, el: Any, base: str, depth: int) -> None:
        """<language> / <dc:language> of the entry itself (RSS, Dublin Core)."""
        self._store("language", self._text(el), depth)

    def _author(self, el: Any) -> None:
        if len(el):
            names = [c for c in el if name_of(c) == "name"]
            name = fix_text((names[0].text or "").strip()) if names else ""
        else:
            name = self._text(el)
            if "@" in name and len(name) <= 500:  # bounded: the pattern is quadratic at worst
                name = _EMAIL.sub("", name).strip().strip("()").strip()
        if name:
            self.d.setdefault("authors", []).append({"name": name})


Handler = Callable[["Entry", Any, str, int], None]
_HANDLERS: dict[str, Handler] = {
    "title": Entry._title,
    "dc:title": Entry._title,
    "media:title": partial(Entry._title, media=True),
    "description": Entry._summary,
    "dc:description": Entry._summary,
    "media:description": Entry._summary,
    "summary": partial(Entry._summary, default="text/plain"),
    "itunes:summary": partial(Entry._summary, default="text/plain"),
    "content": Entry._content,
    "content:encoded": partial(Entry._content, default="text/html"),
    "link": Entry._link,
    "guid": Entry._guid,
    "id": Entry._guid,
    "source": Entry._source,
    "image": Entry._reset_title,
    "language": Entry._language,
    "dc:language": Entry._language,
}


def _date(key: str) -> Handler:
    def handler(e: Entry, el: Any, base: str, depth: int) -> None:
        e.d[key] = parse_date(e._text(el))

    return handler


def _decline(e: Entry, el: Any, base: str, depth: int) -> None:
    raise Decline(f"<{name_of(el)}> inside an entry")


def _skip(e: Entry, el: Any, base: str, depth: int) -> None:
    """A node without a name (an entity reference lxml kept): feedparser sees nothing."""


_HANDLERS.update({name: _date(key) for name, key in _DATES.items()})
_HANDLERS.update(dict.fromkeys(_AUTHORS, lambda e, el, base, depth: e._author(el)))
_HANDLERS.update(dict.fromkeys(_DECLINE, _decline))
_MISS: Any = object()
# raw (namespace-qualified) tag -> its handler, None for an element without meaning here;
# filled as tags are met, for tags whose feedparser name does not hang on their prefix
_BY_TAG: dict[Any, Handler | None] = {}


def _handler(el: Any) -> Handler | None:
    tag = el.tag
    if not isinstance(tag, str):
        return _skip
    name = known_name(tag)
    if name is None:  # an unknown namespace: named by its prefix here, so not kept
        return _HANDLERS.get(name_of(el))
    if len(_BY_TAG) >= 4096:
        _BY_TAG.clear()  # bounded: a hostile document's made-up tags stay cheap
    handler = _BY_TAG[tag] = _HANDLERS.get(name)
    return handler
