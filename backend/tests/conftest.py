"""Fixtures: every test gets a fresh, migrated database on SQLite and on a real PostgreSQL server.

The PostgreSQL server is a throwaway instance started for the session (see pg_instance.py), or the server
named by TEST_POSTGRES_URL (a URL to a database we may CREATE DATABASE from).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from backend import schema
from backend.database import make_engine
from backend.tests.pg_instance import PostgresInstance

# Our own tests use the seeded-database fixture an app would use (seeded_db_url, chat_seed marker).
pytest_plugins = ["backend.testing.pytest_plugin"]

BACKENDS = ("sqlite", "postgresql")
TEMPLATE_DB = "chat_template"
_db_counter = itertools.count(1)


class PostgresServer:
    """Creates and drops databases on one server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def url(self, dbname: str) -> str:
        return make_url(self.admin_url).set(database=dbname).render_as_string(hide_password=False)

    def create(self, dbname: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{dbname}"{clause}'))
        return self.url(dbname)

    def drop(self, dbname: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    external = os.environ.get("TEST_POSTGRES_URL")
    instance = None
    if external:
        server = PostgresServer(external)
    else:
        instance = PostgresInstance().start()
        server = PostgresServer(instance.url())
    try:
        yield server
    finally:
        server.admin.dispose()
        if instance is not None:
            instance.stop()


def _migrate(url: str) -> None:
    schema.upgrade_database(url)


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    url = pg_server.create(TEMPLATE_DB)
    _migrate(url)
    return TEMPLATE_DB


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _fresh_db(backend: str, migrated: bool, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "chat.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template") if migrated else None
    dbname = f"test_{os.getpid()}_{next(_db_counter)}"
    url = server.create(dbname, template=template)
    try:
        yield url
    finally:
        server.drop(dbname)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated to head (reaction reference data included)."""
    yield from _fresh_db(backend, True, request, tmp_path)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no tables at all."""
    yield from _fresh_db(backend, False, request, tmp_path)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated PostgreSQL database, for tests of PostgreSQL-only behaviour."""
    yield from _fresh_db("postgresql", True, request, tmp_path)


@pytest.fixture
def chat_seed_target(backend: str, request: pytest.FixtureRequest) -> str:
    """The plugin's seeded databases on this test's backend: SQLite or the session's server."""
    if backend == "sqlite":
        return "sqlite"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.admin_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()
