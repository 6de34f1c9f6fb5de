"""EDGE: the console's routing: who is asking (bearer token, session cookie, feed token),
whether their role and CSRF token allow it, and every refusal as the API or a page says it."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.config.load import Config
from monitor.errors import FieldError
from monitor.model import utcnow
from monitor.store import Store
from monitor.web import auth
from monitor.web.http import Request, Response

SESSION_COOKIE = "monitor_session"
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Who:
    """Who a request comes from: a signed-in person (with the session's CSRF token) or a
    machine's token."""

    name: str
    role: str
    kind: str  # user | token
    csrf: str = ""


class Refused(Exception):
    """An answer other than the handler's own: 401, 403, 404, 409, 429 with a reason."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass
class Console:
    """Everything a handler needs: the store, the live config, the clock, sign-in limits."""

    store: Store
    config: Callable[[], Config]
    now: Clock = utcnow
    limiter: auth.SignInLimiter | None = None
    secure_cookies: bool = False

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = auth.SignInLimiter(self.now)


Handler = Callable[..., Response]  # (console, request, who, **path parameters)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    role: str | None  # None: anyone (sign-in, the stylesheet)
    api: bool  # refusals as JSON (else as pages)
    query_token: bool = False  # ?token= accepted (feed readers cannot send headers)


def route(
    method: str, path: str, role: str | None, *, api: bool, query_token: bool = False
) -> Callable[[Handler], Route]:
    """`/alerts/{id}` -> a route whose handler gets `id=`; a decorator for handler modules."""
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")

    def make(handler: Handler) -> Route:
        return Route(method, pattern, handler, role, api, query_token)

    return make


def no_alert(alert_id: str) -> Refused:
    return Refused(404, f"no alert {alert_id[:80]}")


def json_answer(status: int, data: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=1).encode()
    return Response(status, body, "application/json; charset=utf-8", list(headers))


def refusal(status: int, message: str, field: str | None = None) -> Response:
    return json_answer(status, {"error": message, "field": field})


def redirect(location: str, headers: Sequence[tuple[str, str]] = ()) -> Response:
    return Response(303, b"", "text/plain; charset=utf-8", [("Location", location), *headers])


class App:
    """The WSGI-like callable the HTTP edge serves: Request -> Response."""

    def __init__(self, console: Console, routes: Sequence[Route], page_refusal: Any) -> None:
        self.console = console
        self.routes = list(routes)
        self.page_refusal = page_refusal  # (console, request, Refused) -> Response

    def __call__(self, req: Request) -> Response:
        allowed = False
        for r in self.routes:
            m = r.pattern.match(req.path)
            if m is None:
                continue
            if r.method != req.method:
                allowed = True
                continue
            return self._run(r, req, m.groupdict())
        if allowed:
            return refusal(405, f"{req.method} is not allowed on {req.path[:100]}")
        return self._refused(req.path.startswith("/api/"), req, Refused(404, "no such page"))

    def _run(self, r: Route, req: Request, params: dict[str, str]) -> Response:
        try:
            who = self._who(r, req)
            return r.handler(self.console, req, who, **params)
        except Refused as exc:
            return self._refused(r.api, req, exc)
        except FieldError as exc:
            return self._refused(r.api, req, Refused(400, exc.message, exc.field))

    def _refused(self, api: bool, req: Request, exc: Refused) -> Response:
        if api:
            headers = [("WWW-Authenticate", 'Bearer realm="monitor"')] if exc.status == 401 else []
            return json_answer(exc.status, {"error": exc.message, "field": exc.field}, headers)
        answer: Response = self.page_refusal(self.console, req, exc)
        return answer

    def _who(self, r: Route, req: Request) -> Who | None:
        if r.role is None:
            return self._identify(r, req)
        who = self._identify(r, req)
        if who is None:
            raise Refused(401, "sign in, or send Authorization: Bearer TOKEN")
        if not auth.allows(who.role, r.role):
            raise Refused(403, f"this needs the {r.role} role; {who.name} is {who.role}")
        if req.method in ("POST", "DELETE") and who.kind == "user":
            self._check_csrf(r, req, who)
        return who

    def _identify(self, r: Route, req: Request) -> Who | None:
        store, now = self.console.store, self.console.now()
        header = req.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        in_url = not token and r.query_token
        if in_url:
            token = req.query.get("token", "")
        if token:
            person = store.token_by_hash(auth.digest(token), now)
            if person is None:
                raise Refused(401, "this token is not valid (unknown or revoked)")
            if in_url and person.role != "viewer":
                # a URL ends up in feed readers, proxies and histories: only read-only tokens
                raise Refused(403, "a token in a URL must be a viewer (read-only) token")
            return Who(person.name, person.role, "token")
        cookie = req.cookie(SESSION_COOKIE)
        if cookie:
            found = store.session(auth.digest(cookie), now)
            if found is not None:
                person, csrf = found
                return Who(person.name, person.role, "user", csrf)
        return None

    @staticmethod
    def _check_csrf(r: Route, req: Request, who: Who) -> None:
        # a session cookie rides along on any site's form post: the token proves the page
        given = req.headers.get("x-csrf-token", "") if r.api else req.form().get("csrf_token", "")
        if not given or not hmac.compare_digest(given.encode(), who.csrf.encode()):
            raise Refused(403, "missing or wrong CSRF token; reload the page and try again")
