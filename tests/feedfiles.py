"""What tests write for monitor to read: RSS documents (rss, item, story) and config files
(write_config, with a one-rule rule folder when the test brings none)."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

GOOD_RULES = Path(__file__).parent / "data" / "rules_fixtures" / "good"  # the usual rule pack
RULES = """theme = "test"

[[rules]]
id = "massacre"
title = "Massacre reported"
severity = "high"
description = "A test rule."
any = ["massacre"]
"""
# a critical rule beside it, for tests where severity decides (reviews, silences)
TWO_RULES = (
    RULES
    + """
[[rules]]
id = "genocide"
title = "Genocide warning"
severity = "critical"
description = "A test rule."
any = ["genocide"]
"""
)
CONSOLE = '[[channels]]\nname = "console"\ntype = "console"\ncolor = false\n'


def webhook(url_env: str) -> str:
    """A webhook channel "ops" taking every alert, its URL read from the variable url_env."""
    return (
        f'[[channels]]\nname = "ops"\ntype = "webhook"\nurl_env = "{url_env}"\n'
        'min_severity = "info"\n'
    )


# a signed webhook "ops" taking alerts from low severity, its URL and secret from the
# environment (TEST_HOOK_URL, TEST_HOOK_SECRET)
SIGNED_WEBHOOK = """[[channels]]
name = "ops"
type = "webhook"
url_env = "TEST_HOOK_URL"
secret_env = "TEST_HOOK_SECRET"
min_severity = "low"
"""


def rss(*items: str, title: str = "Test feed", link: str = "http://example.org/") -> bytes:
    """An RSS 2.0 document around the given <item> elements."""
    body = "".join(items)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>{link}</link><description>d</description>"
        f"{body}</channel></rss>"
    ).encode()


def item(
    title: str,
    *,
    guid: str | None = None,
    link: str | None = None,
    date: str | None = "Mon, 02 Mar 2026 10:00:00 GMT",
    description: str = "",
    extra: str = "",
    permalink: bool = False,
) -> str:
    """An <item> of the given parts, as written (markup in them stays markup). A permalink
    guid is read as a URL, relative to the feed's own."""
    parts = [f"<title>{title}</title>"]
    if guid is not None:
        attribute = "" if permalink else " isPermaLink='false'"
        parts.append(f"<guid{attribute}>{guid}</guid>")
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    if description:
        parts.append(f"<description>{description}</description>")
    return "<item>" + "".join(parts) + extra + "</item>"


def story(guid: str, title: str, summary: str, published: datetime) -> str:
    """A news story as an <item>: text escaped, a permalink guid, linked at
    https://example.org/<guid>."""
    return item(
        escape(title),
        guid=escape(guid),
        permalink=True,
        link=f"https://example.org/{escape(guid)}",
        date=format_datetime(published),
        description=escape(summary),
    )


def write_config(
    folder: Path,
    feeds: dict[str, str],
    *,
    rules: Path | None = None,
    channels: str = CONSOLE,
    interval: str = "10m",
    defaults: str = "",
    state: str = 'path = "state.db"',
    name: str = "config.toml",
) -> Path:
    """folder/name for tests: JSON logs, backfill all, fast timeouts, each feed tagged with
    its name up to the first '-'. Without `rules`, a one-rule folder (RULES) beside it."""
    path = folder / name
    path.write_text(
        f'[state]\n{state}\n\n[defaults]\ninterval = "{interval}"\nbackfill = "all"\n'
        'connect_timeout = "2s"\nread_timeout = "5s"\ntotal_timeout = "10s"\n'
        f'max_backoff = "6h"\n{defaults}\n'
        f'[rules]\npaths = ["{rules or _one_rule(folder)}"]\n\n'
        '[logging]\nformat = "json"\nlevel = "info"\n\n'
        f"{_feed_tables(feeds)}{channels}",
        encoding="utf-8",
    )
    return path


def _one_rule(folder: Path) -> Path:
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "test.toml").write_text(RULES, encoding="utf-8")
    return folder / "rules"


def _feed_tables(feeds: dict[str, str]) -> str:
    return "".join(
        f'[[feeds]]\nname = "{n}"\nurl = "{u}"\ntags = ["{n.split("-")[0]}"]\njitter = "0s"\n\n'
        for n, u in feeds.items()
    )
