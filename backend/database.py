"""Engines and sessions built from a URL on request; no engine exists at import time.

Locks: an engine made with lock_timeout waits that many seconds for another writer's lock and then fails
with an error that is_lock_timeout() recognises (SQLite: busy_timeout; PostgreSQL: lock_timeout). A writer
engine on SQLite starts its transactions with BEGIN IMMEDIATE, so that it queues for the write lock up
front: a transaction that reads first and then asks for the write lock while another writer commits is
refused at once ("database is locked") instead of waiting.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

# How long a seeder waits for another writer (another seeder, a cleanup, a migration) before giving up.
DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0
# SQLite's wait for a lock when no lock_timeout is given (readers and short writes).
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# pg_advisory_xact_lock key for "creating the schema": any fixed 64-bit number no other tool uses.
SCHEMA_LOCK_KEY = 0x63686174_73656564  # "chatseed"


class DatabaseUrlError(ValueError):
    """The database URL cannot be used."""


def parse_url(url: str | URL) -> URL:
    """Parse a URL, turning SQLAlchemy's error into one that never shows the password."""
    if isinstance(url, URL):
        return url
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseUrlError(
            "could not parse the database URL; expected e.g. sqlite:///chat.db "
            "or postgresql+psycopg2://user:password@host:5432/dbname"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(
            f"unsupported database backend {parsed.get_backend_name()!r}; use sqlite or postgresql"
        )
    if parsed.drivername in ("postgresql", "postgres"):
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; psycopg2 is the driver we install.
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ***, safe for logs and errors."""
    try:
        return parse_url(url).render_as_string(hide_password=True)
    except DatabaseUrlError:
        return "<unparseable database URL>"


def _configure_sqlite_connection(busy_timeout: float, dbapi_connection: Any, _record: Any) -> None:
    # The driver's implicit transactions skip DDL; we issue BEGIN ourselves so that DDL, bulk loads and
    # migrations are all-or-nothing like on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _begin_sqlite_write_transaction(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str | URL, *, writer: bool = False, lock_timeout: float | None = None, **kwargs: Any
) -> Engine:
    """An engine for the URL; SQLite connections get foreign keys switched on.

    writer: on SQLite, every transaction takes the write lock when it begins (see the module docstring).
    lock_timeout: seconds to wait for another transaction's lock (default: SQLite 30 s, PostgreSQL forever).
    """
    parsed = parse_url(url)
    if lock_timeout is not None and parsed.get_backend_name() == "postgresql":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args["options"] = (
            f"{connect_args.get('options', '')} -c lock_timeout={int(lock_timeout * 1000)}"
        )
        kwargs["connect_args"] = connect_args
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        busy = SQLITE_BUSY_TIMEOUT_SECONDS if lock_timeout is None else lock_timeout
        event.listen(engine, "connect", functools.partial(_configure_sqlite_connection, busy))
        begin = _begin_sqlite_write_transaction if writer else _begin_sqlite_transaction
        event.listen(engine, "begin", begin)
    return engine


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether a database error means: waited for another transaction's lock and gave up."""
    if not isinstance(exc, OperationalError) or exc.orig is None:
        return False
    if getattr(exc.orig, "pgcode", None) == "55P03":  # lock_not_available: lock_timeout expired
        return True
    return "database is locked" in str(exc.orig)


def lock_schema_creation(connection: Connection) -> None:
    """Serialise creating the schema (PostgreSQL; held until the transaction ends).

    Two transactions creating the same tables at once: the second would fail on the catalog's unique
    index. With this lock it waits, and then finds the first one's schema. SQLite needs nothing: a writer
    transaction already holds the database's only write lock.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to the engine; callers own their transactions."""
    return sessionmaker(bind=engine, expire_on_commit=False)
