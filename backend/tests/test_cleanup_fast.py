"""Cleanup's fast paths (issue 13): whole tables of seeded rows go fast, and exactly as the DELETE path would.

PostgreSQL: TRUNCATE of the tables holding only the selected runs' rows. SQLite: those tables' secondary
indexes dropped before the deletes and recreated, from their own DDL, after them. Either way a table with
one real row stays on the plain DELETE path, real rows survive, the schema is the same afterwards, and a
kill leaves everything. (test_cleanup.py holds the safety tests that guard every path.)
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Integer, create_engine, event, literal, not_, select, text

from backend.seeding import registry
from backend.seeding.cleanup import (
    execute_cleanup,
    in_ranges,
    merge_ranges,
    outside_ranges,
    plan_cleanup,
    select_runs,
)
from backend.tests.helpers import run_script, spawn_cleanup, wait_for
from backend.tests.ledger_fixtures import RealRows, SeededRun, dump, reaction_ids, without, write_seeded_run

SCRIPT = "cleanup_fake_data.py"


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return dump(conn)


def _indexes(engine: Engine) -> set[tuple[str, str, str]]:
    """Every index of the seeded tables with its definition: the schema a cleanup must leave as it was."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            )
        else:
            rows = conn.execute(
                text("SELECT tbl_name, name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index'")
            )
        return {(t, i, d) for t, i, d in rows if t in registry.seeded_tables()}


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL the engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _fast_tables(engine: Engine, statements: list[str]) -> set[str]:
    """The tables the cleanup took the fast path for, from what it sent the database."""
    if engine.dialect.name == "postgresql":
        truncates = [s for s in statements if s.startswith("TRUNCATE TABLE")]
        assert len(truncates) <= 1, truncates
        if not truncates:
            return set()
        listed = truncates[0].removeprefix("TRUNCATE TABLE ").split(" CONTINUE IDENTITY")[0]
        return {name.strip().strip('"') for name in listed.split(",")}
    dropped = {s.removeprefix("DROP INDEX ").strip('"') for s in statements if s.startswith("DROP INDEX")}
    # The index messages' self-reference needs stays (the leaves-first deletes and RESTRICT probe it).
    assert "ix_messages_parent_id_created_at" not in dropped
    return {t for t, i, _d in _indexes(engine) if i in dropped}


def _expected_fast(engine: Engine, tables: set[str]) -> set[str]:
    """What _fast_tables can see: on SQLite, only tables with an index of their own to drop (users has
    none: its indexes are its UNIQUE constraints', which SQLite cannot drop)."""
    if engine.dialect.name == "postgresql":
        return tables
    return {t for t, i, d in _indexes(engine) if d and i != "ix_messages_parent_id_created_at"} & tables


def _run_cleanup(engine: Engine, run_ids: list[int] | None = None) -> tuple[dict[str, int], set[str]]:
    with _statements(engine) as statements, engine.begin() as conn:
        runs = select_runs(conn, run_ids)
        result = execute_cleanup(conn, plan_cleanup(conn, runs))
    return dict(result.removed), _fast_tables(engine, statements)


# --- the predicate the fast path's checks rest on ---------------------------------------------------------


def test_outside_ranges_is_exactly_not_in_ranges(engine: Engine) -> None:
    """Evaluated by the database itself, around every bound and gap, one-wide blocks and NULL included."""
    rng = random.Random(41)
    cases = [(), ((5, 5),), ((1, 3), (5, 9)), ((2, 2), (4, 4), (6, 20)), ((-3, 0), (7, 7), (9, 12))]
    cases += [merge_ranges((a, a + rng.randint(0, 3)) for a in rng.sample(range(30), 6)) for _ in range(5)]
    with engine.connect() as conn:
        for ranges in cases:
            for value in [*range(-5, 36), None]:
                col = literal(value, Integer)
                got = conn.execute(select(outside_ranges(col, ranges))).scalar()
                negated = conn.execute(select(not_(in_ranges(col, ranges)))).scalar()
                assert got == negated, (ranges, value)
                if value is not None:
                    inside = any(first <= value <= last for first, last in ranges)
                    assert bool(got) is not inside, (ranges, value)


# --- the fast path: what goes, what stays -----------------------------------------------------------------


def _two_runs(engine: Engine, seed: int) -> list[SeededRun]:
    rng = random.Random(seed)
    with engine.begin() as conn:
        return [write_seeded_run(conn, rng), write_seeded_run(conn, rng, nested_replies=False)]


def test_fast_path_removes_exactly_the_seeded_rows(engine: Engine) -> None:
    """Nothing real anywhere: every seeded table takes the fast path, ends empty, and keeps its indexes."""
    runs = _two_runs(engine, 43)
    before, indexes = _dump(engine), _indexes(engine)
    removed, fast = _run_cleanup(engine)
    assert fast == _expected_fast(engine, set(registry.seeded_tables()))
    after = _dump(engine)
    assert after == without(before, *(r.keys() for r in runs))
    assert all(not after[name] for name in registry.seeded_tables())
    assert after["reactions"] == before["reactions"] and after["reactions"]
    assert removed == {name: sum(r.row_counts().get(name, 0) for r in runs) for name in removed} | {
        registry.SEED_RUNS: 2
    }
    assert _indexes(engine) == indexes


