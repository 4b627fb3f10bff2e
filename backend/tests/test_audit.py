"""Audit, top-up and refresh on both backends: deleted seeded rows come back exactly, real rows are left
alone, audit's numbers agree with independent SQL, and a complete run is a no-op that regenerates nothing."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from backend.cli_support import run_cli
from backend.commands import audit as audit_command
from backend.models import Base, Message, MessageReaction, User
from backend.seeding import audit, registry
from backend.seeding.runner import seed_database
from backend.tests.seed_helpers import (
    T0,
    canonical_dump,
    insert_real_rows,
    make_options,
    real_rows_dump,
    run_blocks,
    seed,
)


def _delete_random_seeded_rows(conn: Connection, run_id: int, rng: random.Random, share: float) -> None:
    """Delete a random share of every seeded table's rows of the run, and every row that references them."""
    blocks = run_blocks(conn, run_id)
    doomed: dict[str, set[Any]] = {}
    for name in registry.seeded_tables():
        table = Base.metadata.tables[name]
        key = [c for c in table.primary_key.columns]
        if registry.is_id_block_table(name):
            mine = table.c.id.between(blocks[name][0], blocks[name][1])
        else:
            mine = table.c[registry.MARK_COLUMN] == run_id
        rows = [tuple(r) for r in conn.execute(select(*key).where(mine).order_by(*key))]
        chosen = set(rng.sample(rows, max(1, int(len(rows) * share))))
        # Rows that reference a doomed row go too (parents are decided first: foreign-key order; a table's
        # reference to itself last, so that it also catches rows doomed through the other keys).
        for fk in sorted(table.foreign_keys, key=lambda fk: fk.column.table.name == name):
            parent = fk.column.table.name
            parents = doomed.get(parent, set()) if parent != name else {(i,) for (i,) in chosen}
            if parents:
                ids = [p[0] for p in parents]
                chosen |= {
                    tuple(r) for r in conn.execute(select(*key).where(table.c[fk.parent.name].in_(ids)))
                }
        doomed[name] = chosen
    for name in reversed(registry.seeded_tables()):
        table = Base.metadata.tables[name]
        key = [c for c in table.primary_key.columns]
        for row in sorted(doomed[name], reverse=True):  # replies (higher ids) before their parents
            conn.execute(delete(table).where(*(c == v for c, v in zip(key, row, strict=True))))


@pytest.mark.parametrize("scenario", ["", "test"], ids=["generated", "with-scenario"])
def test_top_up_restores_exactly_the_deleted_rows(engine: Engine, scenario: str) -> None:
    """Scripted rows of a scenario are restored like generated ones: they live in the same id blocks."""
    first = seed(engine, "test", seed=5, scenario=scenario)
    with engine.connect() as conn:
        original = canonical_dump(conn, first.run_id)
    with engine.begin() as conn:
        _delete_random_seeded_rows(conn, first.run_id or 0, random.Random(7), 0.2)
        before = audit.compare_run(conn, first.run_id or 0)
    assert before.total("missing") > 0 and all(t.drifted == 0 for t in before.tables)
    again = seed(engine, "test", seed=5, scenario=scenario)
    assert again.skipped_for_run == first.run_id
    assert again.restored == {t.table: t.missing for t in before.tables if t.missing}
    with engine.connect() as conn:
        assert canonical_dump(conn, first.run_id) == original
        after = audit.compare_run(conn, first.run_id or 0)
    assert after.total("missing") == 0 and after.complete


def test_real_rows_untouched_by_top_up_and_refresh(engine: Engine) -> None:
    first = seed(engine, "test", seed=3)
    run_id = first.run_id or 0
    users = run_blocks_first(engine, run_id)
    with engine.begin() as conn:
        real = insert_real_rows(conn)
        # Real rows that reference seeded ones: a message by a seeded user in a seeded channel, a reaction.
        message = conn.execute(
            insert(Message)
            .values(
                content="real",
                created_at=T0,
                updated_at=T0,
                user_id=users["users"],
                channel_id=users["channels"],
            )
            .returning(Message.id)
        ).scalar_one()
        real.messages.append(int(message))
        reaction = conn.execute(
            insert(MessageReaction)
            .values(message_id=users["messages"], reaction_id=1, user_id=real.users[0], created_at=T0)
            .returning(MessageReaction.id)
        ).scalar_one()
        real.reactions.append(int(reaction))
        real_before = real_rows_dump(conn, real)
        seeded_replies = Message.parent_id.is_not(None) & Message.id.not_in(real.messages)
        reply_ids = conn.execute(select(Message.id).where(seeded_replies)).scalars().all()
        conn.execute(
            delete(MessageReaction)
            .where(MessageReaction.message_id.in_(reply_ids))
            .where(MessageReaction.id != reaction)
        )
        conn.execute(delete(Message).where(Message.id.in_(reply_ids)).where(Message.id != message))
        conn.execute(update(User).where(User.id == users["users"]).values(name="Renamed by the app"))
    with engine.begin() as conn:
        summary = seed_database(conn, make_options("test", seed=3), refresh=True)
    assert summary.restored and summary.topup is not None
    assert {t.table: t.refreshed for t in summary.topup.tables}["users"] == 1
    with engine.connect() as conn:
        assert real_rows_dump(conn, real) == real_before
        assert audit.compare_run(conn, run_id).total("drifted") == 0


