"""The console's people and machines: users with password hashes, API tokens, sign-in sessions.

The store keeps only hashes (Argon2 for passwords, SHA-256 of high-entropy token and session
secrets, both made by monitor.web.auth); what a hash means and who may do what is decided
outside. A session lives only while its user does, and is read as that user's current role.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from monitor.store.serialize import at, from_ts, ts

if TYPE_CHECKING:  # monitor.store imports this module for Person: no cycle at run time
    from monitor.store import Tx


@dataclass(frozen=True)
class Person:
    """A user or an API token as the console sees it. `password_hash` is filled only by
    `user()`, for verification; it never shows in a repr (and so in no log line)."""

    name: str
    role: str
    created: datetime
    last_used: datetime | None = None
    password_hash: str = field(default="", repr=False)


class PeopleStore(Protocol):
    """What the console's sign-in, API authentication and `monitor user|token` need."""

    def add_user(self, name: str, role: str, password_hash: str, now: datetime) -> bool: ...
    def set_password(self, name: str, password_hash: str) -> bool: ...
    def remove_user(self, name: str) -> bool: ...
    def users(self) -> list[Person]: ...
    def user(self, name: str) -> Person | None: ...
    def user_count(self) -> int: ...
    def add_token(self, name: str, role: str, token_hash: str, now: datetime) -> bool: ...
    def tokens(self) -> list[Person]: ...
    def revoke_token(self, name: str) -> bool: ...
    def token_by_hash(self, token_hash: str, now: datetime) -> Person | None: ...
    def create_session(
        self, id_hash: str, user_name: str, csrf: str, now: datetime, expires: datetime
    ) -> None: ...
    def session(self, id_hash: str, now: datetime) -> tuple[Person, str] | None: ...
    def drop_session(self, id_hash: str) -> None: ...
    def prune_sessions(self, now: datetime) -> int: ...


class PeopleSql:
    """The people SQL both engines share (SqlStore inherits it)."""

    def _tx(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    # -- users -------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str, now: datetime) -> bool:
        """False when a user of that name exists (nothing is changed then)."""
        with self._tx() as tx:
            return (
                tx.x(
                    "INSERT INTO users (name, role, password_hash, created) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (name) DO NOTHING",
                    (name, role, password_hash, ts(now)),
                )
                == 1
            )

    def set_password(self, name: str, password_hash: str) -> bool:
        """Replace a user's hash and end every session of theirs: a session taken with the
        old password must not outlive the change. False when there is no such user."""
        with self._tx() as tx:
            changed = tx.x(
                "UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name)
            )
            tx.x("DELETE FROM sessions WHERE user_name = ?", (name,))
        return changed == 1

    def remove_user(self, name: str) -> bool:
        """Forget the user and end their sessions; False when there is no such user."""
        with self._tx() as tx:
            tx.x("DELETE FROM sessions WHERE user_name = ?", (name,))
            return tx.x("DELETE FROM users WHERE name = ?", (name,)) == 1

    def users(self) -> list[Person]:
        with self._tx() as tx:
            rows = tx.q("SELECT name, role, created FROM users ORDER BY name")
        return [Person(r[0], r[1], at(r[2])) for r in rows]

    def user(self, name: str) -> Person | None:
        """The user with their password hash, to verify a sign-in; None when unknown."""
        with self._tx() as tx:
            rows = tx.q(
                "SELECT name, role, created, password_hash FROM users WHERE name = ?", (name,)
            )
        return (
            Person(rows[0][0], rows[0][1], at(rows[0][2]), password_hash=rows[0][3])
            if rows
            else None
        )

    def user_count(self) -> int:
        with self._tx() as tx:
            return int(tx.q("SELECT COUNT(*) FROM users")[0][0])

    # -- API tokens --------------------------------------------------------------------
    def add_token(self, name: str, role: str, token_hash: str, now: datetime) -> bool:
        """False when a token of that name exists (nothing is changed then)."""
        with self._tx() as tx:
            return (
                tx.x(
                    "INSERT INTO tokens (name, role, token_hash, created) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (name, role, token_hash, ts(now)),
                )
                == 1
            )

    def tokens(self) -> list[Person]:
        """Every token's name, role and times; never its hash."""
        with self._tx() as tx:
            rows = tx.q("SELECT name, role, created, last_used FROM tokens ORDER BY name")
        return [_token(r) for r in rows]

    def revoke_token(self, name: str) -> bool:
        with self._tx() as tx:
            return tx.x("DELETE FROM tokens WHERE name = ?", (name,)) == 1

    def token_by_hash(self, token_hash: str, now: datetime) -> Person | None:
        """The token whose secret hashes to `token_hash`, its use recorded at `now`."""
        with self._tx() as tx:
            tx.x("UPDATE tokens SET last_used = ? WHERE token_hash = ?", (ts(now), token_hash))
            rows = tx.q(
                "SELECT name, role, created, last_used FROM tokens WHERE token_hash = ?",
                (token_hash,),
            )
        return _token(rows[0]) if rows else None

    # -- sign-in sessions --------------------------------------------------------------
    def create_session(
        self, id_hash: str, user_name: str, csrf: str, now: datetime, expires: datetime
    ) -> None:
        with self._tx() as tx:
            tx.x(
                "INSERT INTO sessions (id_hash, user_name, csrf, created, expires) "
                "VALUES (?, ?, ?, ?, ?)",
                (id_hash, user_name, csrf, ts(now), ts(expires)),
            )

    def session(self, id_hash: str, now: datetime) -> tuple[Person, str] | None:
        """The session's user (with the role they hold now) and its CSRF token; None when
        the session is unknown, has expired, or its user is gone."""
        with self._tx() as tx:
            rows = tx.q(
                "SELECT u.name, u.role, u.created, s.csrf FROM sessions s "
                "JOIN users u ON u.name = s.user_name WHERE s.id_hash = ? AND s.expires > ?",
                (id_hash, ts(now)),
            )
        return (Person(rows[0][0], rows[0][1], at(rows[0][2])), rows[0][3]) if rows else None

    def drop_session(self, id_hash: str) -> None:
        with self._tx() as tx:
            tx.x("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

    def prune_sessions(self, now: datetime) -> int:
        """Forget expired sessions; returns how many."""
        with self._tx() as tx:
            return tx.x("DELETE FROM sessions WHERE expires <= ?", (ts(now),))


def _token(row: tuple[Any, ...]) -> Person:
    return Person(row[0], row[1], at(row[2]), last_used=from_ts(row[3]))
