"""EDGE: signing in and out: the login form with its own CSRF cookie (no session exists yet),
the sign-in limit (5 failures a minute per user or address: 429), session cookies."""

from __future__ import annotations

import hmac
from datetime import timedelta

from monitor.web import auth
from monitor.web.app import SESSION_COOKIE, Console, Refused, Who, redirect, route
from monitor.web.http import Request, Response
from monitor.web.pages import local, page

SESSION_DAYS = 7
LOGIN_CSRF_COOKIE = "monitor_login_csrf"


def _cookie(console: Console, req: Request, name: str, value: str, max_age: int) -> str:
    secure = "; Secure" if console.secure_cookies or req.https else ""
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"


def _form(console: Console, req: Request, error: str = "", status: int = 200) -> Response:
    if console.store.user_count() == 0:
        return page("setup.html", None, 503)
    token = auth.new_secret()
    form = req.form() if req.body else {}
    answer = page("login.html", None, status, csrf_token=token, error=error,
                  next=local(form.get("next") or req.query.get("next")),
                  username=form.get("username", ""))  # fmt: skip
    cookie = _cookie(console, req, LOGIN_CSRF_COOKIE, token, 3600)
    answer.headers.append(("Set-Cookie", cookie))
    return answer


@route("GET", "/login", None, api=False)
def login_form(console: Console, req: Request, who: Who | None) -> Response:
    return _form(console, req)


@route("POST", "/login", None, api=False)
def login(console: Console, req: Request, who: Who | None) -> Response:
    form = req.form()
    expected = req.cookie(LOGIN_CSRF_COOKIE) or ""
    given = form.get("csrf_token", "")
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused(403, "missing or wrong CSRF token; reload the sign-in page and try again")
    name, password = form.get("username", "").strip(), form.get("password", "")
    limiter = console.limiter
    assert limiter is not None
    if limiter.blocked(name, req.address):
        return _form(console, req, "Too many failed sign-ins; wait a minute.", 429)
    person = console.store.user(name) if name else None
    if person is None or not auth.verify_password(person.password_hash, password):
        limiter.failed(name, req.address)
        return _form(console, req, "Wrong username or password.", 401)
    limiter.succeeded(name, req.address)
    secret, now = auth.new_secret(), console.now()
    console.store.create_session(auth.digest(secret), person.name, auth.new_secret(), now,
                                 now + timedelta(days=SESSION_DAYS))  # fmt: skip
    cookie = _cookie(console, req, SESSION_COOKIE, secret, SESSION_DAYS * 86400)
    gone = _cookie(console, req, LOGIN_CSRF_COOKIE, "", 0)
    return redirect(local(form.get("next")), [("Set-Cookie", cookie), ("Set-Cookie", gone)])


@route("GET", "/logout", "viewer", api=False)
def logout_form(console: Console, req: Request, who: Who) -> Response:
    return page("logout.html", who, csrf_token=who.csrf if who.kind == "user" else "")


@route("POST", "/logout", "viewer", api=False)
def logout(console: Console, req: Request, who: Who) -> Response:
    cookie = req.cookie(SESSION_COOKIE)
    if cookie:
        console.store.drop_session(auth.digest(cookie))
    return redirect("/login", [("Set-Cookie", _cookie(console, req, SESSION_COOKIE, "", 0))])


ROUTES = [login_form, login, logout_form, logout]
