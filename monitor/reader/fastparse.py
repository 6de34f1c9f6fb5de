"""The fast path: well-formed RSS 2.0, RSS 1.0/RDF and Atom 1.0 read on lxml, as feedparser would.

It reads an entry the way feedparser's strict parser does (which element wins a field, depth
rules, xml:base, its link and text fix-ups) and hands back feedparser-shaped entry dicts, so
parse.py turns both paths' entries into RawEntry with the same code. Whatever it cannot read
faithfully it declines (None) and feedparser reads the whole document instead.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from feedparser.urls import make_safe_absolute_uri
from lxml import etree

from monitor.reader.cadence import declared
from monitor.reader.fastentry import Entry
from monitor.reader.fastxml import Decline, base_of, fix_text, lang_of, name_of

# Hardened: no entity expansion, no DTD, no network, libxml2's size and depth limits kept
# (huge_tree=False: depth 256, text nodes 10 MB), nothing recovered from broken markup
# (but bare "&"s, escaped before a second strict parse: see _tree).
_PARSER_ARGS: dict[str, Any] = dict(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
    recover=False,
)
_ATOM10 = "http://www.w3.org/2005/Atom"
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_ASCII_SUPERSETS = {"ascii", "utf-8", "latin-1", "cp1252", "iso8859-15"}
_ONE_BYTE = ("iso8859-", "cp125", "koi8-", "latin-1")  # Python's names for them
_XML_DECLARATION = re.compile(r"^<\?xml[^>]*?>")  # feedparser's, replaced as it does
_UTF8_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>"
# "&" not starting a reference, escaped for a second try at a document lxml refused
_BARE_AMP = re.compile(rb"&(?!(?:[A-Za-z_][-A-Za-z0-9_.]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
# where feedparser's loose parser reads a document unlike its strict one: CDATA, entities
_LOOSE_UNSAFE = re.compile(rb"<!\[CDATA\[|&(?!(?:amp|lt|gt|quot|apos);)[A-Za-z_][-\w.]*;")
# parse.py keeps every entry, counting on the parse deadline to bound how many a parse can
# return (feedparser: ~20,000 in 6 s); the fast path, ten times quicker, would let ten times
# as many through to normalising and matching. Beyond this it leaves them to feedparser and
# its deadline, as before.
MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class FastDoc:
    entries: tuple[dict[str, Any], ...]
    refresh: float | None
    refresh_source: str
    language: str | None = None  # the feed's declared language, as feedparser's feed.language


def read(body: bytes, headers: Mapping[str, str], url: str, utf8: bool = False) -> FastDoc | None:
    """The document's entries as feedparser would give them, or None to let feedparser read it.

    `body` has been through refuse_hostile and repair_utf8; `headers` are lower-cased;
    `utf8`: the body is known to be UTF-8 (it is not decoded again to learn it).
    """
    codec = _codec_read_with(body, headers, utf8)
    if codec is None or _DOCTYPE.search(body[:4096]):
        return None
    if codec != "utf-8":  # read as feedparser does: decoded, then parsed as UTF-8 text
        body = _transcoded(body, codec)
    root = _tree(body)
    if root is None or root.getroottree().docinfo.doctype:
        return None  # unreadable, or a DOCTYPE further down than the quick look above
    try:
        return _document(root, make_safe_absolute_uri(url) or url, body)
    except Exception:  # Decline, or a surprise: either costs speed, never the document
        return None


def _tree(body: bytes) -> Any:
    """The parsed root, or None; a bare "&" (a common slip in URLs) is escaped and retried.

    feedparser's loose parser reads such a "&" as itself, as the escaped one reads.
    """
    parser = etree.XMLParser(**_PARSER_ARGS)
    try:
        return etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        if "EntityRef" not in str(exc) or _LOOSE_UNSAFE.search(body):
            return None
    try:
        return etree.fromstring(_BARE_AMP.sub(b"&amp;", body), parser)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _transcoded(body: bytes, codec: str) -> bytes:
    """feedparser's conversion: decoded with `codec`, declared (and encoded) as UTF-8."""
    text = body.decode(codec)
    if _XML_DECLARATION.match(text):
        text = _XML_DECLARATION.sub(_UTF8_DECLARATION, text, count=1)
    else:
        text = _UTF8_DECLARATION + "\n" + text
    return text.encode("utf-8")


