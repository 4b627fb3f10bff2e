"""The bulk-load path on PostgreSQL: constraints come back validated, indexes are sound, kills undo it all."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend.database import make_engine
from backend.seeding import registry
from backend.tests.helpers import run_script
from backend.tests.seed_helpers import schema_objects, start_script, table_counts

AS_OF = "2026-06-01"
MEDIUM = ("--as-of", AS_OF, "--users", "20000", "--channels", "2000", "--messages-per-channel", "50",
          "--max-members", "30", "-q")  # fmt: skip
CHAT_TABLES = registry.seeded_tables()


def test_fast_load_leaves_validated_constraints_and_sound_indexes(pg_url: str) -> None:
    result = run_script("seed_data.py", *MEDIUM[:-1], "-v", database_url=pg_url)
    assert result.returncode == 0, result.stderr
    assert "dropped" in result.stderr, "the empty tables took the drop-and-rebuild path"
    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            invalid = conn.execute(
                text(
                    "SELECT conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                    "WHERE t.relname = ANY(:tables) AND NOT c.convalidated"
                ),
                {"tables": list(CHAT_TABLES)},
            ).all()
            assert invalid == []
            expected = {
                "fk_messages_parent_id_messages",
                "uq_users_email",
                "fk_message_reactions_user_id_users",
            }
            present = set(conn.execute(text("SELECT conname FROM pg_constraint")).scalars())
            assert expected <= present
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
            indexes = (
                conn.execute(
                    text(
                        "SELECT i.indexrelid::regclass::text FROM pg_index i "
                        "JOIN pg_class t ON t.oid = i.indrelid "
                        "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam "
                        "WHERE t.relname = ANY(:tables) AND am.amname = 'btree'"
                    ),
                    {"tables": list(CHAT_TABLES)},
                )
                .scalars()
                .all()
            )
            assert len(indexes) >= 12
            for index in indexes:
                conn.execute(text("SELECT bt_index_check(CAST(:i AS regclass), true)"), {"i": index})
    finally:
        engine.dispose()
    assert run_script("seed_data.py", "verify", database_url=pg_url).returncode == 0


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


# Moments of a run, as the server sees them: loading rows, then rebuilding indexes and foreign keys.
MOMENTS = {
    "copy": r"^\s*COPY (users|channels|user_channels|messages|message_reactions)\M",
    "rebuild": r"^\s*(CREATE (UNIQUE )?INDEX|ALTER TABLE)",
}


@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_a_kill_at_each_moment_leaves_the_database_as_before(
    pg_url: str, tmp_path: Path, started: list[subprocess.Popen[bytes]], moment: str
) -> None:
    engine = make_engine(pg_url)
    watch = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    database = str(make_url(pg_url).database)
    try:
        with engine.connect() as conn:
            before = (table_counts(conn), schema_objects(conn))
        proc = start_script(
            "seed_data.py", *MEDIUM, database_url=pg_url, stdout=tmp_path / "out", stderr=tmp_path / "err"
        )
        started.append(proc)
        query = text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid() "
            "AND backend_xid IS NOT NULL AND query ~* :pattern"
        )
        deadline = time.monotonic() + 180
        pids: list[int] = []
        while not pids:
            assert proc.poll() is None, f"the run ended before the {moment} moment"
            assert time.monotonic() < deadline, f"timed out waiting for the {moment} moment"
            pids = list(watch.execute(query, {"db": database, "pattern": MOMENTS[moment]}).scalars())
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 120
        while watch.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pids[0]}
        ).scalar():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with engine.connect() as conn:
            after = (table_counts(conn), schema_objects(conn))
        assert after == before
    finally:
        watch.close()
        engine.dispose()
