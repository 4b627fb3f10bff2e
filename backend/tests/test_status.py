"""Status: total, seeded and real rows per table from the ledger, and the runs; text and JSON."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import Engine, delete, update

from backend.cli_support import run_cli
from backend.commands import status as status_command
from backend.models import MessageReaction, SeedRun
from backend.schema import MIGRATE_COMMAND
from backend.seeding import registry
from backend.seeding.status import collect_status, format_status
from backend.tests.ledger_fixtures import RealRows, SeededRun, write_real_rows, write_seeded_run


def _seeded_world(engine: Engine) -> tuple[RealRows, list[SeededRun]]:
    rng = random.Random(31)
    real = RealRows()
    runs = []
    with engine.begin() as conn:
        write_real_rows(conn, rng, real, rounds=30)
        runs.append(write_seeded_run(conn, rng))
        write_real_rows(conn, rng, real, rounds=30)
        runs.append(write_seeded_run(conn, rng, users=3, channels=2, messages=5, replies=2, reactions=4))
        write_real_rows(conn, rng, real, rounds=10)
    return real, runs


def test_counts_per_table(engine: Engine) -> None:
    real, runs = _seeded_world(engine)
    with engine.connect() as conn:
        status = collect_status(conn)
    by_table = {t.table: t for t in status.tables}
    assert list(by_table) == list(registry.seeded_tables())
    real_keys = real.keys()
    for name, table_status in by_table.items():
        seeded = sum(len(r.keys()[name]) for r in runs)
        assert table_status.seeded == seeded, name
        assert table_status.real == len(real_keys[name]), name
        assert table_status.total == seeded + len(real_keys[name]), name
    assert [(r.id, r.profile, r.rows_written) for r in status.runs] == [
        (run.run_id, "test", sum(run.row_counts().values())) for run in runs
    ]


def test_seeded_counts_are_rows_present_not_rows_written(engine: Engine) -> None:
    _real, runs = _seeded_world(engine)
    with engine.begin() as conn:
        conn.execute(delete(MessageReaction).where(MessageReaction.id == runs[0].reactions[0]))
        conn.execute(update(SeedRun).where(SeedRun.id == runs[1].run_id).values(row_counts_json="not json"))
    with engine.connect() as conn:
        status = collect_status(conn)
    reactions = next(t for t in status.tables if t.table == "message_reactions")
    assert reactions.seeded == len(runs[0].reactions) + len(runs[1].reactions) - 1
    assert status.runs[1].rows_written is None
    assert format_status(status).splitlines()[-1].split()[-1] == "?"


def test_empty_database(engine: Engine) -> None:
    with engine.connect() as conn:
        status = collect_status(conn)
    assert all(t.total == t.seeded == t.real == 0 for t in status.tables) and status.runs == ()
    assert format_status(status).endswith("seed runs: none")
    assert status.to_dict() == {
        "tables": {t.table: {"total": 0, "seeded": 0, "real": 0} for t in status.tables},
        "runs": [],
    }


def test_format_and_json(engine: Engine) -> None:
    _real, runs = _seeded_world(engine)
    with engine.connect() as conn:
        status = collect_status(conn)
    text = format_status(status)
    lines = text.splitlines()
    assert lines[0].split() == ["table", "total", "seeded", "real"]
    users = next(t for t in status.tables if t.table == "users")
    assert lines[1].split() == ["users", str(users.total), str(users.seeded), str(users.real)]
    assert "seed runs: 2" in text
    assert lines[-1].split()[0] == str(runs[-1].run_id)
    data = json.loads(json.dumps(status.to_dict()))
    assert data["tables"]["users"] == {"total": users.total, "seeded": users.seeded, "real": users.real}
    assert [r["id"] for r in data["runs"]] == [r.run_id for r in runs]
    assert data["runs"][0]["as_of"] == "2026-01-01"


def test_command(db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    _seeded_world(engine)
    parser = status_command.build_parser("seed_data.py status")
    assert run_cli(status_command.run, parser, ["--database-url", db_url]) == 0
    with engine.connect() as conn:
        expected = collect_status(conn)
    assert capsys.readouterr().out == format_status(expected) + "\n"
    assert run_cli(status_command.run, parser, ["--database-url", db_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected.to_dict()


def test_command_on_unmigrated_database(empty_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = status_command.build_parser("seed_data.py status")
    assert run_cli(status_command.run, parser, ["--database-url", empty_db_url]) == 1
    err = capsys.readouterr().err
    assert MIGRATE_COMMAND in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_command_hides_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    parser = status_command.build_parser("seed_data.py status")
    url = "postgresql+psycopg2://u:s3cret@127.0.0.1:1/x"
    assert run_cli(status_command.run, parser, ["--database-url", url]) == 1
    captured = capsys.readouterr()
    assert "s3cret" not in captured.err + captured.out and len(captured.err.strip().splitlines()) == 1
