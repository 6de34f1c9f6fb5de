"""EDGE: what only an admin does in the API: people and machines (the same rules as `monitor
user` and `monitor token`: names, roles, Argon2id passwords, a token shown once)."""

from __future__ import annotations

from typing import Any

from monitor.errors import FieldError
from monitor.model import iso
from monitor.store.people import Person
from monitor.web import auth
from monitor.web.api import body
from monitor.web.app import Console, Refused, Who, json_answer, route
from monitor.web.http import Request, Response


def _person(p: Person) -> dict[str, Any]:
    used = {"last_used": iso(p.last_used) if p.last_used else None}
    return {"name": p.name, "role": p.role, "created": iso(p.created), **used}


def _checked(data: dict[str, Any], key: str, check: Any) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise FieldError(key, "missing; a string is needed")
    try:
        result: str = check(value)
    except ValueError as exc:
        raise FieldError(key, str(exc).split(": ", 1)[-1]) from None
    return result


@route("GET", "/api/v1/users", "admin", api=True)
def users(console: Console, req: Request, who: Who) -> Response:
    found = [
        {k: v for k, v in _person(p).items() if k != "last_used"} for p in console.store.users()
    ]
    return json_answer(200, {"users": found})


@route("POST", "/api/v1/users", "admin", api=True)
def add_user(console: Console, req: Request, who: Who) -> Response:
    data = body(req)
    name = _checked(data, "name", auth.check_name)
    role = _checked(data, "role", auth.check_role)
    hashed = auth.hash_password(_checked(data, "password", auth.check_password))
    if not console.store.add_user(name, role, hashed, console.now()):
        raise Refused(409, f"a user {name} exists already", "name")
    return json_answer(201, {"name": name, "role": role, "created": iso(console.now())})


@route("DELETE", "/api/v1/users/{name}", "admin", api=True)
def remove_user(console: Console, req: Request, who: Who, name: str) -> Response:
    if name == who.name:
        raise Refused(409, "you cannot remove yourself; another admin can", "name")
    if not console.store.remove_user(name):
        raise Refused(404, f"no user {name[:64]}")
    return json_answer(200, {"removed": name})


@route("GET", "/api/v1/tokens", "admin", api=True)
def tokens(console: Console, req: Request, who: Who) -> Response:
    return json_answer(200, {"tokens": [_person(p) for p in console.store.tokens()]})


@route("POST", "/api/v1/tokens", "admin", api=True)
def create_token(console: Console, req: Request, who: Who) -> Response:
    data = body(req)
    name = _checked(data, "name", auth.check_name)
    role = _checked(data, "role", auth.check_role)
    token = auth.new_token()
    if not console.store.add_token(name, role, auth.digest(token), console.now()):
        raise Refused(409, f"a token {name} exists already", "name")
    # the only time the token is shown: the store keeps its digest
    return json_answer(201, {"name": name, "role": role, "token": token})


@route("DELETE", "/api/v1/tokens/{name}", "admin", api=True)
def revoke_token(console: Console, req: Request, who: Who, name: str) -> Response:
    if not console.store.revoke_token(name):
        raise Refused(404, f"no token {name[:64]}")
    return json_answer(200, {"revoked": name})


ROUTES = [users, add_user, remove_user, tokens, create_token, revoke_token]
