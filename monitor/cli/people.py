"""`monitor user add|list|remove|passwd` and `monitor token create|list|revoke`: the console's
people and machines. Passwords are read from stdin or a prompt, never from the command line
(where `ps` and shell history would keep them); a token is printed once and stored hashed."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from contextlib import closing
from typing import Any

from monitor import log
from monitor.channels import CHANNELS
from monitor.cli.common import (
    EXIT_CONFIG,
    EXIT_FAIL,
    EXIT_OK,
    Command,
    Subparsers,
    add,
    config_path,
)
from monitor.config.load import load_config
from monitor.model import iso, utcnow
from monitor.service import runtime
from monitor.store import Person, Store
from monitor.web import auth


def register(sub: Subparsers) -> None:
    user = _group(sub, "user", "the console's users: add, list, remove, passwd")
    c = add(
        user, "add", "add a console user (password from a prompt or --password-stdin)", add_user
    )
    c.add_argument("name", type=_name("user name"), metavar="NAME")
    _role_option(c)
    _password_option(c)
    c = add(user, "list", "list the console's users: name, role, created", list_users)
    c.add_argument("--json", action="store_true", help="a JSON array for scripts")
    c = add(user, "remove", "remove a user and end their sessions", remove_user)
    c.add_argument("name", metavar="NAME")
    c = add(user, "passwd", "set a user's password (ends their sessions)", set_password)
    c.add_argument("name", metavar="NAME")
    _password_option(c)
    token = _group(sub, "token", "API tokens for machines: create, list, revoke")
    c = add(token, "create", "create an API token and print it once", create_token)
    c.add_argument("--name", required=True, type=_name("token name"), metavar="NAME")
    _role_option(c)
    c = add(token, "list", "list API tokens: name, role, created, last used", list_tokens)
    c.add_argument("--json", action="store_true", help="a JSON array for scripts")
    c = add(token, "revoke", "revoke an API token: it stops working at once", revoke_token)
    c.add_argument("name", metavar="NAME")


# -- users ---------------------------------------------------------------------------
def add_user(args: argparse.Namespace) -> int:
    """Exit 0 with `user NAME added (role ROLE)`; 1 if the name is taken or the password
    breaks the rule."""
    with _store(args) as store:
        if store.user(args.name):
            return _fail(f"user {args.name} exists already; `monitor user passwd` changes it")
        hashed = _hashed_password(args)
        if hashed is None:
            return EXIT_FAIL
        if not store.add_user(args.name, args.role, hashed, utcnow()):
            return _fail(f"user {args.name} exists already")
    print(f"user {args.name} added (role {args.role})")
    return EXIT_OK


def list_users(args: argparse.Namespace) -> int:
    with _store(args, create=False) as store:
        people = store.users()
    _show(people, args.json, tokens=False)
    return EXIT_OK


def remove_user(args: argparse.Namespace) -> int:
    with _store(args, create=False) as store:
        if not store.remove_user(args.name):
            return _fail(f"no user {args.name}")
    print(f"user {args.name} removed")
    return EXIT_OK


def set_password(args: argparse.Namespace) -> int:
    with _store(args, create=False) as store:
        if not store.user(args.name):
            return _fail(f"no user {args.name}")
        hashed = _hashed_password(args)
        if hashed is None:
            return EXIT_FAIL
        if not store.set_password(args.name, hashed):
            return _fail(f"no user {args.name}")
    print(f"password of user {args.name} changed; their sessions ended")
    return EXIT_OK


# -- tokens --------------------------------------------------------------------------
def create_token(args: argparse.Namespace) -> int:
    """The token alone on stdout (for `$(monitor token create ...)`); the rest on stderr."""
    secret = auth.new_token()
    with _store(args) as store:
        if not store.add_token(args.name, args.role, auth.digest(secret), utcnow()):
            return _fail(f"token {args.name} exists already; revoke it first or pick a name")
    print(secret)
    print(f"token {args.name} created (role {args.role}); it is shown only now", file=sys.stderr)
    return EXIT_OK


def list_tokens(args: argparse.Namespace) -> int:
    with _store(args, create=False) as store:
        people = store.tokens()
    _show(people, args.json, tokens=True)
    return EXIT_OK


def revoke_token(args: argparse.Namespace) -> int:
    with _store(args, create=False) as store:
        if not store.revoke_token(args.name):
            return _fail(f"no token {args.name}")
    print(f"token {args.name} revoked")
    return EXIT_OK


# -- shared parts --------------------------------------------------------------------
def _group(sub: Subparsers, name: str, help_: str) -> Subparsers:
    p = sub.add_parser(name, help=help_, description=help_)
    p.set_defaults(func=_help_of(p))
    return p.add_subparsers(metavar="ACTION")


def _help_of(p: argparse.ArgumentParser) -> Command:
    def show(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return EXIT_CONFIG

    return show


def _name(what: str) -> Any:
    def parse(text: str) -> str:
        try:
            return auth.check_name(text, what)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _role_option(c: argparse.ArgumentParser) -> None:
    c.add_argument("--role", required=True, choices=auth.ROLES, help="what it may do")


def _password_option(c: argparse.ArgumentParser) -> None:
    c.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of prompting",
    )


def _hashed_password(args: argparse.Namespace) -> str | None:
    """The Argon2 hash of the password read, or None after saying what was wrong."""
    if args.password_stdin:
        pw = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        pw = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != pw:
            _fail("the two passwords differ; nothing was changed")
            return None
    try:
        return auth.hash_password(pw)
    except ValueError as exc:
        _fail(str(exc))
        return None


def _store(args: argparse.Namespace, *, create: bool = True) -> closing[Store]:
    """The configured store, closed after the command. Only [state] is read: no rules, and
    no channel secrets."""
    config = load_config(config_path(args), channel_types=CHANNELS, secrets=False)
    log.set_secrets(config.secrets())
    return closing(runtime.store_of(config, create=create))


def _show(people: list[Person], as_json: bool, *, tokens: bool) -> None:
    rows = [_row(p, tokens) for p in people]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        print("none yet", file=sys.stderr)
    cells = [[str(v or "-") for v in r.values()] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))] if cells else []
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())


def _row(p: Person, tokens: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"name": p.name, "role": p.role, "created": iso(p.created)}
    if tokens:
        row["last_used"] = iso(p.last_used) if p.last_used else None
    return row


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_FAIL
