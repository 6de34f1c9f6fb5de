"""Pure text helpers shared by the channels: clean and bound untrusted feed text, format
times and severities, and the plain-text summary lines of an alert.

Every string that came from a feed (titles, summaries, snippets, feed names, links) is
untrusted. The helpers here strip what no output format should carry (control characters,
bidi overrides, lone surrogates) and bound the length; each channel then escapes the result
for its own format (Slack mrkdwn, HTML, JSON, terminal).
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from monitor.model import Alert, AlertKind, Match, Severity, Source, TermHit, as_utc

ELLIPSIS = "…"
TITLE_MAX = 300
SUMMARY_MAX = 1000
SNIPPET_MAX = 200
TEXT_MAX = 2000
NAME_MAX = 100  # feed names, rule ids, terms, countries
URL_MAX = 2000

# C0 (except tab and newline), DEL, C1, bidi embedding/override/isolate marks (which can
# make a title read backwards) and lone surrogates (which cannot be encoded as UTF-8).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SPACES = re.compile(r"\s+")
_INLINE_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")

SEVERITY_EMOJI = {
    Severity.INFO: "⚪",
    Severity.LOW: "🔵",
    Severity.MEDIUM: "🟡",
    Severity.HIGH: "🟠",
    Severity.CRITICAL: "🔴",
}
SEVERITY_COLOUR = {
    Severity.INFO: "#9e9e9e",
    Severity.LOW: "#1e88e5",
    Severity.MEDIUM: "#f9a825",
    Severity.HIGH: "#ef6c00",
    Severity.CRITICAL: "#c62828",
}
KIND_LABEL = {
    AlertKind.MATCH: "Match",
    AlertKind.CORROBORATION: "Corroborated",
    AlertKind.ESCALATION: "Escalation",
    AlertKind.SOURCE_DOWN: "Source down",
    AlertKind.SOURCE_BACK: "Source back",
    AlertKind.TEST: "TEST",
}


NOT_REVIEWED = "NOT REVIEWED"
NOT_REVIEWED_NOTE = "NOT REVIEWED: its review timed out; no analyst has approved this alert"


def unreviewed(alert: Alert) -> bool:
    """True for an alert a review timeout released (monitor.deliver.marked): every channel
    shows NOT_REVIEWED where a reader looks first."""
    return alert.data.get("unreviewed") is True


def review_marker(alert: Alert) -> str:
    """ "[NOT REVIEWED] " for such an alert, else "": the prefix of headlines and subjects."""
    return f"[{NOT_REVIEWED}] " if unreviewed(alert) else ""


def truncate(text: str, limit: int) -> str:
    """Return text of at most limit characters, cut at a word boundary when one is near,
    ending with "…" when anything was cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space >= len(cut) - 30 and space > 0:  # a nearby word boundary reads better
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def line(text: str | None, limit: int = TITLE_MAX) -> str:
    """One line of untrusted text: unsafe characters removed, whitespace collapsed, bounded."""
    # Cut before the regexes so a 10 MB title costs no more than a long one.
    raw = (text or "")[: limit * 4 + 64]
    return truncate(_SPACES.sub(" ", _UNSAFE.sub("", raw)).strip(), limit)


def block(text: str | None, limit: int = SUMMARY_MAX) -> str:
    """Multi-line untrusted text: like line() but keeps single line breaks."""
    raw = (text or "")[: limit * 4 + 64].replace("\r\n", "\n").replace("\r", "\n")
    raw = _INLINE_SPACES.sub(" ", _UNSAFE.sub("", raw))
    raw = _BLANK_LINES.sub("\n\n", "\n".join(part.strip() for part in raw.split("\n")))
    return truncate(raw.strip(), limit)


def safe_link(url: str | None) -> str | None:
    """The URL when it is a plain absolute http(s) link, else None (never linked)."""
    if not url or len(url) > URL_MAX or _SPACES.search(url) or _UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    # user:password@ in a link is a classic way to disguise the real host.
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    return url


def when(moment: datetime) -> str:
    """A short human time: 2024-05-01 12:00 UTC."""
    return as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def severity_tag(severity: Severity) -> str:
    return severity.name


def kind_label(kind: str) -> str:
    return KIND_LABEL.get(kind, line(kind, NAME_MAX))


def headline(alert: Alert) -> str:
    """The alert's title, cleaned and bounded."""
    return line(alert.title, TITLE_MAX) or "(no title)"


def subject(alert: Alert, limit: int = 200) -> str:
    """A one-line subject: [severity] title."""
    marker = review_marker(alert) + ("[TEST] " if alert.kind == AlertKind.TEST else "")
    return truncate(f"{marker}[{alert.severity.label}] {headline(alert)}", limit)


