"""SQLite: AUTOINCREMENT on the tables whose seeded rows are id blocks, so that no id is handed out twice.

Without it SQLite gives a new row its table's max(id) + 1: once the newest seeded rows of a table are deleted,
a real row inserted after them takes an id inside a seed run's block, and cleanup would remove it with the
run. With it SQLite keeps the highest id ever used (sqlite_sequence, which explicit ids move on too) and
never goes back. PostgreSQL's sequences never go back: nothing changes there.

SQLite sets AUTOINCREMENT only when a table is created, so the tables are rebuilt, in the caller's transaction
and with foreign keys on (SQLite cannot switch them off inside a transaction):

1. views and triggers are set aside (dropped, their SQL kept);
2. the tables to rebuild, and every table whose foreign keys lead to one of them, are renamed out of the way:
   SQLite rewrites the references to follow them, so the old tables point only at each other;
3. each is created again under its own name from its own SQL (AUTOINCREMENT added where wanted), parents
   first, and its rows copied, foreign keys checked as they go in;
4. the old tables are dropped, children first: nothing references them but each other, so no other row is
   touched;
5. their indexes, then the triggers and views, are created again from their SQL (and the tables analysed
   again where the database keeps statistics).

Anything unexpected (a table whose SQL is not as 0001 wrote it, a name in the way) stops the migration with
an error, and the transaction leaves the database as it was.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import re

from alembic import op
from sqlalchemy import Connection

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID_BLOCK_TABLES = ("users", "channels", "messages", "message_reactions")
OLD_SUFFIX = "__before_0003"
# The primary key as 0001 wrote it (a table constraint), and the id column it names.
_TABLE_PRIMARY_KEY = re.compile(r",\s*CONSTRAINT\s+(\w+)\s+PRIMARY KEY\s*\(\s*id\s*\)", re.IGNORECASE)
_ID_COLUMN = re.compile(r"(\(\s*)(id\s+INTEGER\s+NOT\s+NULL)(\s*,)", re.IGNORECASE)


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        _rebuild_with_autoincrement(connection, ID_BLOCK_TABLES)


def downgrade() -> None:
    # AUTOINCREMENT only keeps ids from being handed out twice; 0002's schema works the same with it.
    pass


def _sql(connection: Connection, kind: str, name: str) -> str:
    return str(
        connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = ? AND name = ?", (kind, name)
        ).scalar_one()
    )


def _rebuild_with_autoincrement(connection: Connection, wanted: tuple[str, ...]) -> None:
    run = connection.exec_driver_sql
    tables = [
        name
        for (name,) in run(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
    ]
    targets = [
        t for t in wanted if t in tables and "AUTOINCREMENT" not in _sql(connection, "table", t).upper()
    ]
    if not targets:
        return
    parents = {
        t: {str(row[0]) for row in run('SELECT "table" FROM pragma_foreign_key_list(?)', (t,))}
        for t in tables
    }
    rebuilt = set(targets)  # and every table whose foreign keys lead to one of them
    while grown := {t for t in tables if t not in rebuilt and parents[t] & rebuilt}:
        rebuilt |= grown
    order = _parents_first([t for t in tables if t in rebuilt], parents)
    for table in order:
        if f"{table}{OLD_SUFFIX}" in tables:
            raise RuntimeError(f"table {table}{OLD_SUFFIX} is in the way of rebuilding {table}; rename it")

    set_aside = run(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger') AND sql IS NOT NULL "
        "ORDER BY rowid"
    ).all()
    indexes = [
        str(sql)
        for (sql,) in run(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join('?' * len(order))}) ORDER BY rowid",
            tuple(order),
        )
    ]
    for kind, name, _sql_text in reversed(set_aside):
        run(f'DROP {kind.upper()} "{name}"')

    for table in order:
        run(f'ALTER TABLE "{table}" RENAME TO "{table}{OLD_SUFFIX}"')
    for table in order:
        old = f"{table}{OLD_SUFFIX}"
        create = _sql(connection, "table", old)
        for other in order:  # SQLite writes the names it rewrites in double quotes
            create = create.replace(f'"{other}{OLD_SUFFIX}"', f'"{other}"')
        if table in targets:
            create = _with_autoincrement(table, create)
        run(create)
        run(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
        _carry_sequence(connection, old, table)
    # Dropping a table deletes its rows first; a self-reference (a reply's parent) would refuse that row by
    # row (RESTRICT), but deferred it is settled once the last row is gone.
    deferred = run("PRAGMA defer_foreign_keys").scalar()
    run("PRAGMA defer_foreign_keys = ON")
    for table in reversed(order):
        run(f'DROP TABLE "{table}{OLD_SUFFIX}"')
    run(f"PRAGMA defer_foreign_keys = {int(deferred or 0)}")

    for sql in indexes:
        run(sql)
    for _kind, _name, sql in set_aside:
        run(sql)
    if run("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
        for table in order:  # the planner's statistics went with the old tables
            run(f'ANALYZE "{table}"')
    if broken := run("PRAGMA foreign_key_check").first():
        raise RuntimeError(f"rebuilding for AUTOINCREMENT would break a foreign key of {broken[0]}")


def _parents_first(tables: list[str], parents: dict[str, set[str]]) -> list[str]:
    order: list[str] = []
    left = list(tables)
    while left:
        ready = [t for t in left if not (parents[t] - {t}) & set(left)]
        if not ready:
            raise RuntimeError(f"foreign keys go round in a cycle among {', '.join(left)}")
        order += ready
        left = [t for t in left if t not in ready]
    return order


def _with_autoincrement(table: str, create: str) -> str:
    """0001's CREATE TABLE with the primary key moved onto the id column, AUTOINCREMENT, same name."""
    keys = _TABLE_PRIMARY_KEY.findall(create)
    if len(keys) != 1 or len(_ID_COLUMN.findall(create)) != 1:
        raise RuntimeError(f"table {table}: its SQL is not as migration 0001 wrote it (no AUTOINCREMENT)")
    create = _TABLE_PRIMARY_KEY.sub("", create)
    return _ID_COLUMN.sub(rf"\1\2 CONSTRAINT {keys[0]} PRIMARY KEY AUTOINCREMENT\3", create)


def _carry_sequence(connection: Connection, old: str, new: str) -> None:
    """A table that had AUTOINCREMENT already keeps its highest id ever used (dropping the old one drops its
    entry)."""
    run = connection.exec_driver_sql
    if not run("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").first():
        return
    before = run("SELECT seq FROM sqlite_sequence WHERE name = ?", (old,)).scalar()
    if before is None:
        return
    now = run("SELECT seq FROM sqlite_sequence WHERE name = ?", (new,)).scalar()
    if now is None:
        run("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (new, before))
    elif now < before:
        run("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (before, new))
