"""EDGE: the console assembled: every route of the API, the exports, sign-in and the pages,
the stylesheet, and the server that serves them."""

from __future__ import annotations

from importlib.resources import files

from monitor.web import admin, api, evidence, exports, finder, forms, pages, screens, signin
from monitor.web.app import App, Console, Route, Who, route
from monitor.web.http import ConsoleServer, Request, Response, serve

STYLE = files("monitor.web").joinpath("static/console.css").read_bytes()


@route("GET", "/static/console.css", None, api=False)
def stylesheet(console: Console, req: Request, who: Who | None) -> Response:
    return Response(200, STYLE, "text/css; charset=utf-8", [("Cache-Control", "max-age=3600")])


ROUTES: list[Route] = [
    *api.ROUTES,
    *finder.ROUTES,
    *admin.ROUTES,
    *exports.ROUTES,
    *evidence.ROUTES,
    *signin.ROUTES,
    *screens.ROUTES,
    *forms.ROUTES,
    stylesheet,
]


def app(console: Console) -> App:
    return App(console, ROUTES, pages.refusal)


def start(listen: str, console: Console) -> ConsoleServer:
    """Serve the console on HOST:PORT in a background thread."""
    return serve(listen, app(console))
