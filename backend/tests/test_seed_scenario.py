"""Seeding with a scenario, on both backends: the scripted rows exactly as written, generated data around
them, the ledger's guarantees (identity, re-runs, cleanup) and refusals before any write."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, select

from backend.models import Reaction, User
from backend.seeding.runner import SeedError
from backend.seeding.scenario import load_scenario, scenario_path, window
from backend.seeding.scripted import layout
from backend.seeding.verify import check_invariants
from backend.tests.helpers import run_script
from backend.tests.seed_helpers import (
    AS_OF,
    AS_OF_DATE,
    Chat,
    corpus_runs,
    fetch_chat,
    insert_real_rows,
    message_kind,
    real_rows_dump,
    seed,
    table_counts,
)

TEST_SCENARIO = load_scenario(scenario_path("test"))
WINDOW_START = AS_OF_DATE - timedelta(days=180)  # the test profile's window


def seeded(engine: Engine, **overrides: object) -> tuple[Chat, dict[int, str]]:
    seed(engine, "test", scenario="test", **overrides)
    with engine.connect() as conn:
        codes = dict(conn.execute(select(Reaction.id, Reaction.code)).all())
        return fetch_chat(conn), codes


def test_scripted_rows_are_written_as_scripted(engine: Engine) -> None:
    chat, codes = seeded(engine)
    ada, ben, cy = chat.users[:3]  # the scenario's users come first in the run
    assert (ada["name"], ada["email"], ada["bio"], ada["is_active"]) == (
        "Ada Admin",
        "ada@scenario.example.com",
        "Admin of the test workspace.",
        True,
    )
    assert ada["created_at"].date() == WINDOW_START and ada["created_at"].hour == 8
    assert (ben["bio"], ben["is_active"]) == (None, False)
    assert cy["name"] and cy["email"].endswith((".com", ".org", ".net")), "left out: generated"
    incident, secret, plans, dm = chat.channels[:4]
    assert (incident["name"], incident["description"], incident["is_private"]) == (
        "incident",
        "Incidents and their follow-ups",
        False,
    )
    assert (secret["name"], secret["join_code"], secret["owner_id"]) == ("secret", "TESTCODE1", ben["id"])
    assert plans["is_private"] and plans["join_code"] is not None, "a private channel's code is generated"
    assert (dm["name"], dm["is_dm"], dm["description"]) == ("Ada Admin DM", True, None)
    assert set(chat.members[incident["id"]]) == {ada["id"], ben["id"], cy["id"]}
    assert set(chat.members[dm["id"]]) == {ada["id"], ben["id"]}
    in_incident = sorted(
        (m for m in chat.messages if m["channel_id"] == incident["id"]), key=lambda m: m["id"]
    )
    top, reply1, reply2, later = in_incident[:4]
    assert top["content"] == "@ben the API returns 500s, can you look?" and top["user_id"] == ada["id"]
    assert (reply1["parent_id"], reply2["parent_id"], later["parent_id"]) == (top["id"], top["id"], None)
    assert reply1["created_at"] - top["created_at"] == timedelta(minutes=2)
    assert reply1["updated_at"] - reply1["created_at"] == timedelta(minutes=1)
    assert "```" in reply2["content"] and reply2["user_id"] == cy["id"]
    assert top["created_at"].date() == WINDOW_START + timedelta(days=1)
    reactions = sorted(
        (codes[r["reaction_id"]], r["user_id"]) for r in chat.reactions if r["message_id"] == top["id"]
    )
    assert reactions == sorted([("thumbsup", ben["id"]), ("thumbsup", cy["id"]), ("fire", ada["id"])])


def test_generated_data_fills_in_around_the_script(engine: Engine) -> None:
    chat, _codes = seeded(engine)
    assert len(chat.users) == 3 + 8 and len(chat.channels) == 4 + 5
    incident = chat.channels[0]
    scripted_ids = sorted(m["id"] for m in chat.messages if m["channel_id"] == incident["id"])[:4]
    script_end = max(
        [m["updated_at"] for m in chat.messages if m["id"] in scripted_ids]
        + [r["created_at"] for r in chat.reactions if r["message_id"] in scripted_ids]
    )
    after = [m for m in chat.messages if m["channel_id"] == incident["id"] and m["id"] not in scripted_ids]
    assert after, "the profile's messages follow the script in a scripted channel"
    assert all(m["created_at"] > script_end for m in after)
    generated_channels = chat.channels[4:]
    scripted_users = {u["id"] for u in chat.users[:3]}
    assert any(scripted_users & set(chat.members[c["id"]]) for c in generated_channels)
    with engine.connect() as conn:
        assert [r.name for r in check_invariants(conn) if not r.ok] == []


def test_generated_rows_around_a_script_are_corpus_conversations_with_exact_counts(engine: Engine) -> None:
    """The realism planner writes the generated rows of scripted and generated channels alike: exactly
    messages_per_channel top-level messages each (after the script in a scripted channel), corpus text,
    every user in a channel."""
    chat, _codes = seeded(engine, messages_per_channel=12)
    script = layout(TEST_SCENARIO, *window(AS_OF_DATE, 180))
    scripted_ids: set[int] = set()
    for c, content in enumerate(script.contents):
        in_channel = sorted(m["id"] for m in chat.messages if m["channel_id"] == chat.channels[c]["id"])
        scripted_ids.update(in_channel[: len(content.messages)])
    generated = [m for m in chat.messages if m["id"] not in scripted_ids]
    tops = Counter(m["channel_id"] for m in generated if m["parent_id"] is None)
    assert tops == {c["id"]: 12 for c in chat.channels}
    utterances = corpus_runs()
    kinds = Counter(message_kind(m["content"], utterances) for m in generated)
    assert kinds["?"] < 0.05 * len(generated), kinds
    assert {m["user_id"] for m in chat.memberships} == set(chat.user), "every user is in a channel"


@pytest.mark.parametrize("spread", ["uniform", "skewed"])
def test_a_scenario_with_a_message_spread_and_lurkers_keeps_every_invariant(
    engine: Engine, spread: str
) -> None:
    chat, _codes = seeded(engine, users=30, channels=12, message_spread=spread, lurker_share=0.2)
    incident = chat.channels[0]
    in_incident = sorted(
        (m for m in chat.messages if m["channel_id"] == incident["id"]), key=lambda m: m["id"]
    )
    assert in_incident[0]["content"] == "@ben the API returns 500s, can you look?"
    with engine.connect() as conn:
        assert [r.name for r in check_invariants(conn) if not r.ok] == []


def test_a_second_run_of_the_same_scenario_writes_nothing_and_an_edited_one_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    first = seed(engine, "test", scenario="test")
    again = seed(engine, "test", scenario="test")
    assert again.skipped_for_run == first.run_id
    edited = tmp_path / "edited.yaml"
    edited.write_bytes(scenario_path("test").read_bytes() + b"\n# edited\n")
    with pytest.raises(SeedError, match=r"edited\.yaml: 'ada@scenario\.example\.com' already exists"):
        seed(engine, "test", scenario=str(edited))


def test_a_join_code_taken_by_a_real_channel_is_refused(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        insert_real_rows(conn)
    path = tmp_path / "taken.yaml"
    path.write_text(
        "users:\n  a: {}\n  b: {}\nchannels:\n  c: {kind: private, owner: a, join_code: REALCODE}\n",
        encoding="utf-8",
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE channels SET join_code = 'REALCODE' WHERE is_private")
    with pytest.raises(SeedError, match="'REALCODE' already exists in the database"):
        seed(engine, "test", scenario=str(path))


def _scenario_emails(conn: Connection) -> list[str]:
    emails = [u.email for u in TEST_SCENARIO.users if u.email]
    return list(conn.execute(select(User.email).where(User.email.in_(emails))).scalars())


def test_cleanup_removes_the_scripted_rows_and_keeps_real_ones(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        real = insert_real_rows(conn)
        before = real_rows_dump(conn, real)
    seeded_run = run_script("seed_data.py", "--profile", "test", "--scenario", "test", "--as-of", AS_OF, "-q",
                            database_url=db_url)  # fmt: skip
    assert seeded_run.returncode == 0, seeded_run.stderr
    with engine.connect() as conn:
        assert len(_scenario_emails(conn)) == 2
    status = run_script("seed_data.py", "status", database_url=db_url)
    assert status.returncode == 0 and "users" in status.stdout
    result = run_script("cleanup_fake_data.py", "--yes", database_url=db_url)
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        assert _scenario_emails(conn) == []
        counts = table_counts(conn)
        assert counts["users"] == 3 and counts["messages"] == 3, "only the real rows are left"
        assert real_rows_dump(conn, real) == before


def test_the_cli_refuses_a_broken_scenario_before_writing(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "users:\n  ada: {}\n  ben: {}\n  cy: {}\nchannels:\n"
        "  trio: {kind: dm, owner: ada, members: [ben, cy]}\n",
        encoding="utf-8",
    )
    result = run_script("seed_data.py", "--profile", "test", "--scenario", str(path), database_url=db_url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"{path}:6:" in lines[0] and "(dm_has_two_members)" in lines[0]
    with engine.connect() as conn:
        assert sum(table_counts(conn).values()) == 0


@pytest.mark.chat_seed(scenario="test", users=2, channels=1)
def test_the_fixture_serves_a_scenario(seeded_connection: Connection) -> None:
    names = seeded_connection.execute(select(User.name).order_by(User.id)).scalars().all()
    assert names[:2] == ["Ada Admin", "Ben Builder"] and len(names) == 3 + 2