def _codec_read_with(body: bytes, headers: Mapping[str, str], utf8: bool = False) -> str | None:
    """How feedparser would decode the body: "utf-8" (or ASCII that equals it), the one-byte
    codec it names, or None for anything else (left to feedparser).

    feedparser follows RFC 3023: the HTTP charset, then (for application/*xml) the declared
    encoding, else us-ascii for text/* and iso-8859-1 when no Content-Type came at all;
    the first candidate that decodes wins.
    """
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:4] == b"\x00\x00\xfe\xff":
        return None
    declared = _XML_DECL.match(body[3:] if body.startswith(codecs.BOM_UTF8) else body)
    xml_enc = declared.group(1).decode("ascii").lower() if declared else ""
    ctype = headers.get("content-type", "")
    found = _CHARSET.search(ctype)
    http_enc = found.group(1).lower() if found else ""
    mime = ctype.split(";", 1)[0].strip().lower()
    if mime in ("application/xml", "application/xml-dtd") or (
        mime.startswith("application/") and mime.endswith("+xml")
    ):
        first = http_enc or xml_enc or "utf-8"
    elif mime.startswith("text/"):
        first = http_enc or "us-ascii"
    elif "content-type" not in headers:
        first = xml_enc or "iso-8859-1"
    else:
        first = xml_enc or "utf-8"
    for name in dict.fromkeys(n for n in (first, xml_enc, "utf-8") if n):
        codec = _codec(name)
        if not (utf8 and codec == "utf-8"):
            try:
                body.decode(name)
            except (UnicodeDecodeError, LookupError):
                continue
        if codec == "utf-8" or (body.isascii() and codec in _ASCII_SUPERSETS):
            return "utf-8"
        return name if name != "utf-8" and codec.startswith(_ONE_BYTE) else None
    return None


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


def _document(root: Any, base: str, body: bytes) -> FastDoc:
    name = name_of(root)
    atom = root.tag == f"{{{_ATOM10}}}feed"
    if not (atom or (name == "rss" and root.tag == "rss") or name == "rdf:rdf"):
        raise Decline("not an RSS 2.0, RDF or Atom 1.0 root")
    bases = _BASE_ATTR.search(body) is not None and bool(_HAS_BASE(root))
    walk = _Walk(bases, _LANG_ATTR.search(body) is not None and bool(_HAS_LANG(root)))
    if walk.langs and name in ("feed", "rss"):  # feedparser's strict parser: not rdf:rdf
        walk.language = lang_of(root)
    walk.feed(root, base_of(root, base), 1, atom)
    pace = walk.pace
    refresh, source = declared(pace.get("ttl"), pace.get("period"), pace.get("freq"))
    return FastDoc(tuple(walk.entries), refresh, source, walk.language)


# any xml:base or bare base attribute (base_of reads both): without one, none is looked for
_HAS_BASE = etree.XPath("boolean(//@*[local-name()='base'])")
_HAS_LANG = etree.XPath("boolean(//@*[local-name()='lang'])")  # the same for xml:lang
# Each XPath walks every attribute of the tree; an attribute's name is in the bytes as it is
# (no reference can spell it), followed by "=": a search for that (memchr-fast on its literal
# start) spares the walk in most documents ("lang" alone is in most: <language>).
_BASE_ATTR = re.compile(rb"base\s*=")
_LANG_ATTR = re.compile(rb"lang\s*=")
_PACE = {"ttl": "ttl", "sy:updateperiod": "period", "sy:updatefrequency": "freq"}
_LANGUAGE = ("language", "dc:language")
# feed-level elements whose <language> feedparser keeps elsewhere than feed.language
_OTHER_CONTEXT = ("image", "textinput", "source")


class _Walk:
    """Feed level: every <item>/<entry> wherever it is (as feedparser finds them), the pace."""

    def __init__(self, bases: bool, langs: bool) -> None:
        self.bases = bases
        self.langs = langs
        self.entries: list[dict[str, Any]] = []
        self.pace: dict[str, str] = {}
        self.language: str | None = None

    def feed(self, el: Any, base: str, depth: int, infeed: bool) -> None:
        """`infeed`: inside the channel (or the Atom feed), where feedparser keeps the
        feed's own elements."""
        for child in el:
            name = name_of(child)
            if not name:
                continue
            inner = base_of(child, base)
            if name in ("item", "entry"):
                if len(self.entries) >= MAX_ENTRIES:
                    raise Decline("more entries than feedparser could parse in its deadline")
                entry = Entry(depth + 1, bases=self.bases, langs=self.langs)
                self.entries.append(entry.read(child, inner))
                continue
            if name in _PACE and len(child) == 0:
                self.pace[_PACE[name]] = (child.text or "").strip()
            if name in _LANGUAGE:
                self._language(child, infeed)
            if name in _OTHER_CONTEXT:
                self._no_language_in(child)
            self.feed(child, inner, depth + 1, infeed or name == "channel")

    def _language(self, el: Any, infeed: bool) -> None:
        if len(el):
            raise Decline("markup inside <language>")
        if infeed:
            self.language = fix_text((el.text or "").strip())

    def _no_language_in(self, el: Any) -> None:
        if any(name_of(d) in _LANGUAGE for d in el.iterdescendants()):
            raise Decline("a <language> inside an <image>, <textinput> or <source>")
