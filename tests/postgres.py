"""A throw-away Postgres (with pgvector) for tests: `pgserver` ships the server binaries in its wheel.

`pg_server` starts one server per test run in a temporary folder (unix socket only: nothing listens on
the network) and stops it at the end; `pg_url` is a fresh empty database on it for one test;
`store_target` runs a test once on a SQLite file and once on a Postgres database. Tests that need
Postgres skip, saying why, only where the server cannot start (pgserver missing or failing).
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest


class PgServer:
    def __init__(self, server):
        self.server = server

    def url(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def new_database(self) -> str:
        """A fresh, empty database with the vector extension; its postgresql:// URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.server.psql(f"CREATE DATABASE {name};")
        import psycopg

        with psycopg.connect(self.url(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server():
    try:
        import pgserver
        import psycopg  # noqa: F401
    except ImportError as e:
        pytest.skip(f"Postgres tests need pgserver and psycopg (pip install -e '.[postgres,dev]'): {e}")
    # not under pytest's tmp folder: that one is 0700 (pytest resets it), and as root pgserver runs the server
    # as its own unprivileged user, who must be able to reach the data folder
    base = Path(tempfile.mkdtemp(prefix="shopassist-pg-"))
    base.chmod(0o755)
    folder = base / "data"
    try:
        server = pgserver.get_server(folder, cleanup_mode="stop")
        server.psql("SELECT 1;")
    except Exception as e:  # the binaries cannot run here (permissions, shared memory, ...)
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"a throw-away Postgres could not start in {folder}: {type(e).__name__}: {e}")
    yield PgServer(server)
    server.cleanup()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def pg_url(pg_server) -> str:
    return pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path) -> str:
    """Where a SessionStore keeps its data: a SQLite file, or a fresh Postgres database."""
    if request.param == "sqlite":
        return str(tmp_path / "sessions.db")
    return request.getfixturevalue("pg_url")
