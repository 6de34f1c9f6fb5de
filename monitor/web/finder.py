"""EDGE: the item search in the console: GET /api/v1/items and the /search page, over every
item kept for the retention period (alerted or not). The query's rules: alerts/search.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from monitor.alerts import search
from monitor.channels.render import safe_link
from monitor.errors import FieldError
from monitor.model import iso
from monitor.model.search import ItemPage, Kept
from monitor.web.app import Console, Route, Who, json_answer, route
from monitor.web.http import Request, Response
from monitor.web.pages import page

SEARCH_FILTERS = ("q", "since", "until", "feed", "country", "lang")


def item(k: Kept) -> dict[str, Any]:
    """One kept item as the API gives it (the link only when it is a plain http(s) URL)."""
    return {
        "key": k.key,
        "title": k.title,
        "summary": k.summary,
        "link": safe_link(k.link),
        "feed": k.feed,
        "published": iso(k.published),
        "seen": iso(k.seen),
        "lang": k.lang,
        "countries": list(k.countries),
        "score": k.score,
        "alert_id": k.alert_id,
    }


def _found(console: Console, params: Mapping[str, str]) -> ItemPage:
    return console.store.search_items(search.query(params, console.now()))


@route("GET", "/api/v1/items", "viewer", api=True)
def list_items(console: Console, req: Request, who: Who) -> Response:
    found = _found(console, req.query)
    nxt = str(found.after) if found.after is not None else None
    return json_answer(200, {"items": [item(k) for k in found.rows], "next": nxt})


def _next_url(query: Mapping[str, str], found: ItemPage) -> str | None:
    if found.after is None:
        return None
    kept = {k: query[k] for k in SEARCH_FILTERS if query.get(k)}
    return "/search?" + urlencode({**kept, "cursor": found.after})


@route("GET", "/search", "viewer", api=False)
def search_page(console: Console, req: Request, who: Who) -> Response:
    shown = {k: req.query.get(k, "") for k in SEARCH_FILTERS}
    first = "cursor" not in req.query
    try:
        found = _found(console, req.query)
    except FieldError as exc:
        return page("search.html", who, 400, error=exc, filters=shown, rows=[], next_url=None,
                    first=first)  # fmt: skip
    return page("search.html", who, error=None, filters=shown,
                rows=[item(k) for k in found.rows], next_url=_next_url(req.query, found),
                first=first)  # fmt: skip


ROUTES: list[Route] = [list_items, search_page]