def run_blocks_first(engine: Engine, run_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: first for name, (first, _last, _n) in run_blocks(conn, run_id).items()}


def _independent_counts(
    conn: Connection, run_id: int, expected: dict[str, dict[int, dict[str, Any]]]
) -> dict[str, Any]:
    """Written/present/missing/drifted per table counted with plain SQL against the rows saved at seeding."""
    blocks = run_blocks(conn, run_id)
    counts: dict[str, Any] = {}
    for name in registry.id_block_tables():
        table = Base.metadata.tables[name]
        first, last, written = blocks[name]
        rows = {
            r.id: dict(r._mapping) for r in conn.execute(select(table).where(table.c.id.between(first, last)))
        }
        drifted = sum(1 for i, row in rows.items() if row != expected[name][i])
        counts[name] = (written, len(rows), written - len(rows), drifted)
    return counts


def test_audit_numbers_match_independent_counts(engine: Engine) -> None:
    first = seed(engine, "test", seed=9)
    run_id = first.run_id or 0
    with engine.connect() as conn:
        blocks = run_blocks(conn, run_id)
        expected = {
            name: {
                r.id: dict(r._mapping)
                for r in conn.execute(
                    select(Base.metadata.tables[name]).where(
                        Base.metadata.tables[name].c.id >= blocks[name][0]
                    )
                )
            }
            for name in registry.id_block_tables()
        }
    with engine.begin() as conn:
        _delete_random_seeded_rows(conn, run_id, random.Random(11), 0.1)
        # After the deletes: no id comes back (AUTOINCREMENT on SQLite), so real rows stay out of the blocks.
        real = insert_real_rows(conn)
        firsts = {name: b[0] for name, b in blocks.items()}
        conn.execute(
            update(User).where(User.id.in_([firsts["users"], firsts["users"] + 1])).values(bio="edited")
        )
        conn.execute(
            update(Message)
            .where(Message.id == select(func.max(Message.id)).scalar_subquery())
            .values(content="edited")
        )
    with engine.connect() as conn:
        report = audit.audit_database(conn, samples=3)
        independent = _independent_counts(conn, run_id, expected)
        real_counts = {
            name: len(getattr(real, attr))
            for name, attr in (
                ("users", "users"),
                ("channels", "channels"),
                ("messages", "messages"),
                ("message_reactions", "reactions"),
            )
        }
    (run,) = report.runs
    by_table = {t.table: t for t in run.tables}
    assert sum(v[3] for v in independent.values()) >= 2, "the edits are drift"
    for name, (written, present, missing, drifted) in independent.items():
        t = by_table[name]
        assert (t.written, t.present, t.missing, t.drifted) == (written, present, missing, drifted), name
        assert len(t.samples["missing"]) == min(3, missing)
    for name, count in real_counts.items():
        assert report.real[name] == count, name


def test_satisfied_run_is_a_no_op_that_regenerates_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = seed(engine, "test", seed=4)

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a complete run must not be regenerated")

    monkeypatch.setattr(audit, "Dataset", refuse)
    again = seed(engine, "test", seed=4)
    assert again.skipped_for_run == first.run_id and again.restored == {}
    assert again.topup is not None and again.topup.complete and not again.topup.compared


def test_audit_cli_json_and_text(db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    first = seed(engine, "test", seed=2)
    with engine.begin() as conn:
        conn.execute(delete(MessageReaction))
    assert (
        run_cli(audit_command.run, audit_command.build_parser("audit"), ["--database-url", db_url, "--json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    reactions = data["runs"][0]["tables"]["message_reactions"]
    assert data["runs"][0]["run_id"] == first.run_id
    assert reactions["present"] == 0 and reactions["missing"] == reactions["written"] > 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(MessageReaction)).scalar_one() == 0, (
            "audit changed nothing"
        )
    assert run_cli(audit_command.run, audit_command.build_parser("audit"), ["--database-url", db_url]) == 0
    out = capsys.readouterr().out
    assert f"run {first.run_id}" in out and "message_reactions" in out
    assert (
        run_cli(
            audit_command.run, audit_command.build_parser("audit"), ["--database-url", db_url, "--run", "999"]
        )
        == 2
    )
    assert "--run 999: no such seed run" in capsys.readouterr().err


def test_seed_command_audit_refresh_and_topup_output(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    from backend.commands import seed as seed_command

    args = ["--database-url", db_url, "--profile", "test", "--seed", "6", "--as-of", "2026-06-01", "--quiet"]

    def cli(*extra: str) -> int:
        return run_cli(seed_command.run, seed_command.build_parser("seed_data.py"), [*args, *extra])

    assert cli("--audit") == 0
    assert "no seed run with these options yet" in capsys.readouterr().out
    assert cli() == 0
    with engine.begin() as conn:
        gone = conn.execute(delete(MessageReaction)).rowcount
    assert cli("--audit", "--append") == 2
    assert "--audit changes nothing" in capsys.readouterr().err
    args.remove("--quiet")
    assert cli() == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert out.startswith("topped up run") and rows["message_reactions"] == [str(gone), "0", "0"]
    assert cli() == 0
    assert "all its rows; nothing to do" in capsys.readouterr().out


def test_audit_of_an_unmigrated_database_fails_with_one_line(
    empty_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(audit_command.run, audit_command.build_parser("audit"), ["--database-url", empty_db_url])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not migrated" in err and len(err.strip().splitlines()) == 1
