"""Pure text and HTML bodies for the email channel: one alert, or a digest of many.

Every piece of feed text goes through render (cleaned, bounded) and then html.escape in
the HTML part; the only links are the item's and sources' own http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from monitor.channels import render
from monitor.model import Alert, Match, as_utc

DIGEST_MAX = 200  # alerts listed in full in one digest; the rest are counted
MATCHES_MAX = 50


def text_body(alert: Alert) -> str:
    return "\n".join(render.plain_lines(alert)) + "\n"


def html_body(alert: Alert) -> str:
    return _page(_alert_html(alert, heading="h2"))


def digest_text(alerts: Sequence[Alert], period_label: str) -> str:
    lines = [digest_title(alerts, period_label), ""]
    for alert in ordered(alerts)[:DIGEST_MAX]:
        lines += _digest_entry_text(alert)
    lines += render.more_line(len(alerts) - DIGEST_MAX, "alert")
    return "\n".join(lines) + "\n"


def digest_html(alerts: Sequence[Alert], period_label: str) -> str:
    parts = [f"<h1>{escape(digest_title(alerts, period_label))}</h1>"]
    parts += [_alert_html(a, heading="h3") + "<hr>" for a in ordered(alerts)[:DIGEST_MAX]]
    parts += [f"<p>{escape(m)}</p>" for m in render.more_line(len(alerts) - DIGEST_MAX, "alert")]
    return _page("\n".join(parts))


def digest_title(alerts: Sequence[Alert], period_label: str) -> str:
    noun = "alert" if len(alerts) == 1 else "alerts"
    return f"Monitor digest: {len(alerts)} {noun}, {render.line(period_label, 100)}"


def ordered(alerts: Sequence[Alert]) -> list[Alert]:
    """Most severe first, then oldest first, so a reader meets what matters at the top."""
    return sorted(alerts, key=lambda a: (-a.severity, as_utc(a.created)))


def _digest_entry_text(alert: Alert) -> list[str]:
    head = f"[{alert.severity.name}] {render.kind_label(alert.kind)}: {render.headline(alert)}"
    lines = [head]
    if alert.rules:
        lines.append(f"  Rules: {render.rule_titles(alert)}")
    if alert.item is not None:
        lines.append(f"  Source: {render.item_origin(alert)}")
        link = render.safe_link(alert.item.link)
        if link:
            lines.append(f"  Link: {link}")
    if alert.countries:
        lines.append(f"  Countries: {render.countries(alert)}")
    return [*lines, f"  Alert id: {render.line(alert.id, render.NAME_MAX)}", ""]


def _page(content: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        '<body style="font-family:sans-serif;line-height:1.4">\n'
        f"{content}\n</body></html>\n"
    )


def _alert_html(alert: Alert, *, heading: str) -> str:
    colour = render.SEVERITY_COLOUR[alert.severity]
    kind = render.kind_label(alert.kind)
    parts = [
        f'<p style="color:{colour};font-weight:bold">{alert.severity.name} · {escape(kind)}</p>',
        f"<{heading}>{_title_html(alert)}</{heading}>",
    ]
    if render.unreviewed(alert):
        note = escape(render.NOT_REVIEWED_NOTE)
        parts.insert(0, f'<p style="color:#c62828;font-weight:bold">{note}</p>')
    if alert.item is not None:
        parts.append(f"<p>{escape(render.item_origin(alert))}</p>")
        summary = render.block(alert.item.summary, render.SUMMARY_MAX)
        if summary:
            parts.append(f"<p>{escape(summary)}</p>")
    parts += _field("Rules", render.rule_titles(alert))
    parts += _field("Countries", render.countries(alert))
    parts += _field("Language", render.language(alert))
    if alert.text:
        parts.append(f"<p>{escape(render.block(alert.text, render.TEXT_MAX))}</p>")
    parts += [_match_html(m) for m in alert.matches[:MATCHES_MAX]]
    parts += [
        f"<p>{escape(m)}</p>"
        for m in render.more_line(len(alert.matches) - MATCHES_MAX, "matched rule")
    ]
    parts += _sources_html(alert)
    parts.append(f'<p style="color:#777">Alert id {escape(render.line(alert.id, 100))}</p>')
    return "\n".join(parts)


def _title_html(alert: Alert) -> str:
    title = escape(render.headline(alert))
    link = render.safe_link(alert.item.link) if alert.item else None
    return _anchor(link, title)


def _anchor(link: str | None, label_html: str) -> str:
    """An <a> to a safe link, or the (already escaped) label alone."""
    if link is None:
        return label_html
    return f'<a href="{escape(link, quote=True)}">{label_html}</a>'


def _field(name: str, value: str) -> list[str]:
    return [f"<p><b>{name}:</b> {escape(value)}</p>"] if value else []


def _match_html(match: Match, max_hits: int = 10) -> str:
    items = []
    for hit in match.hits[:max_hits]:
        snippet = render.snippet(hit)
        tail = f": <i>{escape(snippet)}</i>" if snippet else ""
        items.append(f"<li>{escape(render.hit_line(hit))}{tail}</li>")
    items += [f"<li>{escape(m)}</li>" for m in render.more_line(len(match.hits) - max_hits, "term")]
    return f"<p><b>{escape(render.match_heading(match))}</b></p><ul>{''.join(items)}</ul>"


def _sources_html(alert: Alert, max_sources: int = 20) -> list[str]:
    if len(alert.sources) < 2:
        return []
    items = []
    for source in alert.sources[:max_sources]:
        title = escape(render.line(source.title, render.TITLE_MAX))
        feed = escape(render.line(source.feed, render.NAME_MAX))
        when = render.when(source.published)
        items.append(f"<li>{feed}: {_anchor(render.safe_link(source.link), title)} ({when})</li>")
    more = render.more_line(len(alert.sources) - max_sources, "source")
    items += [f"<li>{escape(m)}</li>" for m in more]
    return [f"<p><b>Sources ({len(alert.sources)}):</b></p><ul>{''.join(items)}</ul>"]
