"""The console's people and machines: users, tokens and sessions in the store (every engine),
passwords, tokens and the sign-in limiter (monitor.web.auth), and `monitor user|token`."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.store import Store, open_store
from monitor.web import auth
from monitor.web.auth import SignInLimiter
from tests.clock import FakeClock
from tests.e2e import MONITOR, REPO, env_with
from tests.factories import T0
from tests.feedfiles import write_config
from tests.stores import ENGINES, open_engine

HOUR = timedelta(hours=1)
PASSWORD = "correct horse battery"


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_engine(request.param, tmp_path, request)


# -- the store, on every engine ---------------------------------------------------------
def test_users_are_added_once_listed_and_removed(store: Store) -> None:
    """A name is taken once; the list shows no hash; user() gives the hash to verify."""
    assert store.user_count() == 0
    assert store.add_user("zoe", "viewer", "hash-z", T0)
    assert store.add_user("amir", "admin", "hash-a", T0 + HOUR)
    assert not store.add_user("zoe", "admin", "other", T0)
    assert [(p.name, p.role, p.created) for p in store.users()] == [
        ("amir", "admin", T0 + HOUR),
        ("zoe", "viewer", T0),
    ]
    assert all(p.password_hash == "" for p in store.users())
    zoe = store.user("zoe")
    assert zoe is not None and zoe.role == "viewer" and zoe.password_hash == "hash-z"
    assert "hash-z" not in repr(zoe)
    assert store.user_count() == 2
    assert store.remove_user("zoe") and not store.remove_user("zoe")
    assert store.user("zoe") is None and store.user_count() == 1


def test_session_gives_user_and_csrf_until_it_expires(store: Store) -> None:
    """A session answers with its user and CSRF token until `expires`; pruning forgets it."""
    store.add_user("amir", "analyst", "h", T0)
    store.create_session("sid-1", "amir", "csrf-1", T0, T0 + HOUR)
    store.create_session("sid-2", "amir", "csrf-2", T0, T0 + 3 * HOUR)
    found = store.session("sid-1", T0 + timedelta(minutes=59))
    assert found is not None
    person, csrf = found
    assert (person.name, person.role, csrf) == ("amir", "analyst", "csrf-1")
    assert person.password_hash == ""
    assert store.session("sid-1", T0 + HOUR) is None
    assert store.session("unknown", T0) is None
    assert store.prune_sessions(T0 + 2 * HOUR) == 1
    assert store.session("sid-2", T0 + 2 * HOUR) is not None
    store.drop_session("sid-2")
    assert store.session("sid-2", T0) is None


def test_removed_user_sessions_stop_working(store: Store) -> None:
    """Removing a user ends their sessions, even if the name is added again later."""
    store.add_user("amir", "admin", "h", T0)
    store.add_user("zoe", "viewer", "h", T0)
    store.create_session("amir-s", "amir", "c", T0, T0 + HOUR)
    store.create_session("zoe-s", "zoe", "c", T0, T0 + HOUR)
    assert store.remove_user("amir")
    store.add_user("amir", "viewer", "h2", T0)
    assert store.session("amir-s", T0) is None
    assert store.session("zoe-s", T0) is not None


def test_new_password_ends_that_users_sessions(store: Store) -> None:
    """set_password replaces the hash and ends the user's sessions, nobody else's."""
    store.add_user("amir", "admin", "old", T0)
    store.add_user("zoe", "viewer", "h", T0)
    store.create_session("amir-s", "amir", "c", T0, T0 + HOUR)
    store.create_session("zoe-s", "zoe", "c", T0, T0 + HOUR)
    assert store.set_password("amir", "new")
    amir = store.user("amir")
    assert amir is not None and amir.password_hash == "new"
    assert store.session("amir-s", T0) is None and store.session("zoe-s", T0) is not None
    assert not store.set_password("nobody", "x")


def test_token_found_by_hash_records_use_and_stops_when_revoked(store: Store) -> None:
    """A token is found by its hash (last_used set), listed without it, and revoked for good."""
    assert store.add_token("ci", "analyst", "digest-ci", T0)
    assert not store.add_token("ci", "admin", "digest-other", T0)
    assert store.tokens()[0].last_used is None
    found = store.token_by_hash("digest-ci", T0 + HOUR)
    assert found is not None and (found.name, found.role) == ("ci", "analyst")
    assert found.last_used == T0 + HOUR
    listed = store.tokens()
    assert [(t.name, t.role, t.created, t.last_used) for t in listed] == [
        ("ci", "analyst", T0, T0 + HOUR)
    ]
    assert listed[0].password_hash == ""
    assert store.token_by_hash("digest-unknown", T0) is None
    assert store.revoke_token("ci") and not store.revoke_token("ci")
    assert store.token_by_hash("digest-ci", T0) is None


# -- passwords, tokens, roles -------------------------------------------------------------
def test_passwords_hash_with_argon2id_and_verify_without_raising() -> None:
    """The hash is Argon2id; a wrong password, a damaged or an empty hash verify False."""
    hashed = auth.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert auth.verify_password(hashed, PASSWORD)
    assert not auth.verify_password(hashed, PASSWORD + "!")
    assert not auth.verify_password("not a hash", PASSWORD)
    assert not auth.verify_password("", PASSWORD)
    assert not auth.needs_rehash(hashed) and auth.needs_rehash("not a hash")


def test_short_password_is_refused_naming_the_rule() -> None:
    with pytest.raises(ValueError, match="at least 8 characters") as caught:
        auth.hash_password("seven77")
    assert "seven77" not in str(caught.value)
    assert auth.check_password("eight888") == "eight888"


def test_roles_are_ordered() -> None:
    """admin may do what an analyst may, who may do what a viewer may; not the reverse."""
    assert auth.allows("admin", "analyst") and auth.allows("analyst", "analyst")
    assert auth.allows("analyst", "viewer") and not auth.allows("viewer", "analyst")
    assert not auth.allows("analyst", "admin") and not auth.allows("root", "viewer")
    with pytest.raises(ValueError, match="unknown role"):
        auth.allows("admin", "superuser")


def test_tokens_and_secrets_are_new_each_time_and_digest_is_sha256() -> None:
    token = auth.new_token()
    assert token.startswith("mon_") and len(token) > 40 and token != auth.new_token()
    assert auth.new_secret() != auth.new_secret()
    assert auth.digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


# -- the sign-in limiter --------------------------------------------------------------
def test_limiter_blocks_a_user_after_five_failures_from_anywhere() -> None:
    """Five failures for one user from five addresses block that user everywhere, for the
    window; another user from the same addresses is not blocked."""
    clock = FakeClock()
    limiter = SignInLimiter(clock)
    for i in range(4):
        limiter.failed("amir", f"10.0.0.{i}")
    assert not limiter.blocked("amir", "10.0.9.9")
    limiter.failed("Amir", "10.0.0.4")
    assert limiter.blocked("amir", "10.0.9.9")
    assert not limiter.blocked("zoe", "10.0.9.9")
    clock.advance(59)
    assert limiter.blocked("amir", "10.0.9.9")
    clock.advance(1)
    assert not limiter.blocked("amir", "10.0.9.9")


def test_limiter_blocks_an_address_after_five_failures_for_any_users() -> None:
    """Five failures from one address, each for another user, block that address for every
    user; other addresses still sign in; the window frees it."""
    clock = FakeClock()
    limiter = SignInLimiter(clock)
    for i in range(5):
        limiter.failed(f"user{i}", "192.0.2.7")
        clock.advance(5)
    assert limiter.blocked("amir", "192.0.2.7")
    assert not limiter.blocked("amir", "192.0.2.8")
    clock.advance(35)  # the first failure is now 60 s old: four left in the window
    assert not limiter.blocked("amir", "192.0.2.7")


def test_success_clears_the_user_but_not_the_address() -> None:
    """A good sign-in resets the user's count; the address guessing at others keeps its own."""
    clock = FakeClock()
    limiter = SignInLimiter(clock)
    for _ in range(5):
        limiter.failed("amir", "192.0.2.7")
    limiter.succeeded("amir", "192.0.2.8")
    assert not limiter.blocked("amir", "192.0.2.8")
    assert limiter.blocked("amir", "192.0.2.7")