def test_a_real_row_keeps_its_table_off_the_fast_path(engine: Engine) -> None:
    """A real reaction (on a real message in a real channel, by real users): those tables are cleaned by
    DELETE, every real row survives, and only user_channels, which holds nothing real, goes fast."""
    runs = _two_runs(engine, 47)
    real = RealRows()
    with engine.begin() as conn:
        first, second = real.user(conn), real.user(conn)
        channel = real.channel(conn, first)
        real.reaction(conn, real.message(conn, second, channel), first, reaction_ids(conn)[0])
    before, indexes = _dump(engine), _indexes(engine)
    removed, fast = _run_cleanup(engine)
    assert fast == _expected_fast(engine, {"user_channels"}) == {"user_channels"}
    after = _dump(engine)
    assert after == without(before, *(r.keys() for r in runs))
    for name, keys in real.keys().items():
        assert len(after[name]) == len(keys), name
    assert removed["messages"] == sum(len(r.messages) for r in runs)
    assert _indexes(engine) == indexes


def test_rows_of_another_run_are_real_to_the_fast_path(engine: Engine) -> None:
    """Cleaning one run of two: the other run's rows sit in every table, so nothing goes fast."""
    runs = _two_runs(engine, 53)
    before = _dump(engine)
    removed, fast = _run_cleanup(engine, [runs[1].run_id])
    assert fast == set()
    assert _dump(engine) == without(before, runs[1].keys())
    assert removed["message_reactions"] == len(runs[1].keys()["message_reactions"])
    removed, fast = _run_cleanup(engine)
    assert fast == _expected_fast(engine, set(registry.seeded_tables()))
    assert _dump(engine) == without(before, *(r.keys() for r in runs))


def test_fast_path_rolls_back_with_the_transaction(engine: Engine) -> None:
    _two_runs(engine, 59)
    before, indexes = _dump(engine), _indexes(engine)
    with engine.connect() as conn, conn.begin() as transaction:
        execute_cleanup(conn, plan_cleanup(conn, select_runs(conn)))
        assert all(not rows for name, rows in dump(conn).items() if name in registry.seeded_tables())
        transaction.rollback()
    assert _dump(engine) == before
    assert _indexes(engine) == indexes


def test_cli_yes_reports_the_counts_it_removed_and_refusals_still_show_the_plan(
    db_url: str, engine: Engine
) -> None:
    """--yes skips the preview's counts: the result's counts and a refusal's JSON must not miss them."""
    runs = _two_runs(engine, 61)
    real = RealRows()
    with engine.begin() as conn:
        real.message(conn, real.user(conn), runs[0].channels[0])  # a real post in a seeded channel
    refused = run_script(SCRIPT, "--yes", "--json", database_url=db_url)
    assert refused.returncode == 1, refused.stderr
    report = json.loads(refused.stdout)
    assert report["status"] == "refused"
    assert report["counts"]["messages"] == sum(len(r.messages) for r in runs)
    assert report["total"] == sum(sum(r.row_counts().values()) for r in runs) + 2

    cascaded = run_script(SCRIPT, "--yes", "--cascade", "--json", database_url=db_url)
    assert cascaded.returncode == 0, cascaded.stderr
    result = json.loads(cascaded.stdout)
    assert result["removed"]["messages"] == sum(len(r.messages) for r in runs)
    assert result["dependents_removed"] == {"messages": 1}


# --- a kill while the fast path is under way --------------------------------------------------------------


def test_kill_after_the_fast_path_changes_nothing(backend: str, db_url: str, engine: Engine) -> None:
    """SIGKILL the cleanup once the fast path has emptied the child tables, before it commits."""
    rng = random.Random(67)
    with engine.begin() as conn:
        run = write_seeded_run(conn, rng, users=40, channels=20, messages=2000, replies=1000, reactions=2000)
        RealRows().user(conn)  # a real user: users stays on the DELETE path, the rest goes fast
    before, indexes = _dump(engine), _indexes(engine)

    if backend == "postgresql":
        # A row lock on a seeded user: the cleanup truncates the children, then blocks deleting users.
        blocker = engine.connect()
        blocker.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": run.users[0]})
        proc = spawn_cleanup(db_url)
        watcher = create_engine(db_url, isolation_level="AUTOCOMMIT")

        def blocked() -> bool:
            with watcher.connect() as conn:
                return bool(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM users%'"
                        )
                    ).scalar()
                )

        try:
            wait_for(blocked, proc, "the delete from users to block")
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
            blocker.rollback()
        finally:
            blocker.close()
            watcher.dispose()
    else:
        # A reader holds the database: the cleanup writes everything to its journal, then cannot commit.
        path = Path(engine.url.database or "")
        journal = path.with_name(path.name + "-journal")
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM users").fetchall()
        proc = spawn_cleanup(db_url)
        try:
            wait_for(journal.exists, proc, "the cleanup to start writing")
            time.sleep(1.0)
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
        finally:
            reader.execute("ROLLBACK")
            reader.close()
    assert proc.returncode == -signal.SIGKILL
    engine.dispose()
    # Waits for PostgreSQL to end the killed session's transaction.
    deadline = time.monotonic() + 30
    while _dump(engine) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _dump(engine) == before
    assert _indexes(engine) == indexes
    assert run_script(SCRIPT, "--yes", database_url=db_url).returncode == 0
    assert _dump(engine) == without(before, run.keys())
    assert _indexes(engine) == indexes