def rule_titles(alert: Alert) -> str:
    """Rule title(s) with their severity: "Mass killing (critical); Displacement (high)"."""
    return "; ".join(f"{line(r.title, 150)} ({r.severity.label})" for r in alert.rules)


def countries(alert: Alert) -> str:
    return ", ".join(line(c, 10) for c in alert.countries)


def language(alert: Alert) -> str:
    """The alert's language code for a "Language:" line, "" when it goes without saying:
    unknown, or English (the language most readers of these messages read anyway)."""
    code = alert.lang or ""
    return line(code, 10) if code and code != "en" else ""


def item_origin(alert: Alert) -> str:
    """Feed name and publication time of the alert's item: "UN News · 2024-05-01 12:00 UTC"."""
    if alert.item is None:
        return ""
    estimated = " (date estimated)" if alert.item.date_estimated else ""
    return f"{line(alert.item.feed, NAME_MAX)} · {when(alert.item.published)}{estimated}"


def match_heading(match: Match) -> str:
    return f"{line(match.title, 150)} ({match.severity.label}, score {match.score:.0f})"


def hit_line(hit: TermHit) -> str:
    """One matched term, plain: "genocide" matched "genocide" in title."""
    return (
        f'"{line(hit.term, NAME_MAX)}" matched "{line(hit.text, NAME_MAX)}"'
        f" in {where(hit.field)} ({hit.score:.0f})"
    )


def where(field: str) -> str:
    """Where a term matched, as a sentence says it: "title", "summary", "the article" (the
    page of a teaser feed's item, fetched with fetch_articles)."""
    return "the article" if field == "article" else line(field, 20)


def snippet(hit: TermHit) -> str:
    return line(hit.snippet, SNIPPET_MAX)


def source_line(source: Source) -> str:
    """A source without its link: "OHCHR: title (2024-05-01 12:00 UTC)"."""
    return (
        f"{line(source.feed, NAME_MAX)}: {line(source.title, TITLE_MAX)} ({when(source.published)})"
    )


def plain_lines(alert: Alert, *, max_hits: int = 10, max_sources: int = 20) -> list[str]:
    """A complete plain-text rendering of an alert, one string per line (console, email)."""
    head = f"[{severity_tag(alert.severity)}] {kind_label(alert.kind)}: {headline(alert)}"
    out = [review_marker(alert) + head]
    if unreviewed(alert):
        out.append(NOT_REVIEWED_NOTE)
    if alert.rules:
        out.append(f"Rules: {rule_titles(alert)}")
    if alert.item is not None:
        out.append(f"Source: {item_origin(alert)}")
        link = safe_link(alert.item.link)
        if link:
            out.append(f"Link: {link}")
        summary = line(alert.item.summary, 300)
        if summary:
            out.append(f"Summary: {summary}")
    if alert.countries:
        out.append(f"Countries: {countries(alert)}")
    if language(alert):
        out.append(f"Language: {language(alert)}")
    if alert.text:
        out.append(block(alert.text, TEXT_MAX))
    out += _match_lines(alert, max_hits)
    out += _source_lines(alert, max_sources)
    out.append(f"Alert id: {line(alert.id, NAME_MAX)}")
    return out


def _match_lines(alert: Alert, max_hits: int, max_matches: int = 50) -> list[str]:
    out: list[str] = []
    for match in alert.matches[:max_matches]:
        out.append(f"Matched {match_heading(match)}:")
        for hit in match.hits[:max_hits]:
            text = snippet(hit)
            out.append(f"  - {hit_line(hit)}" + (f": {text}" if text else ""))
        out += more_line(len(match.hits) - max_hits, "term", indent="  ")
    return out + more_line(len(alert.matches) - max_matches, "matched rule")


def _source_lines(alert: Alert, max_sources: int) -> list[str]:
    if len(alert.sources) < 2:
        return []  # a single source is the item itself, already shown
    out = [f"Sources ({len(alert.sources)}):"]
    for source in alert.sources[:max_sources]:
        link = safe_link(source.link)
        out.append(f"  - {source_line(source)}" + (f" {link}" if link else ""))
    return out + more_line(len(alert.sources) - max_sources, "source", indent="  ")


def more_line(count: int, noun: str, *, indent: str = "") -> list[str]:
    """["… and 3 more terms"] when count > 0, else []."""
    if count <= 0:
        return []
    return [f"{indent}{ELLIPSIS} and {count} more {noun}{'' if count == 1 else 's'}"]