def test_limiter_forgets_old_failures_and_holds_a_bounded_number() -> None:
    """Failures older than the window are dropped, and a flood of names stays within max_keys."""
    clock = FakeClock()
    limiter = SignInLimiter(clock, max_keys=100)
    for i in range(1000):
        limiter.failed(f"made-up-{i}", f"198.51.100.{i % 250}")
    assert len(limiter) <= 100
    clock.advance(61)
    limiter.failed("amir", "192.0.2.1")
    assert len(limiter) == 2


def test_limiter_counts_every_failure_under_threads() -> None:
    """Failures recorded from many threads at once are all counted (the lock holds)."""
    clock = FakeClock()
    limiter = SignInLimiter(clock, limit=400)

    def fail() -> None:
        for _ in range(50):
            limiter.failed("amir", "192.0.2.1")

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert limiter.blocked("amir", "192.0.2.9")


# -- the command line, end to end -----------------------------------------------------
def monitor(
    cfg: Path, *args: str, stdin: str = "", tty: bool = True
) -> subprocess.CompletedProcess[str]:
    """`monitor ARGS -c cfg` with `stdin`; tty=False runs it with no controlling terminal,
    so getpass reads its prompts' answers from stdin."""
    return subprocess.run(
        [*MONITOR, *args, "-c", str(cfg)],
        input=stdin,
        env=env_with(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        start_new_session=not tty,
    )


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return write_config(tmp_path, {})


def state_bytes(cfg: Path) -> bytes:
    """Every byte SQLite keeps for the state (the database and its write-ahead log)."""
    return b"".join(p.read_bytes() for p in cfg.parent.glob("state.db*"))


def test_user_add_from_stdin_stores_only_an_argon2_hash(cfg: Path) -> None:
    """--password-stdin adds the user; the state holds an Argon2id hash, never the password."""
    out = monitor(
        cfg, "user", "add", "amir", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert out.returncode == 0, out.stderr
    assert "user amir added (role analyst)" in out.stdout + out.stderr
    store = open_store(str(cfg.parent / "state.db"))
    try:
        amir = store.user("amir")
    finally:
        store.close()
    assert amir is not None and amir.role == "analyst"
    assert amir.password_hash.startswith("$argon2id$")
    assert auth.verify_password(amir.password_hash, PASSWORD)
    assert PASSWORD.encode() not in state_bytes(cfg)
    (row,) = json.loads(monitor(cfg, "user", "list", "--json").stdout)
    assert set(row) == {"name", "role", "created"}
    assert (row["name"], row["role"]) == ("amir", "analyst") and row["created"].endswith("Z")


def test_user_add_refuses_a_taken_name_a_short_password_and_a_bad_role(cfg: Path) -> None:
    """Taken name: exit 1 saying so; short password: exit 1 naming the rule; bad role: 2."""
    first = monitor(
        cfg, "user", "add", "amir", "--role", "admin", "--password-stdin", stdin=PASSWORD
    )
    assert first.returncode == 0, first.stderr
    again = monitor(
        cfg, "user", "add", "amir", "--role", "viewer", "--password-stdin", stdin=PASSWORD
    )
    assert again.returncode == 1 and "amir exists already" in again.stderr
    short = monitor(
        cfg, "user", "add", "zoe", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    assert "short" not in short.stderr  # the rule is named, the password never echoed
    role = monitor(cfg, "user", "add", "zoe", "--role", "boss", "--password-stdin")
    assert role.returncode == 2 and "--role" in role.stderr and "boss" in role.stderr
    names = [u["name"] for u in json.loads(monitor(cfg, "user", "list", "--json").stdout)]
    assert names == ["amir"]


def test_prompted_passwords_must_match(cfg: Path) -> None:
    """Without --password-stdin the password is asked twice; two different answers add
    nobody (exit 1), two equal ones add the user."""
    differ = monitor(
        cfg,
        "user",
        "add",
        "zoe",
        "--role",
        "viewer",
        stdin="first-password\nsecond-password\n",
        tty=False,
    )
    assert differ.returncode == 1 and "differ" in differ.stderr
    assert "first-password" not in differ.stdout + differ.stderr
    same = monitor(
        cfg, "user", "add", "zoe", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n", tty=False
    )
    assert same.returncode == 0, same.stderr
    assert "zoe" in monitor(cfg, "user", "list").stdout


def test_user_passwd_and_remove(cfg: Path) -> None:
    """passwd replaces the password (the old one stops verifying); remove forgets the user
    and exits 1 for a name that is not there."""
    monitor(cfg, "user", "add", "amir", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    changed = monitor(cfg, "user", "passwd", "amir", "--password-stdin", stdin="a new one!\n")
    assert changed.returncode == 0, changed.stderr
    store = open_store(str(cfg.parent / "state.db"))
    try:
        amir = store.user("amir")
        assert amir is not None and auth.verify_password(amir.password_hash, "a new one!")
        assert not auth.verify_password(amir.password_hash, PASSWORD)
    finally:
        store.close()
    assert monitor(cfg, "user", "remove", "amir").returncode == 0
    gone = monitor(cfg, "user", "remove", "amir")
    assert gone.returncode == 1 and "no user amir" in gone.stderr
    assert monitor(cfg, "user", "list", "--json").stdout.strip() == "[]"


def test_token_create_prints_only_the_token_and_stores_its_digest(cfg: Path) -> None:
    """stdout is the token alone; the store finds it by its digest; lists never show it;
    a revoked token is found no more."""
    made = monitor(cfg, "token", "create", "--name", "ci", "--role", "analyst")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mon_")
    token = lines[0]
    store = open_store(str(cfg.parent / "state.db"))
    try:
        found = store.token_by_hash(auth.digest(token), T0)
        assert found is not None and (found.name, found.role) == ("ci", "analyst")
    finally:
        store.close()
    assert token.encode() not in state_bytes(cfg)
    listed = monitor(cfg, "token", "list", "--json")
    assert token not in listed.stdout
    (row,) = json.loads(listed.stdout)
    assert set(row) == {"name", "role", "created", "last_used"} and row["last_used"]
    dup = monitor(cfg, "token", "create", "--name", "ci", "--role", "admin")
    assert dup.returncode == 1 and dup.stdout == "" and "ci exists already" in dup.stderr
    assert monitor(cfg, "token", "revoke", "ci").returncode == 0
    assert monitor(cfg, "token", "revoke", "ci").returncode == 1
    store = open_store(str(cfg.parent / "state.db"))
    try:
        assert store.token_by_hash(auth.digest(token), T0) is None
    finally:
        store.close()
