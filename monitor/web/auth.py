"""Who may do what in the console, and the secrets behind it: roles, password hashing,
token and session secrets, and the sign-in limiter. No HTTP here, and no store: the
console's handlers and `monitor user|token` put these together."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError

ROLES = ("viewer", "analyst", "admin")  # each role may do everything the one before may
MIN_PASSWORD = 8
TOKEN_PREFIX = "mon_"  # so a leaked token is recognisable to secret scanners and to people
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 defaults


def allows(role: str, needed: str) -> bool:
    """True when `role` is `needed` or above it; an unknown role is allowed nothing."""
    if needed not in ROLES:
        raise ValueError(f"unknown role {needed!r}: one of {', '.join(ROLES)}")
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def check_role(role: str) -> str:
    """The role itself, or ValueError naming the roles there are."""
    if role not in ROLES:
        raise ValueError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    return role


def check_name(name: str, what: str = "name") -> str:
    """A user or token name: 1 to 64 letters, digits, '.', '_', '-' or '@', starting with a
    letter or digit (names show in pages, logs and history; no spaces or control codes)."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"{what}: {name!r} must be 1 to 64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit"
        )
    return name


def check_password(pw: str) -> str:
    """The password itself, or ValueError saying the rule it breaks (never the password)."""
    if len(pw) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters are needed")
    return pw


def hash_password(pw: str) -> str:
    """An Argon2id hash ($argon2id$...) of a password that passes check_password."""
    return _HASHER.hash(check_password(pw))


def verify_password(hashed: str, pw: str) -> bool:
    """Whether `pw` is the password behind `hashed`; False on a wrong password or a damaged
    hash, never an exception. An empty hash (unknown user) costs as much as a real check,
    so the time a sign-in takes does not tell which user names exist."""
    try:
        return _HASHER.verify(hashed or _dummy_hash(), pw) and bool(hashed)
    except (Argon2Error, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """True when a stored hash was made with weaker parameters than today's (or is damaged):
    re-hash the password at the next successful sign-in."""
    try:
        return _HASHER.check_needs_rehash(hashed)
    except (Argon2Error, InvalidHashError, ValueError):
        return True


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(new_secret())


def new_secret() -> str:
    """A random secret for a session id or a CSRF token (256 bits)."""
    return secrets.token_urlsafe(32)


def new_token() -> str:
    """A new API token, shown once to whoever made it; the store keeps only its digest."""
    return TOKEN_PREFIX + new_secret()


def digest(secret: str) -> str:
    """SHA-256 hex of a token or session id, as the store keeps it. A fast hash is right
    here, unlike for passwords: these secrets carry 256 random bits, so no guessing can
    walk back from the digest, and a fast hash lets every request look one up by it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class SignInLimiter:
    """Failed sign-ins counted per user name and per client address, in memory.

    A user or an address with `limit` failures within `window` seconds is blocked until the
    oldest of those leaves the window. Only the last `limit` failures of a key are kept, and
    keys with no failure in the window are forgotten (at most `max_keys` are held, the oldest
    dropped first), so a flood of made-up names cannot grow memory. Thread-safe."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        limit: int = 5,
        window: float = 60.0,
        max_keys: int = 10_000,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"limiter: limit {limit} and window {window} must be above 0")
        self._clock, self._limit, self._window, self._max = clock, limit, window, max_keys
        self._fails: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, user: str, address: str) -> bool:
        now = self._clock().timestamp()
        with self._lock:
            return any(self._full(key, now) for key in _keys(user, address))

    def failed(self, user: str, address: str) -> None:
        now = self._clock().timestamp()
        with self._lock:
            for key in _keys(user, address):
                times = self._fails.pop(key, None) or deque(maxlen=self._limit)
                times.append(now)
                self._fails[key] = times  # to the end: the dict stays in last-failure order
            self._forget(now)

    def succeeded(self, user: str, address: str) -> None:
        """Clear the user's failures. The address keeps its own: one good account must not
        reset the count of an address guessing at others."""
        with self._lock:
            self._fails.pop(_keys(user, address)[0], None)

    def __len__(self) -> int:
        """How many users and addresses have failures held (what the memory bound is on)."""
        with self._lock:
            return len(self._fails)

    def _full(self, key: tuple[str, str], now: float) -> bool:
        times = self._fails.get(key)
        return times is not None and len(times) >= self._limit and now - times[0] < self._window

    def _forget(self, now: float) -> None:
        while self._fails:
            key, times = next(iter(self._fails.items()))
            if now - times[-1] < self._window and len(self._fails) <= self._max:
                return
            del self._fails[key]


def _keys(user: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
    # case-folded: "Admin" and "admin" are one target to someone guessing passwords
    return ("user", user.casefold()), ("address", address)
