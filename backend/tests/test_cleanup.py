"""cleanup_fake_data.py: exactly the ledger's rows go and real rows stay byte for byte, on both backends."""

from __future__ import annotations

import json
import os
import pty
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, insert, text

from backend.models import Base, UserChannel
from backend.schema import MIGRATE_COMMAND
from backend.seeding import registry
from backend.seeding.cleanup import (
    DependentsError,
    UnknownRunError,
    delete_order,
    execute_cleanup,
    merge_ranges,
    plan_cleanup,
    select_runs,
)
from backend.tests.helpers import REPO_ROOT, SCRIPTS, T0, run_script, spawn_cleanup, wait_for
from backend.tests.ledger_fixtures import (
    RealRows,
    SeededRun,
    dump,
    reaction_ids,
    without,
    write_real_rows,
    write_seeded_run,
)

SCRIPT = "cleanup_fake_data.py"
Dump = dict[str, list[tuple[Any, ...]]]


def _dump(engine: Engine) -> Dump:
    with engine.connect() as conn:
        return dump(conn)


def _expected_counts(*runs: SeededRun) -> dict[str, int]:
    """Seeded rows per table of these runs, in the cleanup's delete order."""
    counts = {table: sum(len(r.keys().get(table, ())) for r in runs) for table in delete_order()}
    assert list(counts) == list(delete_order())
    return counts


def _count_in(output: str, label: str) -> int:
    """The number on the line of a per-table listing that starts with label."""
    for line in output.splitlines():
        if line.split()[:1] == [label]:
            return int(line.split()[-1])
    raise AssertionError(f"no line for {label!r} in:\n{output}")


def _assert_one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")


@pytest.fixture
def world(engine: Engine) -> tuple[RealRows, list[SeededRun]]:
    """Real rows, two seeded runs, more real rows written between and after them."""
    rng = random.Random(7)
    real = RealRows()
    runs = []
    with engine.begin() as conn:
        write_real_rows(conn, rng, real, rounds=15)
    for _ in range(2):
        with engine.begin() as conn:
            runs.append(write_seeded_run(conn, rng))
        with engine.begin() as conn:
            write_real_rows(conn, rng, real, rounds=15)
    return real, runs


# --- the library -----------------------------------------------------------------------------------------


def test_merge_ranges_joins_adjacent_and_drops_empty() -> None:
    assert merge_ranges([(5, 9), (1, 4), (20, 19), (12, 15), (14, 30)]) == ((1, 9), (12, 30))
    assert merge_ranges([]) == ()


def test_randomised_interleaving_keeps_every_real_row(db_url: str, engine: Engine) -> None:
    """Real activity interleaved with seeded runs; clean one run, then all: real rows are untouched."""
    rng = random.Random(20261122)
    real = RealRows()
    runs: list[SeededRun] = []
    for round_no in range(4):
        with engine.begin() as conn:
            write_real_rows(conn, rng, real, rounds=rng.randint(5, 40))
        with engine.begin() as conn:
            runs.append(
                write_seeded_run(
                    conn,
                    rng,
                    users=rng.randint(2, 9),
                    channels=rng.randint(1, 6),
                    messages=rng.randint(0, 30),
                    replies=rng.randint(0, 25),
                    reactions=rng.randint(0, 30),
                    nested_replies=round_no % 2 == 0,
                )
            )
    with engine.begin() as conn:
        write_real_rows(conn, rng, real, rounds=30)
    assert real.messages and real.reactions and real.memberships
    before = _dump(engine)

    victim = runs[1]
    with engine.begin() as conn:
        plan = plan_cleanup(conn, select_runs(conn, [victim.run_id]))
        assert dict(plan.counts) == _expected_counts(victim)
        assert not plan.dependents
        result = execute_cleanup(conn, plan)
        assert dict(result.removed) == _expected_counts(victim)
    assert _dump(engine) == without(before, victim.keys())

    cleaned = run_script(SCRIPT, "--yes", database_url=db_url)
    assert cleaned.returncode == 0, cleaned.stderr
    rest = [r for r in runs if r is not victim]
    assert _count_in(cleaned.stdout, "messages") == sum(len(r.messages) for r in rest)
    assert _count_in(cleaned.stdout, "users") == sum(len(r.users) for r in rest)
    after = _dump(engine)
    assert after == without(before, *(r.keys() for r in runs))
    assert after["seed_runs"] == [] and after["seed_run_blocks"] == []
    # Every real row is still there, and nothing else.
    for table_name, keys in real.keys().items():
        assert len(after[table_name]) == len(keys), table_name
    assert after["reactions"] == before["reactions"]


