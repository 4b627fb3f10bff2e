"""--online: a seed into a database in use. Readers and the app's writers carry on while it runs (PostgreSQL),
the data is the same as the fast way's, and the summary says which tables the fast way locked.

The PostgreSQL tests run a real seeder process and, while its COPY is under way, read and write the same
tables from this process with short timeouts: a wait would be a timeout error.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import OperationalError

from backend.database import make_engine
from backend.models import SeedRunBlock
from backend.tests.helpers import run_script
from backend.tests.seed_helpers import (
    AS_OF,
    ID_TABLES,
    SEED_TABLES,
    another_database,
    assert_same_dump,
    canonical_dump,
    finish,
    insert_real_rows,
    seeders,
)

# A few seconds of COPY on PostgreSQL, long enough to read and write beside it.
BIG = (
    "--as-of", AS_OF, "--users", "20000", "--channels", "2000", "--messages-per-channel", "50",
    "--max-members", "30", "--json",
)  # fmt: skip
WAIT_MS = 3000  # a read or write that takes longer than this was blocked by the seeder
FAST_WAIT_MS = 300  # while the fast way loads, a read waits on its lock at least this long


def _wait_for_copy(watch: Connection, proc: subprocess.Popen[str]) -> None:
    """Until the seeder holds a write lock on messages: it is loading the biggest table."""
    query = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'messages' AND l.granted AND l.pid <> pg_backend_pid() "
        "AND l.mode IN ('RowExclusiveLock', 'AccessExclusiveLock')"
    )
    deadline = time.monotonic() + 120
    while watch.execute(query).scalar_one() == 0:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the seeder never started loading messages"
        time.sleep(0.02)


def _summary(proc: subprocess.Popen[str]) -> dict[str, object]:
    [(out, err, code)] = finish([proc])
    assert code == 0, err
    return dict(json.loads(out))


def _read_and_write_beside(engine: Engine) -> tuple[float, float]:
    """Seconds a plain read of users, and an app's insert of a small chat, took (each capped by WAIT_MS)."""
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SET statement_timeout = {WAIT_MS}")
        started = time.perf_counter()
        conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        read = time.perf_counter() - started
        conn.rollback()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {WAIT_MS}")
        started = time.perf_counter()
        insert_real_rows(conn)
        write = time.perf_counter() - started
    return read, write


def test_online_seed_lets_readers_and_writers_carry_on(pg_url: str) -> None:
    engine = make_engine(pg_url)
    watch = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        with seeders(pg_url, (*BIG, "--online")) as [proc]:
            _wait_for_copy(watch, proc)
            read, write = _read_and_write_beside(engine)
            assert proc.poll() is None, "the seed ended before the reads and writes: make BIG bigger"
            summary = _summary(proc)
        with engine.connect() as conn:
            b = SeedRunBlock
            blocks = conn.execute(select(b.table_name, b.first_id, b.last_id, b.row_count)).all()
            for block in blocks:
                # The app's rows got ids outside the run's blocks: the blocks were reserved up front.
                in_block = conn.execute(
                    text(f"SELECT count(*) FROM {block.table_name} WHERE id BETWEEN :a AND :b"),
                    {"a": block.first_id, "b": block.last_id},
                ).scalar_one()
                assert in_block == block.row_count, block.table_name
            assert {b.table_name for b in blocks} == set(ID_TABLES)
    finally:
        watch.close()
        engine.dispose()
    assert read < 1 and write < 1, (read, write)
    assert summary["online"] is True and summary["fast_tables"] == []
    verify = run_script("seed_data.py", "verify", database_url=pg_url)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_fast_way_locks_readers_out_and_the_summary_says_so(pg_url: str) -> None:
    engine = make_engine(pg_url)
    watch = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        with seeders(pg_url, BIG) as [proc]:
            _wait_for_copy(watch, proc)
            # A short lock timeout: the load after COPY starts may take only a second on a quiet machine.
            with engine.connect() as conn:
                conn.exec_driver_sql(f"SET lock_timeout = {FAST_WAIT_MS}")
                with pytest.raises(OperationalError, match="lock timeout"):
                    conn.execute(text("SELECT count(*) FROM users")).scalar_one()
            summary = _summary(proc)
    finally:
        watch.close()
        engine.dispose()
    assert summary["online"] is False
    assert set(summary["fast_tables"]) == set(SEED_TABLES)


def test_online_writes_the_same_data_and_says_so(
    db_url: str, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    other = another_database(request, backend, tmp_path)
    args = ("--profile", "dev", "--as-of", AS_OF)
    fast = run_script("seed_data.py", *args, database_url=db_url)
    online = run_script("seed_data.py", *args, "--online", database_url=other)
    assert fast.returncode == 0 and online.returncode == 0, fast.stderr + online.stderr
    dumps = []
    for url in (db_url, other):
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                dumps.append(canonical_dump(conn))
        finally:
            engine.dispose()
    assert_same_dump(dumps[0], dumps[1])
    fast_line, online_line = fast.stdout.splitlines()[-1], online.stdout.splitlines()[-1]
    assert fast_line.startswith("fast load") and "users, channels" in fast_line
    if backend == "postgresql":
        assert "locked against readers and writers" in fast_line
        assert online_line.startswith("online load") and "not blocked" in online_line
    else:
        assert online_line == "no index dropped"


def test_reset_online_after_a_seed_finishes(pg_url: str) -> None:
    """reset's cleanup writes to the id tables first: the id blocks must not wait for its own transaction."""
    args = ("--profile", "test", "--as-of", AS_OF)
    assert run_script("seed_data.py", *args, database_url=pg_url).returncode == 0
    result = run_script(
        "seed_data.py", "reset", "--yes", "--online", "--lock-timeout", "20", *args, "--seed", "2",
        database_url=pg_url, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "removed " in result.stdout and result.stdout.splitlines()[-1].startswith("online load")
