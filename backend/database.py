"""Engines and sessions built from a URL on request; no engine exists at import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker


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


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The driver's implicit transactions skip DDL; we issue BEGIN ourselves so that DDL, bulk loads and
    # migrations are all-or-nothing like on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for the URL; SQLite connections get foreign keys switched on."""
    parsed = parse_url(url)
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to the engine; callers own their transactions."""
    return sessionmaker(bind=engine, expire_on_commit=False)
