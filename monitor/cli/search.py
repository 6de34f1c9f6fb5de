"""`monitor search QUERY`: every item kept for the retention period (alerted or not), newest
first; a table for people, or JSON lines (one item per line, the API's fields) for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from dataclasses import replace
from typing import Any

from monitor.alerts import search
from monitor.channels import CHANNELS
from monitor.cli.common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, Subparsers, add, config_path
from monitor.config.load import load_config
from monitor.errors import FieldError
from monitor.model import utcnow
from monitor.model.search import ItemQuery, Kept
from monitor.service import runtime
from monitor.store import Store
from monitor.web.finder import item

LIMIT_MAX = 10_000


def register(sub: Subparsers) -> None:
    c = add(sub, "search", "search every item kept (alerted or not), newest first", cmd)
    c.add_argument("query", metavar="QUERY", help='words (all must be there), "a phrase"')
    c.add_argument("--since", default="", help="seen since: a duration back (30d) or a time")
    c.add_argument("--until", default="", help="seen before: a duration back or a time")
    c.add_argument("--feed", default="", help="only this feed (its name in the config)")
    c.add_argument("--country", default="", help="only items naming this country (SD)")
    c.add_argument("--lang", default="", help="only items in this language (ISO 639-1: ar)")
    c.add_argument("--limit", type=int, default=50, help=f"at most N items (up to {LIMIT_MAX})")
    c.add_argument("--json", action="store_true", help="JSON lines: one item per line")


def cmd(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= LIMIT_MAX:
        print(f"limit: must be a whole number from 1 to {LIMIT_MAX}", file=sys.stderr)
        return EXIT_CONFIG
    params = {k: getattr(args, k) for k in ("since", "until", "feed", "country", "lang")}
    try:
        q = search.query({**params, "q": args.query}, utcnow())
    except FieldError as exc:
        print(f"{exc.field}: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    config = load_config(config_path(args), channel_types=CHANNELS, secrets=False)
    with closing(runtime.store_of(config, create=False)) as store:
        found = collect(store, q, args.limit)
    for line in (
        (json.dumps(item(k), ensure_ascii=False) for k in found) if args.json else table(found)
    ):
        print(line)
    return EXIT_OK if found else EXIT_FAIL


def collect(store: Store, q: ItemQuery, limit: int) -> list[Kept]:
    """Up to `limit` items, page after page."""
    out: list[Kept] = []
    while len(out) < limit:
        page = store.search_items(replace(q, limit=min(q.limit, limit - len(out))))
        out += page.rows
        if page.after is None:
            break
        q = replace(q, after=page.after)
    return out


def table(found: list[Kept]) -> list[str]:
    if not found:
        return ["no item matches"]
    lines = [f"{'SEEN':<17} {'FEED':<16} {'COUNTRIES':<9} {'SCORE':>5}  TITLE"]
    for k in found:
        lines.append(_line(item(k)))
    lines.append(f"{len(found)} item{'s' if len(found) != 1 else ''}")
    return lines


def _line(i: dict[str, Any]) -> str:
    score = f"{i['score']:.2f}" if i["score"] is not None else "-"
    seen = i["seen"][:16].replace("T", " ")
    title = i["title"][:90] + (f"  {i['link']}" if i["link"] else "")
    flag = " [alert]" if i["alert_id"] else ""
    countries = ",".join(i["countries"])[:9]
    return f"{seen:<17} {i['feed'][:16]:<16} {countries:<9} {score:>5}  {title}{flag}"
