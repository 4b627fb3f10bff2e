"""Seeders racing each other as real processes: the second waits for the first, then says "already seeded".

On PostgreSQL the race that mattered is two seeders creating the schema of an empty database (the loser
used to fail on the catalog's unique index); on SQLite any two seeders (the second used to fail at once
with "database is locked"). The wait is bounded by --lock-timeout on both backends.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend.database import make_engine
from backend.tests.helpers import run_script
from backend.tests.seed_helpers import AS_OF, error_line, finish, seeders, table_counts_at

# Big enough that a run takes a moment, so the second seeder arrives while the first one writes.
ARGS = (
    "--as-of", AS_OF, "--users", "3000", "--channels", "300", "--messages-per-channel", "30",
    "--max-members", "20", "--seed", "4", "--json",
)  # fmt: skip


def _assert_one_run_and_one_skip(url: str, results: list[tuple[str, str, int]]) -> None:
    for _out, err, code in results:
        assert code == 0, err
        assert "Traceback" not in err
    skipped = sorted(json.loads(out)["skipped"] for out, _err, _code in results)
    assert skipped == [False, True], results
    counts = table_counts_at(url)
    assert counts["seed_runs"] == 1
    first = next(json.loads(out) for out, _err, _code in results if not json.loads(out)["skipped"])
    assert counts["messages"] == first["rows"]["messages"]


@contextmanager
def _sqlite_write_lock(url: str) -> Iterator[sqlite3.Connection]:
    """Hold SQLite's write lock (as a long write transaction of another program would)."""
    path = make_url(url).database
    assert path
    holder = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
    finally:
        holder.close()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_seeders_on_an_empty_postgresql_database_take_turns(empty_db_url: str) -> None:
    """Both find no tables and set out to create the schema: the second must wait, then skip.

    A holder's uncommitted CREATE TABLE of Alembic's version table lines them up: whoever reaches the schema
    creation first waits for it; the holder then rolls back and the race is on.
    """
    engine = make_engine(empty_db_url)
    watch = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as holder:
            holder.exec_driver_sql("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
            with seeders(empty_db_url, ARGS, ARGS) as procs:
                deadline = time.monotonic() + 120
                while watch.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one() < 2:
                    assert all(p.poll() is None for p in procs), finish(procs)
                    assert time.monotonic() < deadline, "the seeders did not both reach the schema creation"
                    time.sleep(0.05)
                holder.rollback()
                results = finish(procs)
    finally:
        watch.close()
        engine.dispose()
    _assert_one_run_and_one_skip(empty_db_url, results)
    created = [err for _out, err, _code in results if "created the schema" in err]
    assert len(created) <= 1  # --json is quiet; never two creators


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("start", ["migrated", "empty"])
def test_two_seeders_on_sqlite_take_turns(backend: str, start: str, request: pytest.FixtureRequest) -> None:
    """Both start while another writer holds the lock; both wait; the second then skips."""
    url = request.getfixturevalue("db_url" if start == "migrated" else "empty_db_url")
    with _sqlite_write_lock(url) as holder, seeders(url, ARGS, ARGS) as procs:
        time.sleep(4)  # both reach the lock: interpreter start and imports take about 1.5 s
        assert all(p.poll() is None for p in procs), "a seeder gave up instead of waiting"
        holder.rollback()
        results = finish(procs)
    _assert_one_run_and_one_skip(url, results)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_seeder_gives_up_after_the_lock_timeout_on_sqlite(db_url: str) -> None:
    before = table_counts_at(db_url)
    with _sqlite_write_lock(db_url):
        started = time.monotonic()
        result = run_script("seed_data.py", *ARGS, "--lock-timeout", "1", database_url=db_url, timeout=60)
        waited = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    line = error_line(result.stderr)
    assert "more than 1 s (--lock-timeout)" in line and "nothing was written" in line
    assert waited < 30
    assert result.stdout == ""
    assert table_counts_at(db_url) == before


def test_a_seeder_gives_up_after_the_lock_timeout_on_postgresql(pg_url: str) -> None:
    before = table_counts_at(pg_url)
    engine = make_engine(pg_url)
    try:
        with engine.connect() as holder:
            holder.exec_driver_sql("LOCK TABLE seed_runs IN ACCESS EXCLUSIVE MODE")
            result = run_script("seed_data.py", *ARGS, "--lock-timeout", "1", database_url=pg_url, timeout=60)
            holder.rollback()
    finally:
        engine.dispose()
    assert result.returncode == 1, result.stderr
    assert "more than 1 s (--lock-timeout)" in error_line(result.stderr)
    assert table_counts_at(pg_url) == before


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e308", "soon"])
def test_a_bad_lock_timeout_is_a_usage_error(db_url: str, value: str) -> None:
    result = run_script("seed_data.py", *ARGS, "--lock-timeout", value, database_url=db_url)
    assert result.returncode == 2, result.stderr
    assert "--lock-timeout" in error_line(result.stderr)
    assert table_counts_at(db_url)["seed_runs"] == 0
