"""Alembic as a library: upgrade a connection, and tell where a database stands against head."""

from __future__ import annotations

import enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"
MIGRATE_COMMAND = "alembic -c backend/alembic.ini upgrade head"


class SchemaState(enum.Enum):
    EMPTY = "empty"  # no tables at all: safe to create the schema
    CURRENT = "current"
    BEHIND = "behind"
    UNKNOWN = "unknown"  # tables exist but no (or a foreign) alembic revision


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for this project, optionally bound to an open connection."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_state(connection: Connection) -> SchemaState:
    """Compare the database's alembic revision with head."""
    tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    if not tables:
        return SchemaState.EMPTY
    current = MigrationContext.configure(connection).get_current_revision()
    if current == head_revision():
        return SchemaState.CURRENT
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current in known:
        return SchemaState.BEHIND
    return SchemaState.UNKNOWN


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run migrations up to revision on the caller's connection (inside the caller's transaction)."""
    command.upgrade(alembic_config(connection), revision)


def upgrade_database(url: str) -> None:
    """Migrate the database at url to head in a transaction of its own (for tools and tests that own it)."""
    from backend.database import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            upgrade(conn)
    finally:
        engine.dispose()


def downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)
