"""ledger.py through the runner: the seed_runs row and id blocks, re-runs, appends, real rows beside seeded
ones, sequences, and all-or-nothing runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import faker
import pytest
from sqlalchemy import Engine, delete, func, insert, select

from backend.database import make_engine
from backend.models import Base, Channel, Message, MessageReaction, SeedRun, SeedRunBlock, User, UserChannel
from backend.seeding import runner
from backend.seeding.registry import GENERATOR_VERSION
from backend.seeding.verify import check_invariants
from backend.tests.seed_helpers import (
    AS_OF_DATE,
    ID_TABLES,
    SEED_TABLES,
    another_database,
    assert_same_dump,
    canonical_dump,
    fetch,
    insert_real_rows,
    make_options,
    real_rows_dump,
    run_blocks,
    schema_objects,
    seed,
    table_counts,
)

OPTIONS: dict[str, Any] = {"users": 10, "channels": 6, "messages_per_channel": 8, "seed": 21}


def _check_blocks(engine: Engine, run_id: int) -> dict[str, tuple[int, int, int]]:
    """Each id table's block is contiguous and holds exactly the run's rows; returns the blocks."""
    with engine.connect() as conn:
        blocks = run_blocks(conn, run_id)
        assert set(blocks) == set(ID_TABLES)
        counts = json.loads(
            conn.execute(select(SeedRun.row_counts_json).where(SeedRun.id == run_id)).scalar_one()
        )
        for table, (first, last, row_count) in blocks.items():
            ids_column = Base.metadata.tables[table].c.id
            ids = list(
                conn.execute(
                    select(ids_column).where(ids_column.between(first, last)).order_by(ids_column)
                ).scalars()
            )
            assert ids == list(range(first, last + 1)), f"{table}: block {first}..{last} is not contiguous"
            assert row_count == len(ids) == counts[table] > 0, table
        memberships = conn.execute(
            select(func.count()).select_from(UserChannel).where(UserChannel.seed_run_id == run_id)
        ).scalar_one()
        assert memberships == counts["user_channels"] > 0
    return blocks


def test_a_run_is_recorded_with_its_inputs_blocks_and_counts(engine: Engine) -> None:
    summary = seed(engine, "test", **OPTIONS)
    options = make_options("test", **OPTIONS)
    with engine.connect() as conn:
        run = conn.execute(select(SeedRun.__table__)).one()
        totals = table_counts(conn)
    assert run.id == summary.run_id
    assert (run.profile, run.seed, run.as_of) == ("test", 21, AS_OF_DATE)
    assert json.loads(run.options_json) == json.loads(options.to_json())
    assert run.options_digest == options.digest()
    assert run.faker_version == faker.VERSION
    assert run.generator_version == GENERATOR_VERSION
    counts = json.loads(run.row_counts_json)
    assert counts == {table: totals[table] for table in SEED_TABLES} == summary.counts
    started = run.started_at.replace(tzinfo=run.started_at.tzinfo or UTC)
    finished = run.finished_at.replace(tzinfo=run.finished_at.tzinfo or UTC)
    assert started <= finished <= datetime.now(UTC) + timedelta(seconds=5)
    blocks = _check_blocks(engine, run.id)
    assert all(first == 1 for first, _last, _count in blocks.values())
    assert totals["seed_runs"] == 1 and totals["seed_run_blocks"] == len(ID_TABLES)


def test_running_again_writes_nothing(engine: Engine) -> None:
    first = seed(engine, "test", **OPTIONS)
    with engine.connect() as conn:
        before = table_counts(conn)
    again = seed(engine, "test", **OPTIONS)
    assert again.skipped_for_run == first.run_id
    assert again.counts == first.counts
    with engine.connect() as conn:
        assert table_counts(conn) == before
    # workers only change how rows are made, not which: still the same run.
    assert seed(engine, "test", **OPTIONS, workers=2).skipped_for_run == first.run_id


def test_a_run_of_other_tables_is_not_the_same_run(engine: Engine) -> None:
    """Row counts record the tables a run seeded: one seeded before a table was added does not count."""
    first = seed(engine, "test", **OPTIONS)
    with engine.begin() as conn:
        counts = json.loads(conn.execute(select(SeedRun.row_counts_json)).scalar_one())
        dropped = SEED_TABLES[-1]
        del counts[dropped]
        conn.execute(
            SeedRun.__table__.update().values(row_counts_json=json.dumps(counts), faker_version="0.1")
        )
    with pytest.raises(runner.SeedError) as caught:
        seed(engine, "test", **OPTIONS)
    message = str(caught.value)
    assert f"run {first.run_id} has the same seed and options" in message
    assert f"tables seeded now but not then: {dropped}" in message
    assert f"Faker 0.1 (now {faker.VERSION})" in message
    with engine.connect() as conn:
        assert table_counts(conn)["seed_runs"] == 1


def test_other_options_make_a_new_run(engine: Engine) -> None:
    first = seed(engine, "test", **OPTIONS)
    second = seed(engine, "test", **{**OPTIONS, "seed": 22})
    assert second.skipped_for_run is None and second.run_id != first.run_id
    with engine.connect() as conn:
        assert table_counts(conn)["seed_runs"] == 2


def test_append_adds_a_run_with_new_blocks_and_distinct_identities(engine: Engine) -> None:
    first = seed(engine, "test", **OPTIONS)
    second = seed(engine, "test", append=True, **OPTIONS)
    assert second.run_id != first.run_id and second.skipped_for_run is None
    assert second.counts == first.counts
    blocks_1 = _check_blocks(engine, first.run_id)
    blocks_2 = _check_blocks(engine, second.run_id)
    for table in ID_TABLES:
        assert blocks_2[table][0] == blocks_1[table][1] + 1, f"{table}: the new block follows the old one"
    with engine.connect() as conn:
        users = fetch(conn, "users")
        totals = table_counts(conn)
        assert all(r.ok for r in check_invariants(conn))
    assert len(users) == 2 * OPTIONS["users"]
    assert len({u["email"] for u in users}) == len(users)
    assert len({u["auth0_id"] for u in users}) == len(users)
    assert totals["seed_runs"] == 2
    assert totals["messages"] == 2 * first.counts["messages"]


def test_real_rows_are_kept_and_seeded_ids_come_after_them(engine: Engine) -> None:
    with engine.begin() as conn:
        real = insert_real_rows(conn)
    with engine.connect() as conn:
        before = real_rows_dump(conn, real)
    summary = seed(engine, "test", **OPTIONS)
    assert summary.skipped_for_run is None
    blocks = _check_blocks(engine, summary.run_id)
    with engine.connect() as conn:
        assert real_rows_dump(conn, real) == before, "real rows are untouched"
        assert all(r.ok for r in check_invariants(conn))
        totals = table_counts(conn)
    assert blocks["users"][0] > max(real.users)
    assert blocks["channels"][0] > max(real.channels)
    assert blocks["messages"][0] > max(real.messages)
    assert blocks["message_reactions"][0] > max(real.reactions)
    assert totals["users"] == len(real.users) + OPTIONS["users"]


def test_seeded_ids_come_after_every_id_ever_used(engine: Engine) -> None:
    """Real rows deleted from the top of a table leave their ids used: a block starts past them (PostgreSQL's
    sequences, SQLite's sqlite_sequence), not at max(id) + 1."""
    with engine.begin() as conn:
        real = insert_real_rows(conn)
        newest = max(real.messages)
        conn.execute(delete(MessageReaction).where(MessageReaction.message_id == newest))
        conn.execute(delete(Message).where(Message.id == newest))
    summary = seed(engine, "test", **OPTIONS)
    blocks = _check_blocks(engine, summary.run_id)
    assert blocks["messages"][0] == newest + 1


def test_the_data_does_not_depend_on_what_the_database_holds(
    backend: str, engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Only the block starts differ, and with them only the values made unique from the ids."""
    seed(engine, "test", **OPTIONS)
    with engine.connect() as conn:
        on_empty = canonical_dump(conn)
    other = make_engine(another_database(request, backend, tmp_path))
    try:
        with other.begin() as conn:
            insert_real_rows(conn)
        seed(other, "test", **OPTIONS)
        with other.connect() as conn:
            beside_real_rows = canonical_dump(conn)
    finally:
        other.dispose()
    id_derived = {"users": ("auth0_id", "email"), "channels": ("join_code",)}
    for table, columns in id_derived.items():
        names = [c.name for c in Base.metadata.tables[table].columns]
        for dump in (on_empty, beside_real_rows):
            dump[table] = [
                tuple(None if names[i] in columns else v for i, v in enumerate(row)) for row in dump[table]
            ]
    assert_same_dump(on_empty, beside_real_rows)


def test_the_app_can_insert_after_a_seed(engine: Engine) -> None:
    """Plain INSERTs without an id (the app's) work after seeding: PostgreSQL's sequences were advanced."""
    seed(engine, "test", **OPTIONS)
    at = datetime(2026, 6, 1, 9, tzinfo=UTC)
    with engine.begin() as conn:
        blocks = run_blocks(conn, 1)
        user = conn.execute(
            insert(User)
            .values(auth0_id="auth0|new", email="new@company.test", is_active=True, created_at=at, name="New")
            .returning(User.id)
        ).scalar_one()
        channel = conn.execute(
            insert(Channel)
            .values(name="new", owner_id=user, created_at=at, is_private=False, is_dm=False)
            .returning(Channel.id)
        ).scalar_one()
        conn.execute(insert(UserChannel).values(user_id=user, channel_id=channel, joined_at=at))
        message = conn.execute(
            insert(Message)
            .values(content="hi", created_at=at, updated_at=at, user_id=user, channel_id=channel)
            .returning(Message.id)
        ).scalar_one()
        reaction = conn.execute(
            insert(MessageReaction)
            .values(message_id=message, reaction_id=1, user_id=user, created_at=at)
            .returning(MessageReaction.id)
        ).scalar_one()
    assert user > blocks["users"][1] and channel > blocks["channels"][1]
    assert message > blocks["messages"][1] and reaction > blocks["message_reactions"][1]
    # And a later run starts after the app's rows.
    summary = seed(engine, "test", **{**OPTIONS, "seed": 99})
    with engine.connect() as conn:
        assert run_blocks(conn, summary.run_id)["users"][0] > user


def _fail_on_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the writer fail once it reaches the messages: users, channels and memberships are written."""
    original = runner.make_writer

    def failing_writer(*args: Any, **kwargs: Any) -> Any:
        writer = original(*args, **kwargs)
        write_all = writer.write_all

        def write_all_or_fail(items: Any) -> None:
            def until_messages() -> Any:
                for table, payload, rows in items:
                    if table == "messages":
                        raise RuntimeError("disk full")
                    yield table, payload, rows

            write_all(until_messages())

        writer.write_all = write_all_or_fail  # type: ignore[method-assign]
        return writer

    monkeypatch.setattr(runner, "make_writer", failing_writer)


def test_a_failure_mid_run_leaves_nothing_behind(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with engine.begin() as conn:
        real = insert_real_rows(conn)
    with engine.connect() as conn:
        before = (table_counts(conn), real_rows_dump(conn, real), schema_objects(conn))
    _fail_on_messages(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        seed(engine, "test", **OPTIONS)
    with engine.connect() as conn:
        after = (table_counts(conn), real_rows_dump(conn, real), schema_objects(conn))
    assert after[0] == before[0], "no rows and no ledger entry"
    assert after[1] == before[1]
    assert after[2] == before[2], "indexes and constraints dropped for the bulk load are back"
    monkeypatch.undo()
    summary = seed(engine, "test", **OPTIONS)
    assert summary.skipped_for_run is None, "the failed run left no ledger entry to skip for"
    _check_blocks(engine, summary.run_id)


def test_a_failure_on_an_empty_database_leaves_it_empty(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as conn:
        objects = schema_objects(conn)
    _fail_on_messages(monkeypatch)
    with pytest.raises(RuntimeError):
        seed(engine, "test", **OPTIONS)
    with engine.connect() as conn:
        assert set(table_counts(conn).values()) == {0}
        assert schema_objects(conn) == objects
        assert conn.execute(select(func.count()).select_from(SeedRunBlock)).scalar_one() == 0
