"""EDGE: the console's HTML: Jinja2 templates (autoescaped: feed text is never markup), the
page every refusal shows, and the helpers page handlers share (form checks, paging links)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

import jinja2

from monitor.channels import render as text
from monitor.model import iso
from monitor.web.app import Console, Refused, Who, redirect
from monitor.web.http import Request, Response

HTML = "text/html; charset=utf-8"
TITLES = {400: "Bad input", 403: "Not allowed", 404: "Not found", 405: "Not allowed",
          409: "Conflict", 429: "Too many requests"}  # fmt: skip


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.web", "templates"),
        autoescape=True,  # every {{ }} is HTML-escaped; nothing from a feed is marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["iso"] = lambda m: iso(m) if m else ""
    env.filters["link"] = text.safe_link  # only http(s) links the source gave, else None
    env.filters["qs"] = lambda d: urlencode({k: v for k, v in d.items() if v})
    env.filters["quote"] = lambda s: quote(str(s), safe="")
    env.filters["when"] = when
    return env


def when(value: str | None) -> str:
    """An ISO time of views.py as the pages show it: 2026-11-20 12:00Z (minutes are enough)."""
    return f"{value[:16].replace('T', ' ')}Z" if value and len(value) >= 16 else value or ""


def page(name: str, who: Who | None, status: int = 200, **context: Any) -> Response:
    html = environment().get_template(name).render(who=who, **context)
    return Response(status, html.encode(), HTML)


def refusal(console: Console, req: Request, exc: Refused) -> Response:
    """A refused page: sign-in for 401 (or how to create the first user), else a message."""
    if exc.status == 401:
        if console.store.user_count() == 0:
            return page("setup.html", None, 503)
        return redirect("/login?" + urlencode({"next": local(req.path)}))
    message = f"{exc.field}: {exc.message}" if exc.field else exc.message
    return page("message.html", None, exc.status, title=TITLES.get(exc.status, str(exc.status)),
                message=message)  # fmt: skip


def local(path: str | None) -> str:
    """Only a path of this site: `next=//evil.example` must not send anyone away."""
    return path if path and path.startswith("/") and not path.startswith("//") else "/"
