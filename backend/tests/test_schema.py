"""Migrations: up, down and up again on both backends; models and migrations agree; head is told from the
scripts without importing Alembic, and whatever that way cannot tell goes to Alembic."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy import Engine, inspect, text

from backend import schema
from backend.database import make_engine
from backend.models import Base
from backend.reference_data import REACTIONS
from backend.seeding import registry
from backend.tests.helpers import REPO_ROOT, assert_no_id_handed_out_twice
from backend.tests.ledger_fixtures import RealRows, write_real_rows, write_seeded_run

CHAT_TABLES = {
    "users",
    "channels",
    "user_channels",
    "messages",
    "reactions",
    "message_reactions",
    "seed_runs",
    "seed_run_blocks",
}


def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            assert schema.schema_state(conn) is schema.SchemaState.EMPTY
            schema.upgrade(conn)
            assert set(inspect(conn).get_table_names()) >= CHAT_TABLES
            assert schema.schema_state(conn) is schema.SchemaState.CURRENT
        with engine.begin() as conn:
            schema.downgrade(conn, "base")
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
            assert schema.schema_state(conn) is schema.SchemaState.EMPTY
        with engine.begin() as conn:
            schema.upgrade(conn)
            count = conn.exec_driver_sql("SELECT count(*) FROM reactions").scalar_one()
            assert count == len(REACTIONS)
    finally:
        engine.dispose()


def test_schema_behind_head_is_detected(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            schema.upgrade(conn, "0001")
            assert schema.schema_state(conn) is schema.SchemaState.BEHIND
    finally:
        engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_every_foreign_key_has_explicit_ondelete() -> None:
    for table in Base.metadata.tables.values():
        for fk in table.foreign_keys:
            assert fk.ondelete in ("RESTRICT", "CASCADE"), f"{table.name}.{fk.parent.name}"
            if fk.ondelete == "CASCADE":
                assert table.name.startswith("seed_"), "cascades only inside the ledger"


def test_constraint_names_follow_convention(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        insp = inspect(engine)
        assert insp.get_pk_constraint("users")["name"] == "pk_users"
        fk_names = {fk["name"] for fk in insp.get_foreign_keys("messages")}
        assert "fk_messages_parent_id_messages" in fk_names
        uq_names = {uq["name"] for uq in insp.get_unique_constraints("message_reactions")}
        assert "uq_message_reactions_message_id_reaction_id_user_id" in uq_names
    finally:
        engine.dispose()


# ----- telling head without importing Alembic -------------------------------------------------------------


def test_the_scripts_head_is_alembics_and_a_plain_import_leaves_alembic_out() -> None:
    assert schema.script_head() == schema.head_revision()
    probe = "import sys, backend.schema; print('alembic' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def _scripts(tmp_path: Path, *scripts: str, ini_extra: str = "") -> Path:
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    for number, body in enumerate(scripts):
        (tmp_path / "migrations" / "versions" / f"{number:04d}_x.py").write_text(body)
    ini = tmp_path / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = %(here)s/migrations\nfile_template = %%(rev)s\n{ini_extra}")
    return ini


CHAIN = ('revision = "a"\ndown_revision = None\n', 'revision: str = "b"\ndown_revision = "a"\n')


@pytest.mark.parametrize(
    ("scripts", "ini_extra", "head"),
    [
        (CHAIN, "", "b"),
        ((*CHAIN, 'revision = "c"\ndown_revision = ("a", "b")\n'), "", "c"),  # a merge
        ((*CHAIN, 'revision = "c"\ndown_revision = "a"\n'), "", None),  # two heads
        ((*CHAIN, 'revision = "c"\ndown_revision = "b"\nbranch_labels = ("x",)\n'), "", None),
        ((*CHAIN, 'revision = "c"\ndown_revision = "b"\ndepends_on = "a"\n'), "", None),
        ((*CHAIN, 'revision = make()\ndown_revision = "b"\n'), "", None),  # not a literal
        ((*CHAIN, "def broken(:\n"), "", None),
        ((*CHAIN, 'down_revision = "b"\n'), "", None),  # no revision
        (CHAIN, "version_locations = %(here)s/other\n", None),
        ((), "", None),
    ],
)
def test_the_scripts_head_or_none_for_alembic_to_decide(
    tmp_path: Path, scripts: tuple[str, ...], ini_extra: str, head: str | None
) -> None:
    assert schema.script_head(_scripts(tmp_path, *scripts, ini_extra=ini_extra)) == head


def test_a_database_stamped_elsewhere_is_not_current(empty_db_url: str) -> None:
    """The fast way says CURRENT only for the one head; any other stamp goes to Alembic."""
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            schema.upgrade(conn)
            conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
            assert schema.schema_state(conn) is schema.SchemaState.UNKNOWN
            conn.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": schema.head_revision()}
            )
            conn.execute(text("INSERT INTO alembic_version VALUES ('0001')"))  # two stamps: Alembic's call
            with pytest.raises(CommandError, match="more than one head"):
                schema.schema_state(conn)
    finally:
        engine.dispose()


# ----- 0003: AUTOINCREMENT on SQLite's id-block tables ----------------------------------------------------

SQLITE_SCHEMA_OBJECTS = (
    "SELECT type, name, tbl_name, sql FROM sqlite_schema "
    "WHERE type IN ('index', 'view', 'trigger') ORDER BY name"
)


def _sqlite_at_0002_with_rows(url: str) -> None:
    """A SQLite database at 0002 holding a seed run, real rows around it, a table of the app's own that
    references messages, a view and a trigger."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            schema.upgrade(conn, "0002")
            real = RealRows()
            write_real_rows(conn, random.Random(1), real, rounds=6)
            write_seeded_run(conn, random.Random(2))
            write_real_rows(conn, random.Random(3), real, rounds=6)
            conn.exec_driver_sql(
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, "
                "message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE RESTRICT, body TEXT)"
            )
            conn.exec_driver_sql("INSERT INTO notes (message_id, body) SELECT max(id), 'kept' FROM messages")
            conn.exec_driver_sql("CREATE VIEW message_count AS SELECT count(*) AS n FROM messages")
            conn.exec_driver_sql(
                "CREATE TRIGGER note_each_message AFTER INSERT ON messages "
                "BEGIN INSERT INTO notes (message_id, body) VALUES (new.id, 'new'); END"
            )
    finally:
        engine.dispose()


