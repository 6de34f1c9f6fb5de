"""Slack incoming-webhook channel: an alert as Block Kit blocks plus a plain `text` fallback.

Feed text is untrusted. `&`, `<` and `>` are escaped in every piece of it, so a title such
as `<!channel>`, `<@U123>` or `<https://evil|un.org>` shows as typed and can neither mention
anyone nor forge a link; the only link is the item's own, validated http(s) URL. Slack's
limits are respected by construction: header text <= 150 characters, section text <= 3,000,
at most 50 blocks; whatever does not fit ends with "…" or an "… and N more" line.

Answers: 200 with body "ok" is success; see monitor.channels.http for the rest (Slack's
error codes such as invalid_payload or channel_not_found come with a 4xx: permanent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from monitor.channels import http, render
from monitor.channels.base import ChannelType, Transports
from monitor.channels.http import HttpSettings
from monitor.errors import DeliveryError
from monitor.model import Alert, DeliveryResult, Match

HEADER_MAX = 150
SECTION_MAX = 3000
BLOCKS_MAX = 50
FALLBACK_MAX = 3000
HITS_PER_MATCH = 10
SOURCES_MAX = 20


@dataclass(frozen=True)
class SlackPayload:
    """The JSON document posted to the webhook, and the alert it carries."""

    alert_id: str
    body: dict[str, Any]


def escape(text: str) -> str:
    """Escape Slack's three control characters; nothing else is HTML-encoded (Slack's rule)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """Bound already-escaped text to limit characters without cutting an entity in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + render.ELLIPSIS


def link(url: str | None, label: str) -> str:
    """`<url|label>` for a safe http(s) URL, else the label alone; label is escaped text."""
    safe = render.safe_link(url)
    if safe is None:
        return label
    # Inside <...> Slack splits at the first | and ends at >; percent-encode both.
    target = safe.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    return f"<{target.replace('|', '%7C')}|{label}>"


def join_lines(lines: list[str], limit: int = SECTION_MAX) -> str:
    """Join whole lines while they fit in limit; the rest become "… and N more lines".

    Every line given here is bounded well under the limit, so no link is ever cut.
    """
    out: list[str] = []
    used = 0
    for index, text in enumerate(lines):
        if used + len(text) + 1 > limit - 40:  # keep room for the "… and N more" line
            out += render.more_line(len(lines) - index, "line") if out else [fit(text, limit)]
            break
        out.append(text)
        used += len(text) + 1
    return "\n".join(out)


def section(lines: list[str]) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": join_lines(lines) or " "}}


def header_block(alert: Alert) -> dict[str, Any]:
    emoji = render.SEVERITY_EMOJI[alert.severity]
    kind = render.kind_label(alert.kind)
    text = f"{render.review_marker(alert)}{emoji} {alert.severity.name} · {kind}: "
    text += render.headline(alert)
    return {"type": "header", "text": {"type": "plain_text", "text": fit(escape(text), HEADER_MAX)}}


def item_block(alert: Alert) -> dict[str, Any]:
    """Linked item title, source and time, rules and countries."""
    title = fit(escape(render.headline(alert)), render.TITLE_MAX)
    lines = [f"*{link(alert.item.link, title)}*" if alert.item else f"*{title}*"]
    if render.unreviewed(alert):
        lines.append(f"*{render.NOT_REVIEWED_NOTE}*")
    if alert.item is not None:
        lines.append(escape(render.item_origin(alert)))
    if alert.rules:
        lines.append(f"*Rules:* {fit(escape(render.rule_titles(alert)), 1000)}")
    if alert.countries:
        lines.append(f"*Countries:* {fit(escape(render.countries(alert)), 500)}")
    if render.language(alert):
        lines.append(f"*Language:* {escape(render.language(alert))}")
    return section(lines)


def match_block(match: Match) -> dict[str, Any]:
    """One rule that fired, with each matched term and its snippet."""
    lines = [f"*{escape(render.match_heading(match))}*"]
    for hit in match.hits[:HITS_PER_MATCH]:
        snip = render.snippet(hit)
        lines.append(f"• {escape(render.hit_line(hit))}" + (f": _{escape(snip)}_" if snip else ""))
    lines += render.more_line(len(match.hits) - HITS_PER_MATCH, "term")
    return section(lines)


def sources_block(alert: Alert) -> dict[str, Any]:
    lines = [f"*Sources ({len(alert.sources)}):*"]
    for source in alert.sources[:SOURCES_MAX]:
        feed = escape(render.line(source.feed, render.NAME_MAX))
        title = escape(render.line(source.title, render.TITLE_MAX))
        lines.append(f"• {feed}: {link(source.link, title)} ({render.when(source.published)})")
    lines += render.more_line(len(alert.sources) - SOURCES_MAX, "source")
    return section(lines)


def context_block(alert: Alert) -> dict[str, Any]:
    text = f"alert {escape(render.line(alert.id, render.NAME_MAX))} · {render.when(alert.created)}"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def blocks(alert: Alert) -> list[dict[str, Any]]:
    """All blocks, the match blocks cut so that the total stays within BLOCKS_MAX."""
    head = [header_block(alert), item_block(alert)]
    if alert.text:
        head.append(section([escape(render.block(alert.text, render.TEXT_MAX))]))
    tail = [sources_block(alert)] if len(alert.sources) > 1 else []
    tail.append(context_block(alert))
    room = BLOCKS_MAX - len(head) - len(tail)
    matches = [match_block(m) for m in alert.matches[:room]]
    if len(alert.matches) > room:
        extra = len(alert.matches) - room + 1
        matches[-1] = section(render.more_line(extra, "matched rule"))
    return head + matches + tail


def fallback_text(alert: Alert) -> str:
    """The notification / screen-reader text: severity, kind, title and rules."""
    text = f"[{alert.severity.name}] {render.kind_label(alert.kind)}: {render.headline(alert)}"
    text = render.review_marker(alert) + text
    if alert.rules:
        text += f" ({render.rule_titles(alert)})"
    return fit(escape(text), FALLBACK_MAX)


class SlackChannel(http.HttpChannel):
    """Posts Block Kit messages to one Slack incoming webhook."""

    kind = "slack"
    url_noun = "webhook URL"

    def build(self, alert: Alert) -> SlackPayload:
        """Pure: the message for alert."""
        body = {"text": fallback_text(alert), "blocks": blocks(alert)}
        return SlackPayload(alert.id, body)

    def send(self, payload: SlackPayload) -> DeliveryResult:
        """Post the message; success only on 200 with body "ok"."""
        body = json.dumps(payload.body, ensure_ascii=False).encode("utf-8")
        answer = self._post(body, {"Content-Type": "application/json; charset=utf-8"})
        code = http.short_code(answer.body)
        if answer.status == 200 and code == "ok":
            return DeliveryResult(f"{self.label}: ok")
        if 200 <= answer.status < 300:
            # Slack always says "ok"; anything else came from something that is not Slack.
            reason = f"HTTP {answer.status} from {self.label} without 'ok'"
            raise DeliveryError(reason, retryable=False)
        raise http.failure(answer, self.label, self._now(), code)


def _make(name: str, settings: HttpSettings, transports: Transports) -> SlackChannel:
    return SlackChannel(
        name,
        settings,
        session=http.session_of(name, transports),
        now=transports.now,
        deadline=transports.deadline,
    )


# Slack allows about one message a second per webhook: that is the default pace.
TYPE = ChannelType(http.KEYS, http.read_http, _make, HttpSettings, rate_limit=1.0)
