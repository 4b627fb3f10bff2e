"""The bulk-load paths. PostgreSQL: constraints come back validated, indexes are sound, kills undo it all.
SQLite: rows a worker spooled to a file go in as executemany would put them, each file attached once; a run
spools only with room for it, and takes away the spools an earlier run on the connection left attached."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from backend.database import make_engine
from backend.reference_data import REACTIONS
from backend.seeding import pipeline, registry, writers
from backend.seeding.dataset import Batch, Dataset
from backend.seeding.writers import Spooled, SqliteWriter, spool_batches
from backend.tests.helpers import run_script
from backend.tests.seed_helpers import (
    copy_sqlite_template,
    make_options,
    schema_objects,
    start_script,
    table_counts,
)

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


def test_a_fast_load_takes_one_copy_per_table_and_online_one_per_payload_same_rows(pg_url: str) -> None:
    """A fast load (every table's foreign keys dropped) feeds a few long COPY statements (copy_stream.py);
    with foreign keys in place (--online) each payload is its own COPY, parents first. Same rows."""
    options = make_options("test", users=3000, channels=40, messages_per_channel=25, seed=5)  # 2 user chunks
    engine = make_engine(pg_url)
    loaded: dict[bool, dict[str, list[tuple[object, ...]]]] = {}
    try:
        for fast in (True, False):
            with engine.connect() as conn:
                transaction = conn.begin()
                _with_run(conn)
                ids = list(conn.exec_driver_sql("SELECT id FROM reactions ORDER BY id").scalars())
                dataset = Dataset(options, dict.fromkeys(registry.id_block_tables(), 1), RUN_ID, ids)
                writer = writers.PostgresWriter(conn, rebuild_indexes=fast)
                writer.begin(dataset.plan.counts)
                payloads = list(pipeline.encoded_batches(dataset, 0, writer.encode))
                writer.write_all(item for item in payloads)
                writer.finish()
                tables_with_rows = sum(1 for rows in dataset.plan.counts.values() if rows)
                if fast:
                    assert sorted(writer.fast_tables) == sorted(CHAT_TABLES)
                    assert writer.statements == tables_with_rows
                else:
                    assert writer.statements == sum(1 for _, payload, _ in payloads if payload)
                    assert writer.statements > tables_with_rows
                loaded[fast] = {
                    table: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2")]
                    for table in CHAT_TABLES
                }
                assert {t: len(rows) for t, rows in loaded[fast].items()} == dataset.plan.counts
                transaction.rollback()
    finally:
        engine.dispose()
    assert loaded[True] == loaded[False]


# ----- SQLite: spooled rows -------------------------------------------------------------------------------


def _batches() -> list[Batch]:
    options = make_options("test", users=40, channels=6, messages_per_channel=20, seed=5)
    dataset = Dataset(
        options, dict.fromkeys(registry.id_block_tables(), 1), 1, list(range(1, len(REACTIONS) + 1))
    )
    return [batch for _, batch, _ in pipeline.encoded_batches(dataset, 0, lambda b: b)]


RUN_ID = 1


def _with_run(conn: Connection) -> None:
    """The ledger row the memberships' seed_run_id points at."""
    conn.exec_driver_sql(
        "INSERT INTO seed_runs (id, profile, seed, as_of, options_json, options_digest, faker_version, "
        "generator_version, row_counts_json, started_at, finished_at) VALUES "
        f"({RUN_ID}, 'test', 5, '2026-06-01', '{{}}', 'x', 'x', 'x', '{{}}', '2026-06-01 00:00:00.000000', "
        "'2026-06-01 00:00:00.000000')"
    )


def _typed_dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: [
                    tuple(row)
                    for row in conn.exec_driver_sql(
                        f"SELECT {', '.join(f'{c}, typeof({c})' for c in registry.columns(table))} "
                        f"FROM {table} ORDER BY rowid"
                    )
                ]
                for table in registry.seeded_tables()
            }
    finally:
        engine.dispose()


def _attached(conn: Connection) -> list[str]:
    return [name for _, name, _ in conn.exec_driver_sql("PRAGMA database_list").all()]


def test_spooled_rows_go_in_as_executemany_puts_them(sqlite_template: Path, tmp_path: Path) -> None:
    batches = _batches()
    by_rows, spooled = (copy_sqlite_template(sqlite_template, tmp_path, name) for name in ("rows", "spooled"))
    engine = make_engine(by_rows)
    try:
        with engine.begin() as conn:
            _with_run(conn)
            writer = SqliteWriter(conn)
            writer.begin({})
            for batch in batches:
                writer.write(batch.table, writer.encode(batch))
            writer.finish()
    finally:
        engine.dispose()
    halves = [str(tmp_path / "first.sqlite"), str(tmp_path / "second.sqlite")]
    counts = [spool_batches(halves[0], batches[:2]), spool_batches(halves[1], batches[2:])]
    assert sum(sum(c.values()) for c in counts) == sum(len(b) for b in batches)
    engine = make_engine(spooled)
    try:
        with engine.begin() as conn:
            _with_run(conn)
            writer = SqliteWriter(conn)
            writer.begin({table: 1000 for table in registry.seeded_tables()})
            assert writer.spool_groups == writers.SPOOL_GROUPS
            for path, tables in zip(halves, counts, strict=True):
                for table in tables:
                    writer.write(table, Spooled(path))
            assert [n for n in _attached(conn) if n.startswith(writers.SPOOL_ALIAS)] == [
                f"{writers.SPOOL_ALIAS}0",
                f"{writers.SPOOL_ALIAS}1",
            ], "each file attached once"
            writer.finish()
        with engine.begin() as conn:
            # The next run on this connection takes the spools away (they could not go inside the last one).
            SqliteWriter(conn).begin({})
            assert not [n for n in _attached(conn) if n.startswith(writers.SPOOL_ALIAS)]
    finally:
        engine.dispose()
    assert _typed_dump(spooled) == _typed_dump(by_rows)


def test_no_spooling_without_room_for_the_rows(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(copy_sqlite_template(sqlite_template, tmp_path, "room"))
    real_usage = writers.shutil.disk_usage
    try:
        with engine.begin() as conn:
            free = real_usage(writers.tempfile.gettempdir()).free
            rows = free // (2 * writers.SPOOL_BYTES_PER_ROW) + 1
            writer = SqliteWriter(conn, rebuild_indexes=False)
            writer.begin({"messages": rows})
            assert writer.spool_groups == 0
            writer.begin({"messages": rows // 4})
            assert writer.spool_groups == writers.SPOOL_GROUPS
    finally:
        engine.dispose()


def test_a_spool_file_that_cannot_be_written_is_an_os_error_naming_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(OSError, match=r"could not write the spool file .*missing.*set TMPDIR"):
        spool_batches(str(tmp_path / "missing" / "group-0.sqlite"), _batches()[:1])
