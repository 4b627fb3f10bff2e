"""Migrations: up, down and up again on both backends; models and migrations agree; head is told from the
scripts without importing Alembic, and whatever that way cannot tell goes to Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text

from backend import schema
from backend.database import make_engine
from backend.models import Base
from backend.reference_data import REACTIONS
from backend.tests.helpers import REPO_ROOT

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