def _sqlite_contents(path: Path) -> tuple[dict[str, list[tuple[Any, ...]]], list[tuple[Any, ...]]]:
    """Every table's rows (by rowid) and the indexes, views and triggers, read with the sqlite3 module."""
    with closing(sqlite3.connect(path)) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        rows = {t: db.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
        return rows, db.execute(SQLITE_SCHEMA_OBJECTS).fetchall()


def test_0003_rebuilds_sqlite_id_block_tables_with_autoincrement_keeping_everything(tmp_path: Path) -> None:
    path = tmp_path / "before.db"
    url = f"sqlite:///{path}"
    _sqlite_at_0002_with_rows(url)
    rows_before, objects_before = _sqlite_contents(path)
    assert rows_before["messages"] and rows_before["notes"]

    schema.upgrade_database(url)

    rows_after, objects_after = _sqlite_contents(path)
    assert rows_after.pop("alembic_version") == [("0003",)]
    assert rows_before.pop("alembic_version") == [("0002",)]
    assert rows_after == rows_before
    assert objects_after == objects_before
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA foreign_keys = ON")
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        sql = dict(db.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'table'").fetchall())
        for table in registry.id_block_tables():
            assert "PRIMARY KEY AUTOINCREMENT" in sql[table], table
        assert "AUTOINCREMENT" not in sql["notes"]
        assert "__before_0003" not in " ".join(sql) + " ".join(map(str, sql.values()))
        assert 'REFERENCES "messages"' in sql["notes"]
        sequence = dict(db.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
        for table in registry.id_block_tables():
            assert sequence[table] == max(row[0] for row in rows_before[table]), table
        # The view and the trigger still work on the rebuilt table.
        db.execute(
            "INSERT INTO messages (content, created_at, updated_at, user_id, channel_id) "
            "SELECT 'after', created_at, updated_at, user_id, channel_id FROM messages LIMIT 1"
        )
        assert db.execute("SELECT n FROM message_count").fetchone()[0] == len(rows_before["messages"]) + 1
        assert db.execute("SELECT count(*) FROM notes WHERE body = 'new'").fetchone()[0] == 1


def test_0003_leaves_an_unexpected_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "in_the_way.db"
    url = f"sqlite:///{path}"
    _sqlite_at_0002_with_rows(url)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE messages__before_0003 (id INTEGER PRIMARY KEY)")
    before = _sqlite_contents(path)

    with pytest.raises(RuntimeError, match="messages__before_0003 is in the way"):
        schema.upgrade_database(url)

    assert _sqlite_contents(path) == before
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert schema.schema_state(conn) is schema.SchemaState.BEHIND
    finally:
        engine.dispose()


def test_every_id_block_table_hands_out_no_id_twice_on_sqlite(engine: Engine) -> None:
    """Guard: a seeded table with id blocks must be AUTOINCREMENT on SQLite (its model says so, and a
    migration makes it so), or a real row could take an id inside a block after the newest seeded rows
    were deleted."""
    with engine.connect() as conn:
        assert_no_id_handed_out_twice(conn)
