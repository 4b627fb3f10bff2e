"""verify: every invariant holds on a small valid chat, and each one catches exactly its own violation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, insert, select

from backend.cli_support import run_cli
from backend.commands.verify import build_parser, run
from backend.models import Channel, Message, MessageReaction, Reaction, User, UserChannel
from backend.schema import MIGRATE_COMMAND
from backend.seeding.verify import INVARIANTS, InvariantResult, check_invariants

# Fixed and in the past, so the command (which uses the real clock) sees nothing in the future.
BASE = datetime(2025, 1, 1, 12, tzinfo=UTC)
NOW = BASE + timedelta(days=30)
Chat = dict[str, int]


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


def _user(conn: Connection, name: str, created_at: datetime) -> int:
    values = {"auth0_id": f"auth0|{name}", "email": f"{name}@example.com", "is_active": True, "name": name}
    stmt = insert(User).values(created_at=created_at, **values).returning(User.id)
    return int(conn.execute(stmt).scalar_one())


def _channel(conn: Connection, name: str, owner: int, created_at: datetime, **flags: Any) -> int:
    values = {"is_private": False, "is_dm": False, "join_code": None} | flags
    stmt = insert(Channel).values(name=name, owner_id=owner, created_at=created_at, **values)
    return int(conn.execute(stmt.returning(Channel.id)).scalar_one())


def _join(conn: Connection, user: int, channel: int, joined_at: datetime) -> tuple[int, int]:
    conn.execute(insert(UserChannel).values(user_id=user, channel_id=channel, joined_at=joined_at))
    return (user, channel)


def _message(
    conn: Connection,
    user: int,
    channel: int,
    created_at: datetime,
    parent: int | None = None,
    updated_at: datetime | None = None,
) -> int:
    stmt = insert(Message).values(
        content="hello",
        user_id=user,
        channel_id=channel,
        parent_id=parent,
        created_at=created_at,
        updated_at=updated_at or created_at,
    )
    return int(conn.execute(stmt.returning(Message.id)).scalar_one())


def _react(conn: Connection, message: int, reaction: int, user: int, created_at: datetime) -> int:
    stmt = insert(MessageReaction).values(
        message_id=message, reaction_id=reaction, user_id=user, created_at=created_at
    )
    return int(conn.execute(stmt.returning(MessageReaction.id)).scalar_one())


def build_chat(conn: Connection) -> Chat:
    """Three users, a public channel, a private one with a join code and a DM, with posts, a reply and
    reactions; the latest timestamp is at(6)."""
    c: Chat = {}
    c["r1"], c["r2"] = conn.execute(select(Reaction.id).order_by(Reaction.id).limit(2)).scalars()
    for name in ("alice", "bob", "carol"):
        c[name] = _user(conn, name, at(0))
    c["general"] = _channel(conn, "general", c["alice"], at(1))
    c["secret"] = _channel(conn, "secret", c["bob"], at(1), is_private=True, join_code="S3CRET")
    c["dm"] = _channel(conn, "alice-bob", c["alice"], at(1), is_private=True, is_dm=True)
    for user, channel in [
        ("alice", "general"),
        ("bob", "general"),
        ("carol", "general"),
        ("bob", "secret"),
        ("carol", "secret"),
        ("alice", "dm"),
        ("bob", "dm"),
    ]:
        _join(conn, c[user], c[channel], at(2))
    c["post"] = _message(conn, c["alice"], c["general"], at(3), updated_at=at(6))
    c["reply"] = _message(conn, c["bob"], c["general"], at(4), parent=c["post"])
    c["secret_post"] = _message(conn, c["carol"], c["secret"], at(3))
    c["dm_post"] = _message(conn, c["bob"], c["dm"], at(3))
    _react(conn, c["post"], c["r1"], c["bob"], at(5))
    _react(conn, c["post"], c["r2"], c["carol"], at(5))
    _react(conn, c["dm_post"], c["r1"], c["alice"], at(5))
    return c


def drop_constraint(conn: Connection, table: str, name: str, type_: str) -> None:
    """Drop a constraint so a test can store what the schema forbids; batch mode rebuilds SQLite tables."""
    with Operations(MigrationContext.configure(conn)).batch_alter_table(table) as batch:
        batch.drop_constraint(name, type_=type_)


def failures(results: list[InvariantResult]) -> dict[str, InvariantResult]:
    return {r.name: r for r in results if r.violations}


@dataclass(frozen=True)
class Case:
    invariant: str
    make: Callable[[Connection, Chat], object]  # inserts the violation, returns the offending id
    drop: tuple[tuple[str, str, str], ...] = ()  # (table, constraint, type) the schema would enforce
    also: tuple[str, ...] = ()  # other invariants the same rows necessarily break


def _new_user_joins(conn: Connection, c: Chat, created: datetime, joined: datetime) -> tuple[int, int]:
    return _join(conn, _user(conn, "dave", created), c["general"], joined)


def _late_message_by_new_member(conn: Connection, c: Chat) -> int:
    dave, general = _new_user_joins(conn, c, at(0), at(10))
    return _message(conn, dave, general, at(5))


def _reaction_before_reactor_joined(conn: Connection, c: Chat) -> int:
    dave, _general = _new_user_joins(conn, c, at(0), at(10))
    return _react(conn, c["post"], c["r1"], dave, at(5))


def _third_dm_member(conn: Connection, c: Chat) -> int:
    _join(conn, c["carol"], c["dm"], at(2))
    return c["dm"]


def _duplicate_reaction(conn: Connection, c: Chat) -> tuple[int, int, int]:
    _react(conn, c["post"], c["r1"], c["bob"], at(5))
    return (c["post"], c["r1"], c["bob"])


def _dm_without_owner(conn: Connection, c: Chat) -> int:
    dm = _channel(conn, "dm2", c["carol"], at(1), is_private=True, is_dm=True)
    _join(conn, c["alice"], dm, at(2))
    _join(conn, c["bob"], dm, at(2))
    return dm


def _channel_with_members(conn: Connection, c: Chat, members: list[str], **flags: Any) -> int:
    channel = _channel(conn, "extra", c["alice"], at(1), **flags)
    for member in members:
        _join(conn, c[member], channel, at(2))
    return channel


def _future_channel(conn: Connection, c: Chat) -> int:
    channel = _channel(conn, "future", c["alice"], NOW + timedelta(hours=1))
    _join(conn, c["alice"], channel, NOW + timedelta(hours=1))
    return channel


def _late_channel_joined_early(conn: Connection, c: Chat) -> tuple[int, int]:
    channel = _channel(conn, "late", c["alice"], at(10))
    return _join(conn, c["alice"], channel, at(9))


JOIN_CODE_CHECK = ("channels", "ck_channels_join_code_iff_private_group", "check")
DM_PRIVATE_CHECK = ("channels", "ck_channels_dm_is_private", "check")

CASES: dict[str, Case] = {
    "dm_third_member": Case("dm_has_two_members", _third_dm_member),
    # The owner of a DM is also a channel owner, so owner_is_member reports it too.
    "dm_without_owner": Case("dm_has_two_members", _dm_without_owner, also=("owner_is_member",)),
    "owner_not_member": Case("owner_is_member", lambda conn, c: _channel_with_members(conn, c, ["bob"])),
    "join_code_on_public": Case(
        "channel_privacy",
        lambda conn, c: _channel_with_members(conn, c, ["alice"], join_code="OPEN"),
        drop=(JOIN_CODE_CHECK,),
    ),
    "private_without_join_code": Case(
        "channel_privacy",
        lambda conn, c: _channel_with_members(conn, c, ["alice"], is_private=True),
        drop=(JOIN_CODE_CHECK,),
    ),
    "public_dm": Case(
        "channel_privacy",
        lambda conn, c: _channel_with_members(conn, c, ["alice", "bob"], is_dm=True),
        drop=(JOIN_CODE_CHECK, DM_PRIVATE_CHECK),
    ),
    "author_not_member": Case("author_is_member", lambda conn, c: _message(conn, c["carol"], c["dm"], at(4))),
    "reply_author_not_member": Case(
        "author_is_member",
        lambda conn, c: _message(conn, c["alice"], c["secret"], at(4), parent=c["secret_post"]),
    ),
    "reactor_not_member": Case(
        "reactor_is_member", lambda conn, c: _react(conn, c["dm_post"], c["r2"], c["carol"], at(5))
    ),
    "reply_to_reply": Case(
        "reply_parent_is_top_level",
        lambda conn, c: _message(conn, c["carol"], c["general"], at(5), parent=c["reply"]),
    ),
    "reply_in_other_channel": Case(
        "reply_in_parent_channel",
        lambda conn, c: _message(conn, c["carol"], c["secret"], at(4), parent=c["post"]),
    ),
    # Same instant as the parent: a reply must come strictly after it.
    "reply_with_parent_time": Case(
        "reply_after_parent",
        lambda conn, c: _message(conn, c["carol"], c["general"], at(3), parent=c["post"]),
    ),
    "duplicate_reaction": Case(
        "reaction_unique",
        _duplicate_reaction,
        drop=(("message_reactions", "uq_message_reactions_message_id_reaction_id_user_id", "unique"),),
    ),
    "reaction_before_message": Case(
        "reaction_after_message", lambda conn, c: _react(conn, c["reply"], c["r1"], c["alice"], at(3.5))
    ),
    "joined_before_user_created": Case(
        "joined_after_created", lambda conn, c: _new_user_joins(conn, c, at(10), at(2))
    ),
    "joined_before_channel_created": Case("joined_after_created", _late_channel_joined_early),
    "message_before_author_joined": Case("message_after_author_joined", _late_message_by_new_member),
    "reaction_before_reactor_joined": Case("reaction_after_reactor_joined", _reaction_before_reactor_joined),
    "updated_before_created": Case(
        "updated_after_created",
        lambda conn, c: _message(conn, c["alice"], c["general"], at(5), updated_at=at(4)),
        drop=(("messages", "ck_messages_updated_after_created", "check"),),
    ),
    "user_in_future": Case(
        "users_not_in_future", lambda conn, c: _user(conn, "dave", NOW + timedelta(seconds=1))
    ),
    # Its owner can only join at or after it was created, so in the future too.
    "channel_in_future": Case("channels_not_in_future", _future_channel, also=("memberships_not_in_future",)),
    # One microsecond past now: the bound parameter must keep full precision on both backends.
    "membership_in_future": Case(
        "memberships_not_in_future",
        lambda conn, c: _new_user_joins(conn, c, at(0), NOW + timedelta(microseconds=1)),
    ),
    "message_in_future": Case(
        "messages_not_in_future",
        lambda conn, c: _message(conn, c["alice"], c["general"], NOW + timedelta(days=1)),
    ),
    "edit_in_future": Case(
        "messages_not_in_future",
        lambda conn, c: _message(conn, c["alice"], c["general"], at(5), updated_at=NOW + timedelta(hours=1)),
    ),
    "reaction_in_future": Case(
        "reactions_not_in_future",
        lambda conn, c: _react(conn, c["post"], c["r1"], c["carol"], NOW + timedelta(hours=1)),
    ),
}


def test_every_invariant_has_a_violation_case() -> None:
    names = [i.name for i in INVARIANTS]
    assert len(names) == len(set(names))
    assert {case.invariant for case in CASES.values()} == set(names)


def test_valid_chat_passes(engine: Engine) -> None:
    with engine.begin() as conn:
        build_chat(conn)
        # now equal to the latest timestamp is not "later than now".
        results = check_invariants(conn, now=at(6))
    assert [r.name for r in results] == [i.name for i in INVARIANTS]
    assert failures(results) == {}
    assert all(r.sample_ids == () for r in results)


def test_empty_database_passes(engine: Engine) -> None:
    with engine.connect() as conn:
        assert failures(check_invariants(conn)) == {}


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_violation_is_caught_by_its_invariant_only(engine: Engine, case_name: str) -> None:
    case = CASES[case_name]
    with engine.begin() as conn:
        # Before any rows: rebuilding a referenced SQLite table must not trip its foreign keys.
        for table, name, type_ in case.drop:
            drop_constraint(conn, table, name, type_)
        offending = case.make(conn, build_chat(conn))
        failed = failures(check_invariants(conn, now=NOW))
    assert set(failed) == {case.invariant, *case.also}
    assert failed[case.invariant].violations == 1
    assert failed[case.invariant].sample_ids == (offending,)


def test_count_is_complete_and_sample_is_first_five_sorted(engine: Engine) -> None:
    with engine.begin() as conn:
        build_chat(conn)
        future = sorted(_user(conn, f"future{n}", NOW + timedelta(minutes=n)) for n in range(1, 8))
        (result,) = [r for r in check_invariants(conn, now=NOW) if r.name == "users_not_in_future"]
    assert result.violations == 7
    assert result.sample_ids == tuple(future[:5])


def test_now_is_an_instant_in_any_time_zone(engine: Engine) -> None:
    with engine.begin() as conn:
        build_chat(conn)
        latest_elsewhere = at(6).astimezone(timezone(timedelta(hours=5)))
        assert failures(check_invariants(conn, now=latest_elsewhere)) == {}
        just_before = failures(check_invariants(conn, now=at(6) - timedelta(microseconds=1)))
        assert set(just_before) == {"messages_not_in_future"}
        with pytest.raises(ValueError, match="timezone-aware"):
            check_invariants(conn, now=datetime(2025, 1, 1))


def test_now_defaults_to_the_current_time(engine: Engine) -> None:
    with engine.begin() as conn:
        build_chat(conn)
        tomorrow = _user(conn, "tomorrow", datetime.now(UTC) + timedelta(days=1))
        failed = failures(check_invariants(conn))
    assert set(failed) == {"users_not_in_future"}
    assert failed["users_not_in_future"].sample_ids == (tomorrow,)


def _verify(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    code = run_cli(run, build_parser("seed_data.py verify"), ["--database-url", db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_passes_on_a_valid_database(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as conn:
        build_chat(conn)
    code, out, err = _verify(capsys, db_url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:-1] == [f"ok   {i.name}" for i in INVARIANTS]
    assert lines[-1] == f"all {len(INVARIANTS)} invariants hold"


def test_command_fails_on_a_broken_database(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as conn:
        c = build_chat(conn)
        bad = _message(conn, c["carol"], c["dm"], at(4))
    code, out, _err = _verify(capsys, db_url)
    assert code == 1
    assert f"FAIL author_is_member: 1 violation(s), e.g. ids {bad} (" in out
    assert "ok   owner_is_member" in out
    assert out.splitlines()[-1] == f"1 of {len(INVARIANTS)} invariants failed"


def test_command_json(engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with engine.begin() as conn:
        c = build_chat(conn)
        bad = _react(conn, c["dm_post"], c["r2"], c["carol"], at(5))
    code, out, _err = _verify(capsys, db_url, "--json")
    assert code == 1
    payload = json.loads(out)
    assert payload["ok"] is False
    by_name = {item["name"]: item for item in payload["invariants"]}
    assert list(by_name) == [i.name for i in INVARIANTS]
    assert by_name["reactor_is_member"]["violations"] == 1
    assert by_name["reactor_is_member"]["sample_ids"] == [bad]
    assert by_name["author_is_member"] == {
        "name": "author_is_member",
        "description": by_name["author_is_member"]["description"],
        "violations": 0,
        "sample_ids": [],
    }


def test_command_refuses_an_unmigrated_database(
    empty_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _verify(capsys, empty_db_url)
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert MIGRATE_COMMAND in err
    assert "Traceback" not in err
