"""pytest plugin: a test gets its own database seeded from a profile and/or a scenario, in milliseconds.

Use it from an app's conftest.py:

    pytest_plugins = ["backend.testing.pytest_plugin"]

    @pytest.mark.chat_seed(profile="test", scenario="backend/scenarios/test.yaml", seed=3)
    def test_unread_counts(seeded_db_url): ...

The marker's keywords (all optional) are `profile` (default "test"), `scenario` (a path) and any seed_data.py
option (`users=50`, `seed=3`, ...); a module or class can carry the marker too. Each distinct marker seeds a
template database once per session. Then, per test:

- seeded_connection: a connection in a transaction rolled back after the test (milliseconds). The code under
  test uses this connection (an ORM Session: `Session(bind=conn, join_transaction_mode="create_savepoint")`).
- seeded_db_url / seeded_engine: a database of the test's own, dropped after it (PostgreSQL: CREATE DATABASE
  ... TEMPLATE, a few hundred ms; SQLite: a file copy, a few ms), for code that connects or commits itself.

Where the databases live: `--chat-seed-url URL`, else $CHAT_SEED_DATABASE_URL, else a SQLite file per test in
a temp directory. A PostgreSQL URL names a server (and a database on it to connect to, with CREATEDB rights);
the plugin creates and drops `chat_seed_*` databases beside it. Override the `chat_seed_target` fixture to
choose per test (our own suite does, to run each test on both backends).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from backend.database import make_engine
from backend.testing.seeded import SeededDatabases, SeedSpec

MARKER = "chat_seed"
URL_ENV = "CHAT_SEED_DATABASE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chat-seed-url",
        metavar="URL",
        help=f"server for seeded test databases (default: ${URL_ENV}, else SQLite files)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(profile='test', scenario=None, **options): the data the seeded_db_url fixture holds",
    )


def spec_for(request: pytest.FixtureRequest) -> SeedSpec:
    """The nearest chat_seed marker (test, then class, then module) as a SeedSpec."""
    marker = request.node.get_closest_marker(MARKER)
    keywords = dict(marker.kwargs) if marker is not None else {}
    profile = keywords.pop("profile", "test")
    scenario = keywords.pop("scenario", None)
    return SeedSpec(profile, Path(scenario) if scenario is not None else None, keywords)


class _Pools:
    """One SeededDatabases per target, for the whole session."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.by_target: dict[str, SeededDatabases] = {}

    def get(self, target: str, session: pytest.Session) -> SeededDatabases:
        if target not in self.by_target:
            sqlite = target == "sqlite" or target.startswith("sqlite")
            databases = SeededDatabases(target, self.directory if sqlite else None)
            self.by_target[target] = databases
            # Finalizers run last-in first-out: this one runs before the teardown of whatever provided
            # the target (a throwaway server fixture, say), which was set up before this call.
            session.addfinalizer(databases.close)
        return self.by_target[target]


@pytest.fixture(scope="session")
def chat_seed_pools(tmp_path_factory: pytest.TempPathFactory) -> _Pools:
    return _Pools(tmp_path_factory.mktemp("chat-seed"))


@pytest.fixture
def chat_seed_target(request: pytest.FixtureRequest) -> str:
    """Where this test's seeded database is made: a PostgreSQL URL, or 'sqlite'. Override to choose."""
    return str(request.config.getoption("--chat-seed-url") or os.environ.get(URL_ENV) or "sqlite")


@pytest.fixture
def seeded_databases(
    request: pytest.FixtureRequest, chat_seed_target: str, chat_seed_pools: _Pools
) -> SeededDatabases:
    """The templates and copies on this test's target (for tests that want several seeded databases)."""
    return chat_seed_pools.get(chat_seed_target, request.session)


@pytest.fixture
def seeded_db_url(request: pytest.FixtureRequest, seeded_databases: SeededDatabases) -> Iterator[str]:
    """A database of this test's own, seeded as its chat_seed marker says; dropped afterwards."""
    url = seeded_databases.copy(spec_for(request))
    try:
        yield url
    finally:
        seeded_databases.drop(url)


@pytest.fixture
def seeded_engine(seeded_db_url: str) -> Iterator[Engine]:
    """An engine on seeded_db_url (SQLite with foreign keys on), disposed after the test."""
    engine = make_engine(seeded_db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def seeded_connection(
    request: pytest.FixtureRequest, seeded_databases: SeededDatabases
) -> Iterator[Connection]:
    """A connection to the marker's seeded data in a transaction that is rolled back after the test."""
    with seeded_databases.transaction(spec_for(request)) as conn:
        yield conn
