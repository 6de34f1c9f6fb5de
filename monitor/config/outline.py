"""OPML documents -> Candidate feeds: the untrusted XML read without expanding anything.

OPML comes from other programs and other people, so it is untrusted: a DOCTYPE or an
entity declaration is refused before anything is expanded (an outline list has no use
for either, and they are how entity bombs and XXE work), the size is capped, and every
failure is one OpmlError naming the file and, when known, the line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from monitor.errors import MonitorError

MAX_OPML = 10 * 2**20  # a subscription list of 10 MB is already tens of thousands of feeds
MAX_NAME = 60


class OpmlError(MonitorError):
    """The OPML or the config cannot be used; the message names the file (and line)."""


@dataclass(frozen=True)
class Candidate:
    """An outline with an xmlUrl, as found in the OPML (not yet validated)."""

    title: str
    url: str
    tags: tuple[str, ...]
    line: int


def slug(text: str) -> str:
    """'Human Rights Watch — Africa' -> 'human-rights-watch-africa' (ASCII, at most 60)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:MAX_NAME].strip("-")


def parse(data: bytes, source: str) -> list[Candidate]:
    """Every outline with an xmlUrl under <body>, in document order; OpmlError otherwise."""
    if len(data) > MAX_OPML:
        raise OpmlError(f"{source}: larger than {MAX_OPML // 2**20} MB; not a subscription list")
    parser = expat.ParserCreate()
    walker = _Walker(source, parser)
    parser.StartDoctypeDeclHandler = walker.refuse_doctype
    parser.EntityDeclHandler = walker.refuse_entity
    parser.StartElementHandler = walker.start
    parser.EndElementHandler = walker.end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.ErrorString(exc.code)
        raise OpmlError(f"{source}: line {exc.lineno}: malformed OPML: {message}") from None
    if not walker.seen_body:
        raise OpmlError(f"{source}: no <body> in <opml>; not a subscription list")
    return walker.found


class _Walker:
    """expat handlers: checks the <opml><body> frame and collects outlines with an xmlUrl."""

    def __init__(self, source: str, parser: Any) -> None:
        self.source = source
        self.parser = parser
        self.stack: list[str] = []
        self.titles: list[str] = []  # titles of the enclosing outlines, for folder tags
        self.seen_body = False
        self.found: list[Candidate] = []

    def fail(self, message: str) -> OpmlError:
        return OpmlError(f"{self.source}: line {self.parser.CurrentLineNumber}: {message}")

    def refuse_doctype(self, *_: object) -> None:
        raise self.fail("DOCTYPE declarations are refused (OPML needs none; entities are unsafe)")

    def refuse_entity(self, *_: object) -> None:
        raise self.fail("ENTITY declarations are refused")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self.stack and name != "opml":
            raise self.fail(f"the root element is <{name}>, not <opml>")
        if name == "body" and self.stack == ["opml"]:
            self.seen_body = True
        in_body = len(self.stack) >= 2 and self.stack[1] == "body"
        self.stack.append(name)
        if name != "outline" or not in_body:
            return
        lower = {k.lower(): v for k, v in attrs.items()}  # some writers spell it xmlurl
        title = (lower.get("title") or lower.get("text") or "").strip()
        url = lower.get("xmlurl", "").strip()
        if url:
            line = self.parser.CurrentLineNumber
            self.found.append(Candidate(title, url, self._tags(lower.get("category")), line))
        self.titles.append(title)

    def end(self, name: str) -> None:
        self.stack.pop()
        in_body = len(self.stack) >= 2 and self.stack[1] == "body"
        if name == "outline" and in_body:
            self.titles.pop()

    def _tags(self, category: str | None) -> tuple[str, ...]:
        # OPML 2.0 category: comma-separated slash paths ("/News/World,/UN"); the last step
        # of each path is its most specific name. Without one, the enclosing folder is it.
        if category:
            steps = [p.strip().rstrip("/").rsplit("/", 1)[-1] for p in category.split(",")]
        else:
            steps = [t for t in self.titles[-1:] if t]
        return tuple(dict.fromkeys(s for s in map(slug, steps) if s))
