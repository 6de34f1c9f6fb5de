"""EDGE: what leaves the console as files: alerts as CSV (the list's filters), an Atom feed
for feed readers (a read-only token in the URL), and the analysts' judgements as labels in
the corpus format (title, summary, label, lang, source, note) for retraining the model."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from xml.sax.saxutils import escape, quoteattr

from monitor.alerts import triage
from monitor.channels import render
from monitor.errors import FieldError
from monitor.model import iso
from monitor.model.console import Missed
from monitor.web import views
from monitor.web.api import body
from monitor.web.app import Console, Who, json_answer, route
from monitor.web.http import Request, Response

CSV_MAX = 10_000  # rows in one export; narrow the filters (since/until) for more
CSV_COLUMNS = ("id", "created", "kind", "severity", "state", "assignee", "title", "rules",
               "themes", "countries", "lang", "sources", "link")  # fmt: skip


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # a cell starting with = + - @ is a formula to a spreadsheet: feed text must not run
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@route("GET", "/api/v1/alerts.csv", "viewer", api=True)
def alerts_csv(console: Console, req: Request, who: Who) -> Response:
    f = triage.filters({k: v for k, v in req.query.items() if k != "limit"})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    written = 0
    while written < CSV_MAX:
        page = console.store.list_alerts(f)
        for row in page.rows:
            a = views.alert(row)
            writer.writerow([_cell(v) for v in (
                a["id"], a["created"], a["kind"], a["severity"], a["state"], a["assignee"],
                a["title"], " ".join(a["rules"]), " ".join(a["themes"]),
                " ".join(a["countries"]), a["lang"], len(a["sources"]), a["link"])])  # fmt: skip
        written += len(page.rows)
        if page.after is None:
            break
        f = replace(f, after=page.after)
    headers = [("Content-Disposition", 'attachment; filename="alerts.csv"')]
    return Response(200, out.getvalue().encode(), "text/csv; charset=utf-8", headers)


@route("GET", "/alerts.atom", "viewer", api=True, query_token=True)
def alerts_atom(console: Console, req: Request, who: Who) -> Response:
    query = {k: v for k, v in req.query.items() if k not in ("token", "cursor")}
    page = console.store.list_alerts(triage.filters(query))
    updated = iso(page.rows[0].alert.created) if page.rows else iso(console.now())
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
        "<title>monitor alerts</title><id>urn:monitor:alerts</id>",
        f"<updated>{updated}</updated>",
    ]
    for row in page.rows:
        a = views.alert(row)
        link = f"<link href={quoteattr(a['link'])}/>" if a["link"] else ""
        summary = f"{a['severity']} · {', '.join(a['themes'] or a['rules'])} · {a['summary']}"
        parts.append(
            f"<entry><id>urn:monitor:alert:{escape(a['id'])}</id>"
            f"<title>{escape(a['title'])}</title><updated>{a['created']}</updated>{link}"
            f"<summary>{escape(render.line(summary, render.SUMMARY_MAX))}</summary></entry>"
        )
    parts.append("</feed>\n")
    return Response(200, "\n".join(parts).encode(), "application/atom+xml; charset=utf-8")


@route("POST", "/api/v1/items/{item_key}/missed", "analyst", api=True)
def mark_missed(console: Console, req: Request, who: Who, item_key: str) -> Response:
    data = body(req)
    found = console.store.find_item(item_key)
    title = triage.text(data, "title") or (found.title if found else "")
    if not title:
        raise FieldError("title", "this item is not in the store; give its title (and summary)")
    feed = data.get("feed") or (found.feed if found else "")
    if not isinstance(feed, str):
        raise FieldError("feed", "must be a string")
    link = data.get("link", found.link if found else None)
    if link is not None and (not isinstance(link, str) or not render.safe_link(link)):
        raise FieldError("link", "must be an http(s) address")
    summary = triage.text(data, "summary") or (found.summary if found else "")
    m = Missed(feed, item_key, title, summary, link, triage.text(data, "note"), who.name)
    console.store.mark_missed(m, console.now())
    return json_answer(201, {"item_key": item_key, "feed": feed, "title": title, "label": 1})


def _tsv(value: str | None) -> str:
    return " ".join((value or "").split())  # tabs and newlines would break the row


@route("GET", "/api/v1/labels.tsv", "viewer", api=True)
def labels(console: Console, req: Request, who: Who) -> Response:
    rows = ["title\tsummary\tlabel\tlang\tsource\tnote"]
    for row in console.store.false_positives():
        a = row.alert
        summary = a.item.summary if a.item else a.text
        source = a.item.link if a.item and a.item.link else f"monitor:alert/{a.id}"
        rows.append("\t".join(_tsv(v) for v in (a.title, summary, "0", a.lang, source,
                                                 f"false_positive (alert {a.id})")))  # fmt: skip
    for m in console.store.missed_items():
        source = m.link or f"monitor:item/{m.feed}/{m.item_key}"
        note = f"missed, marked by {m.marked_by}" + (f": {m.note}" if m.note else "")
        rows.append("\t".join(_tsv(v) for v in (m.title, m.summary, "1", "", source, note)))
    return Response(
        200, ("\n".join(rows) + "\n").encode(), "text/tab-separated-values; charset=utf-8"
    )


ROUTES = [alerts_csv, alerts_atom, mark_missed, labels]
