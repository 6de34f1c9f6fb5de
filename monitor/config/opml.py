"""OPML 2.0, the subscription list every feed reader exchanges, and the config's [[feeds]].

`parse` (in `monitor.config.outline`, where the untrusted XML is read) gives candidate
feeds, `plan` decides which join the config (new URL, http(s), unique slug name), `build`
writes feeds as OPML. `import_file` alone edits config.toml: through tomlkit (comments,
order and other settings survive), atomically.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, Table

from monitor.config.outline import Candidate, OpmlError, parse, slug
from monitor.config.reader import check_url

__all__ = [
    "Candidate", "Feed", "OpmlError", "Plan", "build", "configured", "import_file",
    "parse", "plan", "report", "slug",
]  # fmt: skip
# Characters XML 1.0 cannot carry even escaped (TOML strings can hold them); export drops them.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Feed:
    """A [[feeds]] entry: what is exported, and what an import adds."""

    name: str
    url: str
    tags: tuple[str, ...] = ()


@dataclass
class Plan:
    """What an import does: feeds to add, URLs already configured, outlines refused."""

    added: list[Feed] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def plan(candidates: Iterable[Candidate], existing: Sequence[Feed], source: str) -> Plan:
    """Decide what joins the config: valid http(s) URLs not configured yet, unique names."""
    out = Plan()
    names = {f.name for f in existing}
    known = {f.url for f in existing}
    for c in candidates:
        problem = _url_problem(c.url)
        if problem:
            out.rejected.append(f"{source}: line {c.line}: {_show(c.title)}: {problem}")
            continue
        if c.url in known:
            out.existing.append(c.url)
            continue
        name = _unique(slug(c.title) or slug(urlsplit(c.url).hostname or "") or "feed", names)
        names.add(name)
        known.add(c.url)
        out.added.append(Feed(name, c.url, c.tags))
    return out


def _url_problem(url: str) -> str:
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        return "the xmlUrl contains spaces or control characters"
    try:
        check_url(url)
    except ValueError:
        return f"{_show(url)} is not an http(s) URL"
    return ""


def _show(text: str) -> str:
    """A bounded, quoted rendering of untrusted text for a message."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return '"' + (text if len(text) <= 80 else text[:80] + "…") + '"'


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def build(feeds: Sequence[Feed], title: str = "monitor feeds") -> str:
    """An OPML 2.0 document with one rss outline per feed (attributes escaped by ElementTree)."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = title
    body = ET.SubElement(root, "body")
    for f in feeds:
        name = _XML_UNSAFE.sub("", f.name)
        attrs = {"text": name, "title": name, "type": "rss", "xmlUrl": _XML_UNSAFE.sub("", f.url)}
        if f.tags:
            attrs["category"] = _XML_UNSAFE.sub("", ",".join(f.tags))
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def configured(path: Path, *, pages: bool = True) -> list[Feed]:
    """The [[feeds]] of a config file (name, url, tags); entries without a URL are left out,
    and with pages=False the type = "html" ones (a page read with selectors is no feed to
    another reader)."""
    try:
        doc = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise OpmlError(f"{path}: not valid TOML ({exc})") from None
    raw = doc.get("feeds", [])
    if not pages and isinstance(raw, list):
        raw = [t for t in raw if not (isinstance(t, dict) and t.get("type") == "html")]
    return _feeds_of(raw, path)


def _feeds_of(raw: object, path: Path) -> list[Feed]:
    if not isinstance(raw, list):
        raise OpmlError(f"{path}: feeds: not an array of tables; write [[feeds]] tables")
    out = []
    for t in raw:
        if isinstance(t, dict) and isinstance(t.get("url"), str):
            raw = t.get("tags")
            tags = [x for x in raw if isinstance(x, str)] if isinstance(raw, list) else []
            out.append(Feed(str(t.get("name", "")), t["url"], tuple(tags)))
    return out


def import_file(opml_path: Path, config_path: Path) -> Plan:
    """Add the OPML's new feeds to config_path, keeping its comments and other settings."""
    try:
        data = opml_path.read_bytes()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise OpmlError(f"{opml_path}: cannot read ({why})") from None
    candidates = parse(data, str(opml_path))
    try:
        doc = tomlkit.parse(_read_text(config_path))
    except TOMLKitError as exc:
        raise OpmlError(f"{config_path}: not valid TOML ({exc})") from None
    result = plan(candidates, _feeds_of(doc.unwrap().get("feeds", []), config_path), str(opml_path))
    if result.added:
        _append(doc, result.added, config_path)
        _replace(config_path, tomlkit.dumps(doc))
    return result


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OpmlError(f"{path}: no such config file; create it (or pass -c CONFIG)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OpmlError(f"{path}: cannot read ({type(exc).__name__})") from None


def _append(doc: tomlkit.TOMLDocument, feeds: Sequence[Feed], path: Path) -> None:
    tables = doc.get("feeds")
    first_indent = "\n"  # a blank line before each new [[feeds]]
    trailing: list[Any] = []
    if tables is None:
        tables = tomlkit.aot()
        text = doc.as_string()
        first_indent = "" if not text.strip() or text.endswith("\n\n") else "\n"
        doc.append("feeds", tables)
    elif isinstance(tables, AoT) and len(tables):
        trailing = _detach_trailing(tables[-1])
    if not isinstance(tables, AoT | Array):
        raise OpmlError(f"{path}: feeds: not an array of tables; write [[feeds]] tables")
    for i, f in enumerate(feeds):
        table = tomlkit.table() if isinstance(tables, AoT) else tomlkit.inline_table()
        table.add("name", f.name)
        table.add("url", f.url)
        if f.tags:
            table.add("tags", list(f.tags))
        if isinstance(table, Table):
            table.trivia.indent = first_indent if i == 0 else "\n"
        tables.append(table)
    for item in trailing:
        tables[-1].value.body.append((None, item))


def _detach_trailing(table: Table) -> list[Any]:
    """Comments and blank lines after the last feed's keys, which tomlkit files under that
    table but which introduce what follows (e.g. "# --- Channels"): they move below the
    new feeds, so the new feeds do not land between a heading and its section."""
    body = table.value.body
    trailing: list[Any] = []
    while body and body[-1][0] is None:
        trailing.insert(0, body.pop()[1])
    if body and not body[-1][1].trivia.trail.endswith("\n"):
        body[-1][1].trivia.trail += "\n"  # the file ended without a newline
    return trailing


def _replace(path: Path, text: str) -> None:
    # Check the result parses before it replaces the original, and replace atomically
    # (same folder, same mode) so a crash leaves the old config or the new one, never half.
    tomllib.loads(text)
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def report(result: Plan) -> list[str]:
    """Lines telling the operator what an import did and what to do next."""
    lines = [f"added {f.name} {f.url}" for f in result.added]
    lines += [f"already configured: {url}" for url in result.existing]
    lines.append(
        f"{len(result.added)} added, {len(result.existing)} already configured, "
        f"{len(result.rejected)} refused"
        + ("; run `monitor check`, then reload the daemon (SIGHUP)" if result.added else "")
    )
    return lines