def test_execute_refuses_dependents_and_changes_nothing(engine: Engine) -> None:
    rng = random.Random(3)
    real = RealRows()
    with engine.begin() as conn:
        run = write_seeded_run(conn, rng)
        user = real.user(conn)
        real.message(conn, user, run.channels[0], parent=run.top_level[0])
    before = _dump(engine)
    with pytest.raises(DependentsError) as caught, engine.begin() as conn:
        execute_cleanup(conn, plan_cleanup(conn, select_runs(conn)))
    kinds = {d.kind for d in caught.value.dependents.kinds}
    assert kinds == {"fk_messages_channel_id_channels", "fk_messages_parent_id_messages"}
    assert "messages.channel_id references them (fk_messages_channel_id_channels)" in str(caught.value)
    assert caught.value.dependents.rows == {"messages": 1}, "overlapping kinds count the row once"
    assert _dump(engine) == before


def test_rows_of_unselected_runs_are_dependents_too(engine: Engine) -> None:
    rng = random.Random(5)
    with engine.begin() as conn:
        first = write_seeded_run(conn, rng)
        second = write_seeded_run(conn, rng)
        # Run 2 marks its own user's membership in run 1's channel (the seeder never does; be exact anyway).
        conn.execute(
            insert(UserChannel).values(
                user_id=second.users[0], channel_id=first.channels[0], joined_at=T0, seed_run_id=second.run_id
            )
        )
    with engine.connect() as conn:
        plan = plan_cleanup(conn, [first.run_id])
        assert [d.kind for d in plan.dependents.kinds] == ["fk_user_channels_channel_id_channels"]
        assert plan.dependents.kinds[0].sample_ids == ((second.users[0], first.channels[0]),)
        assert not plan_cleanup(conn, select_runs(conn)).dependents
    with engine.begin() as conn:
        execute_cleanup(conn, plan_cleanup(conn, select_runs(conn)))
    assert not any(_dump(engine)[t] for t in delete_order())


def test_select_runs(engine: Engine) -> None:
    rng = random.Random(1)
    with engine.begin() as conn:
        assert select_runs(conn) == () and select_runs(conn, latest=True) == ()
        runs = [
            write_seeded_run(conn, rng, users=2, channels=1, messages=1, replies=0, reactions=0)
            for _ in "abc"
        ]
    ids = [r.run_id for r in runs]
    with engine.connect() as conn:
        assert select_runs(conn) == tuple(ids)
        assert select_runs(conn, latest=True) == (ids[-1],)
        assert select_runs(conn, [ids[2], ids[0], ids[2]]) == (ids[0], ids[2])
        with pytest.raises(UnknownRunError, match="998, 999"):
            select_runs(conn, [ids[0], 999, 998])


def test_empty_run_is_removed(engine: Engine) -> None:
    with engine.begin() as conn:
        run = write_seeded_run(conn, random.Random(2), users=0, messages=0, replies=0, reactions=0)
        plan = plan_cleanup(conn, [run.run_id])
        assert plan.total == 1 and plan.counts["seed_runs"] == 1
        execute_cleanup(conn, plan)
    assert _dump(engine)["seed_runs"] == []


# --- dependents, refused then cascaded --------------------------------------------------------------------

Scenario = Callable[[Connection, SeededRun, RealRows, dict[str, int]], dict[str, set[Any]]]


def _message_in_seeded_channel(conn: Connection, run: SeededRun, real: RealRows, b: dict[str, int]) -> Any:
    return {"messages": {real.message(conn, b["user2"], run.channels[0])}}


def _reply_to_seeded_message(conn: Connection, run: SeededRun, real: RealRows, b: dict[str, int]) -> Any:
    return {"messages": {real.message(conn, b["user2"], b["channel"], parent=run.top_level[0])}}


