"""An alert's language in what the channels send: `lang` (ISO 639-1 or null) in the webhook
document, its item and each source; a "Language:" line in plain text (console, email,
Apprise), email HTML and Slack only when it is known and not English."""

from __future__ import annotations

from dataclasses import replace

from monitor.alerts.health import back
from monitor.channels import emailbody, render, slack
from monitor.channels.webhook import document
from monitor.model import Alert, FeedSpec, FeedState, Source
from tests.factories import RENDERED, make_alert


def arabic(lang: str | None = "ar") -> Alert:
    a = make_alert("مجزرة جديدة بحق المدنيين وسط غزة")
    assert a.item is not None
    other = Source("BBC", "Massacre in Gaza", None, RENDERED, "k9", "en")
    sources = (replace(a.sources[0], lang=lang), other)
    return replace(a, lang=lang, item=replace(a.item, lang=lang), sources=sources)


def test_webhook_document_gives_lang_for_the_alert_its_item_and_each_source() -> None:
    doc = document(arabic())
    assert doc["lang"] == "ar" and doc["item"]["lang"] == "ar"
    assert [s["lang"] for s in doc["sources"]] == ["ar", "en"]


def test_webhook_lang_is_null_when_unknown_or_not_a_code() -> None:
    assert document(arabic(None))["lang"] is None
    assert document(replace(arabic(), lang="<script>"))["lang"] is None
    notice = back(FeedSpec("bbc", "https://x.org/rss", 600), FeedState("bbc"), RENDERED)
    assert document(notice)["lang"] is None


def test_language_line_only_when_known_and_not_english() -> None:
    assert "Language: ar" in render.plain_lines(arabic())
    assert "Language: ar" in emailbody.text_body(arabic())
    assert "<b>Language:</b> ar" in emailbody.html_body(arabic())
    assert "*Language:* ar" in slack.item_block(arabic())["text"]["text"]
    for quiet in (arabic("en"), arabic(None)):
        assert not any(line.startswith("Language:") for line in render.plain_lines(quiet))
        assert "Language" not in slack.item_block(quiet)["text"]["text"]
        assert "Language" not in emailbody.html_body(quiet)
