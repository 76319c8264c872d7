"""A throwaway PostgreSQL cluster for the tests: initdb as an unprivileged user, a unix socket in a temporary
folder, no TCP, stopped when the session ends. Each test that asks gets a database of its own.

Debian's `postgresql` package gives the server (CI installs it, see .ci/run). Without it a developer's run
skips the cluster tests, saying why; under CI=true a missing server fails them instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
# Who runs the server when the tests run as root (PostgreSQL refuses root): Debian's own user when the
# package made it, else nobody.
SERVER_USERS = ("postgres", "nobody")


@dataclass(frozen=True)
class PgCluster:
    socket_dir: Path
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}"

    def new_database(self) -> str:
        import psycopg

        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}".encode())
        return self.url(name)


def _bin() -> Path | None:
    for folder in PG_BINS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    return argv if user is None else ["runuser", "-u", user, "--", *argv]


@pytest.fixture(scope="session")
def postgres() -> Generator[PgCluster]:
    folder = _bin()
    if folder is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed, and CI must run the cluster tests (.ci/run installs it)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql): the cluster tests need it")
    run_as: str | None = None
    if os.geteuid() == 0:
        run_as = next(u for u in SERVER_USERS if _has_user(u))
    root = Path(tempfile.mkdtemp(prefix="akool-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    (root / "server.log").touch()
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        root.chmod(0o755)
        for path in (root, sockets, root / "server.log"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    db_user = "akool"
    subprocess.run(
        _as_user(run_as, [str(folder / "initdb"), "-D", str(data), "-U", db_user, "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-c listen_addresses='' -k {sockets} -c fsync=off -c synchronous_commit=off -c max_connections=300"
    log = root / "server.log"
    # The server's output goes to its log file: a pipe would stay open as long as the server runs.
    subprocess.run(
        _as_user(
            run_as, [str(folder / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]
        ),
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    sockets.chmod(0o777)  # the tests' own processes (root or not) connect through the socket
    try:
        yield PgCluster(sockets, db_user)
    finally:
        subprocess.run(
            _as_user(run_as, [str(folder / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def _has_user(name: str) -> bool:
    with contextlib.suppress(KeyError):
        pwd.getpwnam(name)
        return True
    return False


@pytest.fixture
def database(postgres: PgCluster) -> str:
    """A new, empty database (no schema) for one test."""
    return postgres.new_database()


@pytest.fixture
def migrated(database: str) -> str:
    """A new database with every migration applied."""
    from akool_mcp.migrations import migrate

    migrate(database)
    return database