def _reaction_on_seeded_message(conn: Connection, run: SeededRun, real: RealRows, b: dict[str, int]) -> Any:
    return {"message_reactions": {real.reaction(conn, run.top_level[0], b["user2"], b["kind"])}}


def _membership_in_seeded_channel(conn: Connection, run: SeededRun, real: RealRows, b: dict[str, int]) -> Any:
    return {"user_channels": {real.membership(conn, b["user2"], run.channels[0])}}


def _membership_of_seeded_user(conn: Connection, run: SeededRun, real: RealRows, b: dict[str, int]) -> Any:
    return {"user_channels": {real.membership(conn, run.users[0], b["channel"])}}


def _channel_owned_by_seeded_user(conn: Connection, run: SeededRun, real: RealRows, b: dict[str, int]) -> Any:
    return {"channels": {real.channel(conn, run.users[0])}}


def _message_by_seeded_user(conn: Connection, run: SeededRun, real: RealRows, b: dict[str, int]) -> Any:
    return {"messages": {real.message(conn, run.users[0], b["channel"])}}


def _reaction_by_seeded_user(conn: Connection, run: SeededRun, real: RealRows, b: dict[str, int]) -> Any:
    return {"message_reactions": {real.reaction(conn, b["message"], run.users[0], b["kind"])}}


# One per foreign key into a seeded table, by the constraint's name (test_every_foreign_key_has_a_scenario).
SCENARIOS: dict[str, Scenario] = {
    "fk_messages_channel_id_channels": _message_in_seeded_channel,
    "fk_messages_parent_id_messages": _reply_to_seeded_message,
    "fk_message_reactions_message_id_messages": _reaction_on_seeded_message,
    "fk_user_channels_channel_id_channels": _membership_in_seeded_channel,
    "fk_user_channels_user_id_users": _membership_of_seeded_user,
    "fk_channels_owner_id_users": _channel_owned_by_seeded_user,
    "fk_messages_user_id_users": _message_by_seeded_user,
    "fk_message_reactions_user_id_users": _reaction_by_seeded_user,
}


def test_every_foreign_key_into_a_seeded_table_has_a_scenario() -> None:
    """A new table referencing a seeded one (or a new foreign key) needs its refused-then-cascaded case."""
    seeded = set(registry.seeded_tables())
    into_seeded = {
        str(fk.name)
        for table in Base.metadata.tables.values()
        for fk in table.foreign_key_constraints
        if fk.referred_table.name in seeded
    }
    assert into_seeded == set(SCENARIOS)


def _base_real_rows(conn: Connection, real: RealRows) -> dict[str, int]:
    """A small real chat that must survive every cleanup."""
    user1, user2 = real.user(conn), real.user(conn)
    channel = real.channel(conn, user1)
    real.membership(conn, user1, channel)
    message = real.message(conn, user1, channel)
    kind = reaction_ids(conn)[0]
    real.reaction(conn, real.message(conn, user2, channel, parent=message), user1, kind)
    return {"user1": user1, "user2": user2, "channel": channel, "message": message, "kind": kind}


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_each_dependent_is_refused_then_cascaded(db_url: str, engine: Engine, kind: str) -> None:
    real = RealRows()
    with engine.begin() as conn:
        run = write_seeded_run(conn, random.Random(11))
        base = _base_real_rows(conn, real)
        dependent = SCENARIOS[kind](conn, run, real, base)
    before = _dump(engine)
    ((table_name, keys),) = dependent.items()
    (key,) = keys

    refused = run_script(SCRIPT, "--yes", database_url=db_url)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    first, *details = refused.stderr.strip().splitlines()
    assert first.startswith("error: refusing to remove: seeded rows have 1 dependent row outside")
    assert "--cascade" in first
    assert len(details) == 1, refused.stderr
    shown = str(key) if isinstance(key, int) else f"({key[0]}, {key[1]})"
    assert details[0].strip().startswith(f"{table_name}: 1 ") and shown in details[0]
    assert _dump(engine) == before

    dry = run_script(SCRIPT, "--dry-run", "--json", database_url=db_url)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert [d["kind"] for d in report["dependents"]["kinds"]] == [kind]
    assert report["dependents"]["rows"] == {table_name: 1}

    cascaded = run_script(SCRIPT, "--yes", "--cascade", database_url=db_url)
    assert cascaded.returncode == 0, cascaded.stderr
    assert "and 1 dependent row outside those runs (--cascade):" in cascaded.stdout
    assert f"  {table_name}: 1" in cascaded.stdout
    assert _dump(engine) == without(before, run.keys(), dependent)


