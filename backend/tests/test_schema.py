"""Migrations: up, down and up again on both backends; models and migrations agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from backend import schema
from backend.database import make_engine
from backend.models import Base
from backend.reference_data import REACTIONS

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