def test_cascade_follows_threads_channels_and_reactions(db_url: str, engine: Engine) -> None:
    """With --cascade, whatever hangs off a dependent goes too (reply chains across channels, reactions on
    them, a real channel owned by a seeded user with its members and messages); nothing else does."""
    real = RealRows()
    with engine.begin() as conn:
        run = write_seeded_run(conn, random.Random(13))
        base = _base_real_rows(conn, real)
        u1, u2, kind = base["user1"], base["user2"], base["kind"]
        other = real.channel(conn, u2)
        # A real thread hanging off a seeded message, hopping between real channels.
        a = real.message(conn, u1, other, parent=run.top_level[0])
        b = real.message(conn, u2, base["channel"], parent=a)
        c = real.message(conn, u1, other, parent=b)
        r1, r2 = real.reaction(conn, c, u2, kind), real.reaction(conn, b, u1, kind)
        # A real channel owned by a seeded user, with real members, messages, a thread leaving it, reactions.
        owned = real.channel(conn, run.users[1], private=True)
        m1 = real.membership(conn, u1, owned)
        t1 = real.message(conn, u1, owned)
        t2 = real.message(conn, u2, owned, parent=t1)
        t3 = real.message(conn, u1, base["channel"], parent=t2)
        r3 = real.reaction(conn, t3, u2, kind)
        # A seeded user's post in a real channel, a real reply to it, and a seeded user's reaction on real.
        s1 = real.message(conn, run.users[0], base["channel"])
        s2 = real.message(conn, u1, base["channel"], parent=s1)
        r4 = real.reaction(conn, base["message"], run.users[0], kind)
        # Real rows that merely sit next to all this stay.
        keep = real.message(conn, u2, other)
        real.reaction(conn, keep, u1, kind)
    gone = {
        "messages": {a, b, c, t1, t2, t3, s1, s2},
        "message_reactions": {r1, r2, r3, r4},
        "channels": {owned},
        "user_channels": {m1},
    }
    before = _dump(engine)

    refused = run_script(SCRIPT, "--yes", database_url=db_url)
    assert refused.returncode == 1 and _dump(engine) == before
    for constraint in (
        "fk_messages_parent_id_messages",
        "fk_channels_owner_id_users",
        "fk_messages_user_id_users",
    ):
        assert constraint in refused.stderr

    with engine.begin() as conn:
        result = execute_cleanup(conn, plan_cleanup(conn, select_runs(conn)), cascade=True)
    assert dict(result.removed) == _expected_counts(run)
    assert {t: n for t, n in result.dependents_removed.items() if n} == {t: len(k) for t, k in gone.items()}
    assert _dump(engine) == without(before, run.keys(), gone)


# --- the command line ------------------------------------------------------------------------------------


def test_cli_removes_all_and_second_run_finds_nothing(db_url: str, engine: Engine, world: Any) -> None:
    _real, runs = world
    before = _dump(engine)
    result = run_script(SCRIPT, "--yes", database_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and result.stderr == ""
    expected = _expected_counts(*runs)
    assert result.stdout.startswith(f"removed {sum(expected.values())} seeded rows of 2 seed runs (id 1, 2):")
    assert _count_in(result.stdout, "message_reactions") == expected["message_reactions"]
    assert _count_in(result.stdout, "messages") == expected["messages"]
    assert _count_in(result.stdout, "seed_runs") == 2
    after = _dump(engine)
    assert after == without(before, *(r.keys() for r in runs))

    again = run_script(SCRIPT, "--yes", database_url=db_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "nothing to remove: the ledger has no seed runs to clean up"
    assert _dump(engine) == after


def test_a_real_row_after_the_newest_seeded_rows_were_deleted_keeps_out_of_the_block(
    db_url: str, engine: Engine
) -> None:
    """The app deletes the newest seeded message and reaction, then real ones are written: they must not take
    ids inside the run's blocks (SQLite without AUTOINCREMENT hands out max(id) + 1 again), or cleanup would
    remove them with the run."""
    seeded = run_script(
        "seed_data.py", "--profile", "test", "--as-of", "2026-06-01", "--quiet", database_url=db_url
    )
    assert seeded.returncode == 0, seeded.stderr
    real = RealRows()
    with engine.begin() as conn:
        newest_reaction = conn.execute(text("SELECT max(id) FROM message_reactions")).scalar_one()
        conn.execute(text("DELETE FROM message_reactions WHERE id = :r"), {"r": newest_reaction})
        newest_message = conn.execute(text("SELECT max(id) FROM messages")).scalar_one()
        thread = "SELECT id FROM messages WHERE id = :m OR parent_id = :m"
        conn.execute(
            text(f"DELETE FROM message_reactions WHERE message_id IN ({thread})"), {"m": newest_message}
        )
        conn.execute(text("DELETE FROM messages WHERE parent_id = :m"), {"m": newest_message})
        conn.execute(text("DELETE FROM messages WHERE id = :m"), {"m": newest_message})
        user = real.user(conn)
        message = real.message(conn, user, real.channel(conn, user))
        reaction = real.reaction(conn, message, user, reaction_ids(conn)[0])
    assert message > newest_message and reaction > newest_reaction

    result = run_script(SCRIPT, "--yes", database_url=db_url)
    assert result.returncode == 0, result.stderr
    after = _dump(engine)
    assert [row[0] for row in after["messages"]] == [message]
    assert [row[0] for row in after["message_reactions"]] == [reaction]
    assert [row[0] for row in after["users"]] == [user]


def test_cli_run_and_latest_select_runs(db_url: str, engine: Engine, world: Any) -> None:
    _real, (first, second) = world
    with engine.begin() as conn:
        third = write_seeded_run(conn, random.Random(99))
    before = _dump(engine)

    latest = run_script(SCRIPT, "--latest", "--yes", database_url=db_url)
    assert latest.returncode == 0, latest.stderr
    assert f"of 1 seed run (id {third.run_id})" in latest.stdout
    assert _dump(engine) == without(before, third.keys())

    picked = run_script(
        SCRIPT, "--run", str(second.run_id), "--run", str(first.run_id), "-y", database_url=db_url
    )
    assert picked.returncode == 0, picked.stderr
    assert f"of 2 seed runs (id {first.run_id}, {second.run_id})" in picked.stdout
    assert _dump(engine) == without(before, first.keys(), second.keys(), third.keys())


def test_cli_dry_run_changes_nothing(db_url: str, engine: Engine, world: Any) -> None:
    _real, runs = world
    before = _dump(engine)
    text_run = run_script(SCRIPT, "--dry-run", "--run", str(runs[0].run_id), database_url=db_url)
    assert text_run.returncode == 0, text_run.stderr
    expected = _expected_counts(runs[0])
    assert text_run.stdout.startswith(f"would remove {sum(expected.values())} rows of 1 seed run")
    for table in delete_order():
        assert _count_in(text_run.stdout, table) == expected[table]
    assert "dry run: nothing was removed" in text_run.stdout

    json_run = run_script(SCRIPT, "--dry-run", "--json", database_url=db_url)
    assert json_run.returncode == 0, json_run.stderr
    report = json.loads(json_run.stdout)
    assert report["status"] == "dry run" and report["run_ids"] == [r.run_id for r in runs]
    assert report["counts"] == _expected_counts(*runs) and list(report["counts"]) == list(delete_order())
    assert _dump(engine) == before


def test_cli_json_result(db_url: str, engine: Engine, world: Any) -> None:
    _real, runs = world
    result = run_script(SCRIPT, "--yes", "--json", "--quiet", database_url=db_url)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "removed" and report["removed"] == _expected_counts(*runs)
    assert report["total"] == sum(_expected_counts(*runs).values())


def test_cli_without_terminal_or_yes_refuses(db_url: str, engine: Engine, world: Any) -> None:
    before = _dump(engine)
    result = run_script(SCRIPT, database_url=db_url, stdin="y\n")
    assert result.returncode == 2
    _assert_one_line_error(result)
    assert "not a terminal" in result.stderr and "--yes" in result.stderr
    assert _dump(engine) == before


def _run_on_terminal(db_url: str, answer: str) -> tuple[int, str, str]:
    """Run the script with a pseudo-terminal as stdin and type answer at the prompt."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_ENV", "ENVIRONMENT")}
    env["DATABASE_URL"] = db_url
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPTS / SCRIPT)],
            cwd=REPO_ROOT,
            env=env,
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(follower)
        os.write(leader, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(leader)
    return proc.returncode, out, err


def test_cli_prompt_answered_no_keeps_everything(db_url: str, engine: Engine, world: Any) -> None:
    before = _dump(engine)
    code, out, err = _run_on_terminal(db_url, "n")
    assert code == 1, err
    assert "would remove" in out and "Remove these rows? [y/N]" in out
    assert err.strip() == "aborted: nothing was removed"
    assert _dump(engine) == before


def test_cli_prompt_answered_yes_removes(db_url: str, engine: Engine, world: Any) -> None:
    _real, runs = world
    before = _dump(engine)
    code, out, err = _run_on_terminal(db_url, "y")
    assert code == 0, err
    assert "Remove these rows? [y/N]" in out and "removed " in out
    assert "Traceback" not in err
    assert _dump(engine) == without(before, *(r.keys() for r in runs))


def test_cli_unknown_run_is_a_usage_error(db_url: str, engine: Engine, world: Any) -> None:
    before = _dump(engine)
    result = run_script(SCRIPT, "--run", "999", "--yes", database_url=db_url)
    assert result.returncode == 2
    _assert_one_line_error(result)
    assert "no seed run with id 999" in result.stderr
    both = run_script(SCRIPT, "--run", "1", "--latest", "--yes", database_url=db_url)
    assert both.returncode == 2
    _assert_one_line_error(both)
    assert _dump(engine) == before


@pytest.mark.parametrize(
    "run_id", ["99999999999999999999999", "-99999999999999999999999", "9223372036854775808"]
)
def test_cli_a_run_id_too_big_for_the_database_is_unknown_on_both_backends(
    db_url: str, engine: Engine, world: Any, run_id: str
) -> None:
    """SQLite's driver cannot even bind such a number: the answer must still be PostgreSQL's, exit 2."""
    before = _dump(engine)
    result = run_script(SCRIPT, "--run", run_id, "--run", "1", "--yes", database_url=db_url)
    assert result.returncode == 2, result.stderr
    _assert_one_line_error(result)
    assert f"no seed run with id {int(run_id)} in the ledger" in result.stderr
    assert result.stdout == ""
    assert _dump(engine) == before


def test_cli_unmigrated_database(empty_db_url: str) -> None:
    result = run_script(SCRIPT, "--yes", database_url=empty_db_url)
    assert result.returncode == 1
    _assert_one_line_error(result)
    assert MIGRATE_COMMAND in result.stderr


def test_cli_connection_failure_hides_the_password() -> None:
    url = "postgresql+psycopg2://u:s3cret@127.0.0.1:1/x"
    for args in (("--yes",), ("--dry-run", "--database-url", url)):
        result = run_script(SCRIPT, *args, database_url=url, timeout=60)
        assert result.returncode == 1
        _assert_one_line_error(result)
        assert "s3cret" not in result.stderr + result.stdout
        assert "***" in result.stderr


# --- a kill in the middle ----------------------------------------------------------------------------------


def test_kill_during_cleanup_changes_nothing(backend: str, db_url: str, engine: Engine) -> None:
    """SIGKILL the cleanup after it has deleted children but before it commits: nothing is lost."""
    rng = random.Random(17)
    real = RealRows()
    with engine.begin() as conn:
        write_real_rows(conn, rng, real, rounds=40)
        run = write_seeded_run(conn, rng, users=40, channels=20, messages=3000, replies=1500, reactions=3000)
    before = _dump(engine)

    if backend == "postgresql":
        # Hold a row lock on a seeded user: the cleanup deletes every child table, then blocks on users.
        blocker = engine.connect()
        blocker.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": run.users[0]})
        proc = spawn_cleanup(db_url)
        watcher = create_engine(db_url, isolation_level="AUTOCOMMIT")

        def blocked_pid() -> int | None:
            with watcher.connect() as conn:
                return conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM users%'"
                    )
                ).scalar()

        try:
            wait_for(lambda: blocked_pid() is not None, proc, "the delete from users to block")
            server_pid = blocked_pid()
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
            blocker.rollback()
            with watcher.connect() as conn:
                for _ in range(1000):
                    alive = conn.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": server_pid}
                    ).scalar_one()
                    if not alive:
                        break
                    time.sleep(0.05)
        finally:
            blocker.close()
            watcher.dispose()
    else:
        # Hold a read lock: the cleanup deletes everything in its journal, then cannot commit.
        path = Path(engine.url.database or "")
        journal = path.with_name(path.name + "-journal")
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM users").fetchall()
        proc = spawn_cleanup(db_url)
        try:
            wait_for(journal.exists, proc, "the cleanup to start writing")
            time.sleep(0.5)
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
            assert journal.exists(), "the killed transaction left its rollback journal"
        finally:
            reader.execute("ROLLBACK")
            reader.close()
    assert proc.returncode == -signal.SIGKILL
    engine.dispose()
    assert _dump(engine) == before
    # And the same cleanup, left alone, completes.
    assert run_script(SCRIPT, "--yes", database_url=db_url).returncode == 0
    assert _dump(engine) == without(before, run.keys())


def test_select_runs_unknown_ids_listed(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(UnknownRunError) as caught:
        select_runs(conn, [3, 1])
    assert caught.value.run_ids == (1, 3)


def test_plan_counts_with_nothing_seeded(engine: Engine) -> None:
    with engine.connect() as conn:
        plan = plan_cleanup(conn, select_runs(conn))
        assert plan.is_empty and plan.total == 0 and not plan.dependents
        assert execute_cleanup(conn, plan).total == 0


def test_cli_json_refusal_and_json_needs_yes(db_url: str, engine: Engine) -> None:
    real = RealRows()
    with engine.begin() as conn:
        run = write_seeded_run(conn, random.Random(23))
        _message_by_seeded_user(conn, run, real, _base_real_rows(conn, real))
    before = _dump(engine)
    refused = run_script(SCRIPT, "--yes", "--json", database_url=db_url)
    assert refused.returncode == 1
    report = json.loads(refused.stdout)
    assert report["status"] == "refused" and report["dependents"]["rows"] == {"messages": 1}
    assert refused.stderr.startswith("error: refusing to remove") and "Traceback" not in refused.stderr
    needs_yes = run_script(SCRIPT, "--json", database_url=db_url)
    assert needs_yes.returncode == 2
    _assert_one_line_error(needs_yes)
    assert _dump(engine) == before


def test_progress_bar_reports_each_step(capsys: pytest.CaptureFixture[str]) -> None:
    from backend.commands.cleanup import _progress_bar

    with _progress_bar(False, 10) as off:
        assert off is None
    with _progress_bar(True, 10) as on:
        assert on is not None
        on("message_reactions", 4)
        on("users", 6)
    assert "users" in capsys.readouterr().err


def test_a_table_without_a_model_is_found_in_the_database(backend: str, db_url: str, engine: Engine) -> None:
    """A table the app added (no model here) with a real row referencing a seeded user: refused before any
    delete, naming the table, column and constraint on both backends; --cascade removes that row too."""
    with engine.begin() as conn:
        run = write_seeded_run(conn, random.Random(29))
        conn.execute(
            text(
                "CREATE TABLE app_notes (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, body TEXT, "
                "CONSTRAINT fk_app_notes_user_id FOREIGN KEY (user_id) REFERENCES users (id))"
            )
        )
        conn.execute(text("INSERT INTO app_notes VALUES (7, :user, 'call back')"), {"user": run.users[1]})
    before = _dump(engine)

    refused = run_script(SCRIPT, "--yes", database_url=db_url)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    first, detail = refused.stderr.strip().splitlines()
    assert first.startswith("error: refusing to remove: seeded rows have 1 dependent row outside")
    assert detail == "  app_notes: 1 row whose user_id references seeded users (fk_app_notes_user_id): id 7"
    assert _dump(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM app_notes")).scalar_one() == 1

    cascaded = run_script(SCRIPT, "--yes", "--cascade", database_url=db_url)
    assert cascaded.returncode == 0, cascaded.stderr
    assert "  app_notes: 1" in cascaded.stdout
    assert _dump(engine) == without(before, run.keys())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM app_notes")).scalar_one() == 0


def test_an_unnamed_foreign_key_is_described_by_its_columns(engine: Engine) -> None:
    with engine.begin() as conn:
        run = write_seeded_run(conn, random.Random(31))
        conn.execute(
            text("CREATE TABLE app_pins (id BIGINT PRIMARY KEY, channel_id BIGINT REFERENCES channels)")
        )
        conn.execute(text("INSERT INTO app_pins VALUES (3, :channel)"), {"channel": run.channels[0]})
    with engine.connect() as conn:
        (dependent,) = plan_cleanup(conn, select_runs(conn)).dependents.kinds
    assert (dependent.table, dependent.columns, dependent.parent, dependent.sample_ids) == (
        "app_pins",
        ("channel_id",),
        "channels",
        (3,),
    )
    # PostgreSQL names it itself; SQLite reports no name, so the columns stand in for it.
    assert dependent.constraint in ("app_pins_channel_id_fkey", "app_pins(channel_id) -> channels")


# --- the fast path: TRUNCATE of tables that hold nothing real (PostgreSQL) ----------------------------------


def _filenodes(engine: Engine) -> dict[str, int]:
    """Each seeded table's storage file: TRUNCATE gives a table a new one, DELETE keeps it."""
    query = text("SELECT pg_relation_filenode(CAST(:name AS regclass))")
    with engine.connect() as conn:
        return {
            name: int(conn.execute(query, {"name": name}).scalar_one()) for name in registry.seeded_tables()
        }


def test_tables_holding_only_seeded_rows_are_truncated_the_rest_deleted(pg_url: str) -> None:
    engine = create_engine(pg_url)
    rng = random.Random(13)
    try:
        with engine.begin() as conn:
            runs = [write_seeded_run(conn, rng), write_seeded_run(conn, rng)]
        with engine.begin() as conn:
            real_user = RealRows().user(conn)  # a real user nothing seeded points at
        before, files = _dump(engine), _filenodes(engine)
        with engine.begin() as conn:
            result = execute_cleanup(conn, plan_cleanup(conn, select_runs(conn)))
        assert dict(result.removed) == _expected_counts(*runs)
        after = _dump(engine)
        assert after == without(before, *(r.keys() for r in runs))
        assert [row[0] for row in after["users"]] == [real_user]
        changed = {name for name, node in _filenodes(engine).items() if node != files[name]}
        # users keeps its real row, so it is deleted from; everything referencing it held only seeded rows.
        assert changed == set(registry.seeded_tables()) - {"users"}
    finally:
        engine.dispose()


def test_nothing_is_truncated_when_real_rows_are_mixed_in(pg_url: str) -> None:
    engine = create_engine(pg_url)
    rng = random.Random(14)
    try:
        with engine.begin() as conn:
            runs = [write_seeded_run(conn, rng), write_seeded_run(conn, rng)]
        before, files = _dump(engine), _filenodes(engine)
        # Only the first run: the second run's rows are real to this cleanup, in every table.
        with engine.begin() as conn:
            execute_cleanup(conn, plan_cleanup(conn, select_runs(conn, [runs[0].run_id])))
        assert _dump(engine) == without(before, runs[0].keys())
        assert _filenodes(engine) == files
    finally:
        engine.dispose()


def test_truncate_rolls_back_with_the_transaction(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            write_seeded_run(conn, random.Random(15))
        before = _dump(engine)
        with engine.connect() as conn, conn.begin() as transaction:
            execute_cleanup(conn, plan_cleanup(conn, select_runs(conn)))
            assert all(not rows for name, rows in dump(conn).items() if name in registry.seeded_tables())
            transaction.rollback()
        assert _dump(engine) == before
    finally:
        engine.dispose()
